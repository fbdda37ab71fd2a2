"""F1: what every key does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

HELP = """\
# rewrap

A console for CockroachDB encrypted backup collections.

| key | where | does |
|---|---|---|
| F5, Ctrl+J | editor | run the statement under the cursor, the selection, or every statement when the cursor is past the last `;` |
| Ctrl+Space, Tab | editor | open completions; arrows move, Enter/Tab accept, Esc closes |
| Ctrl+Up / Ctrl+Down | editor | older / newer statement from the history |
| i / s / k | browser | insert the node's path / SHOW BACKUP (asks for the KMS URI when no known one opens the backup) / Add key (guided rotation) |
| Delete, x | browser | remove the collection from the browser and the remembered list (its backups are untouched) |
| r | browser | Retire key: can an old KMS key be disabled? (the collection of the node) |
| F6 / F7 / Esc | Add key dialog | dry run (nothing written) / run the statement (only after a dry run succeeded; when the key is added, the next step asks "Can the old key be retired?") / close |
| F5 / Ctrl+R | Retire key | run the check / write the retirement report (Markdown + JSON, in the data dir's reports/) |
| c / y | results | copy the cell / the row |
| Enter | results / progress / notices | the cell, the row's detail or the notices in full (Esc closes, c copies) |
| [ / ] | results | the previous / next statement's result of the last run |
| Ctrl+S | anywhere | export the shown result to a .csv, .tsv or .json (lines) file |
| Ctrl+B, F9 | anywhere | hide / show the collections and details sidebar |
| Ctrl+A / Ctrl+L / Ctrl+F | editor | select all / clear (Ctrl+Z undoes) / format every statement |
| F8 / Ctrl+G | editor | history browser (type to filter, Enter inserts) / every problem in full |
| Esc, Ctrl+C | anywhere, while a statement runs | cancel the running ALTER BACKUP (between steps; every backup stays readable); again: stop waiting |
| F2 / F3 / F4 | anywhere | focus editor / browser / results |
| Ctrl+P | anywhere | command palette: every action, add a collection, themes |
| F1 | anywhere | this help |
| Ctrl+Q | anywhere | quit; with work in flight it says what it waits for, and a second Ctrl+Q quits at once (every backup stays readable) |

Statements: `SHOW BACKUPS IN '<collection>'`, `SHOW BACKUP [FROM] <subdir|LATEST> IN '<collection>'
WITH KMS = '<uri>'`, `SHOW BACKUP KEYS FROM LATEST IN '<collection>'`,
`ALTER BACKUP LATEST IN '<collection>' ADD NEW_KMS = '<new>' WITH OLD_KMS = '<old>'`,
`ALTER BACKUP ALL IN '<collection>' ADD ...`,
`SHOW KMS RETIREMENT '<old kms>' IN '<collection>' [, ...] WITH KMS = '<remaining>' | ('<uri>', ...)`.

SHOW KMS RETIREMENT proves, one full backup at a time, that a remaining key opens it through its
KMS (the ENCRYPTION-INFO entry CockroachDB would use, and every manifest of the chain); it fails
unless every backup is safe. The matrix: ✓ proven, ○ present but unproven, ✗ absent, ! damaged.
Palette: "Retire key".

Secrets are never shown or stored: secret URI values (any case, any quoting), userinfo passwords
and ENCRYPTION_PASSPHRASE values are drawn as bullets while you type and redacted everywhere else.
"""


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; height: 85%; border: thick $primary; background: $surface; }
    """
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(HELP)
        yield Footer()  # its own keys (Esc closes), not the browser's underneath

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
