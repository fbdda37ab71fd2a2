"""The editor's modal lists: the history browser (F8) and the problems list (Ctrl+G), plus
`fit_status`, which fits a diagnostic to the status line without cutting a word.

Both lists show only redacted text (history entries are stored redacted; a diagnostic is
redacted again here); what the history browser returns is inserted into the buffer as stored.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from syntax.redact import redact_text
from tui.app.widgets.completion import fit_words

MAX_LISTED = 300  # options built at once (the filter searches every entry)

MODAL_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 96%; max-width: 140; height: auto; max-height: 90%;
                    border: thick $primary; background: $surface; padding: 0 1; }}
{name} OptionList {{ height: auto; max-height: 1fr; border: none; }}
{name} .keys {{ color: $text-muted; }}
"""


def fit_status(text: str, width: int, lines: int) -> str:
    """`text` as it fits `lines` wrapped lines of `width` cells: whole, or ending at a word
    boundary with "…"."""
    if width <= 0 or len(text) <= width:
        return text
    wrapped = textwrap.wrap(text, width, break_on_hyphens=False)
    if len(wrapped) <= lines:
        return text
    head = wrapped[: lines - 1]
    last = fit_words(" ".join(wrapped[lines - 1 :]), width)
    return " ".join([*head, last])


class HistoryBrowser(ModalScreen[str | None]):
    """History entries, newest first, filtered by what is typed above them; Enter picks one."""

    DEFAULT_CSS = MODAL_CSS.format(name="HistoryBrowser")
    BINDINGS = [Binding("escape", "dismiss_none", "Close")]

    def __init__(self, entries: Sequence[str]) -> None:
        super().__init__()
        self.entries = list(dict.fromkeys(reversed(entries)))  # newest first, each once
        self._clean: dict[str, str] = {}  # entry -> redacted, as far as shown so far
        self.shown: list[str] = self._matching([])

    def compose(self) -> ComposeResult:
        with Vertical():
            n = len(self.entries)
            more = f", the newest {MAX_LISTED} listed until you filter" if n > MAX_LISTED else ""
            yield Label(Text(f"History ({n} statement{'' if n == 1 else 's'}, newest first{more})"))
            yield Input(placeholder="filter", id="history-filter")
            yield OptionList(*[self._option(e) for e in self.shown], id="history-list")
            yield Label("type to filter  ↑↓ choose  Enter insert  Esc close", classes="keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.query_one(OptionList).highlighted = 0 if self.shown else None

    def _matching(self, words: list[str]) -> list[str]:
        """The first MAX_LISTED redacted entries holding every word (redacting only as many
        entries as it reads: a history holds up to 5,000)."""
        out: list[str] = []
        for e in self.entries:
            clean = self._clean.get(e)
            if clean is None:
                clean = self._clean[e] = redact_text(e)
            low = clean.lower()
            if all(w in low for w in words) and clean not in out:
                out.append(clean)
                if len(out) >= MAX_LISTED:
                    break
        return out

    @staticmethod
    def _option(entry: str) -> Option:
        return Option(Text(entry))

    def on_input_changed(self, event: Input.Changed) -> None:
        words = event.value.lower().split()
        self.shown = self._matching(words)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([self._option(e) for e in self.shown])
        options.highlighted = 0 if self.shown else None

    def on_key(self, event: events.Key) -> None:
        """Arrows move the list while the filter keeps the focus."""
        step = {"up": -1, "down": 1, "pageup": -5, "pagedown": 5}.get(event.key)
        if step is None or not self.shown:
            return
        options = self.query_one(OptionList)
        current = options.highlighted or 0
        options.highlighted = max(0, min(len(self.shown) - 1, current + step))
        event.stop()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._pick(self.query_one(OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(event.option_index)

    def _pick(self, index: int | None) -> None:
        if index is None or not self.shown:
            return
        self.dismiss(self.shown[index])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ProblemsList(ModalScreen[int | None]):
    """Every problem of the buffer, whole and wrapped; Enter moves the cursor to it."""

    DEFAULT_CSS = MODAL_CSS.format(name="ProblemsList")
    BINDINGS = [Binding("escape", "dismiss_none", "Close")]

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        super().__init__()
        self.problems = [(offset, redact_text(text)) for offset, text in problems]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(f"Problems ({len(self.problems)})"))
            yield OptionList(*[Option(Text(t)) for _, t in self.problems], id="problems-list")
            yield Label("↑↓ choose  Enter go to  Esc close", classes="keys")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.problems[event.option_index][0])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
