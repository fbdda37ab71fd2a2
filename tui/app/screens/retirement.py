"""Can the old key be retired? The console's view of SHOW KMS RETIREMENT: a key-coverage matrix.

Rows are full backups, newest first; columns are the verdict and every key known: the one to
retire, the remaining ones, then any other key the session has seen (those are not part of the
proof, so they show only present ○ or absent ✗). Cells are proven ✓ / present but unproven ○ /
absent ✗ / damaged !, coloured from the theme's variables. The verdict sits above the matrix,
the report key below. The check runs in a worker thread through the same Executor (and so the
same engine call and audit journal) as batch and the shell.

`CoverageMatrix` is the one matrix widget: this screen and the guided rotation's last step
(tui/app/screens/rotation_modal.py) both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static
from textual.worker import Worker, WorkerState

from syntax import SQLSyntaxError, ast, parse, quote_string
from syntax.uri import contains_secret
from syntax.redact import redact_text
from tui.shared import safe_error

if TYPE_CHECKING:
    from engine.execute import Result
    from engine.retirement import BackupProof, KeyInfo, RetirementReport

# cell state -> (glyph, theme variable)
CELL = {"proven": ("✓", "success"), "present": ("○", "warning"), "absent": ("✗", "error"),
        "damaged": ("!", "error")}
VERDICT_STYLE = {"safe": "success", "needs ALTER": "warning", "unreadable": "error",
                 "not KMS-encrypted": "secondary"}
ROLE = {"old": "retire", "remaining": "keep", "session": "seen"}
LEGEND = "✓ proven  ○ present, unproven  ✗ absent  ! damaged"
CHECK_GROUP = "retire-check"


def retirement_sql(old: str, collections: Sequence[str], remaining: Sequence[str]) -> str:
    colls = ", ".join(quote_string(c) for c in collections)
    keys = ", ".join(quote_string(k) for k in remaining)
    return f"SHOW KMS RETIREMENT {quote_string(old)} IN {colls} WITH KMS = ({keys})"


def split_uris(text: str) -> list[str]:
    """Several URIs in one field, separated by whitespace (a URI holds none)."""
    return [u for u in text.split() if u]


def key_name(uri: str, width: int = 14) -> str:
    """A short column name for a (redacted) KMS URI: the last part of its key path."""
    path = urlsplit(uri).path.strip("/")
    name = path.rsplit("/", 1)[-1] or uri
    return name if len(name) <= width else name[: width - 1] + "…"


def session_key_infos(uris: Sequence[str], named: Sequence[KeyInfo]) -> list[KeyInfo]:
    """Keys the session has seen that the check does not name (by fingerprint), as KeyInfos;
    a URI that does not parse is left out (it opens nothing)."""
    from engine.errors import RewrapError
    from engine.retirement import key_info
    from engine.kms import parse_kms_uri

    seen = {k.fingerprint for k in named}
    out = []
    for uri in uris:
        try:
            info = key_info(parse_kms_uri(uri), "session")
        except RewrapError:
            continue
        if info.fingerprint not in seen:
            seen.add(info.fingerprint)
            out.append(info)
    return out


def _session_cell(proof: BackupProof, key: KeyInfo) -> str:
    present = any(key.fingerprint in fps for fps in proof.keys.values())
    return "present" if present else "absent"


def matrix(report: RetirementReport, extra: Sequence[KeyInfo] = ()) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """(column labels, rows of (text, theme variable)) for a report, newest backup first."""
    keys = [report.old, *report.remaining, *extra]
    several = len(report.collections) > 1
    labels = ["backup", "verdict", *(f"{ROLE.get(k.role, k.role)} {key_name(k.uri)}" for k in keys)]
    rows = []
    for p in sorted(report.proofs, key=lambda p: (p.collection, p.backup.encode()), reverse=True):
        shown = f"{p.collection}{p.backup}" if several else p.backup
        cells = [(shown, ""), (p.verdict, VERDICT_STYLE.get(p.verdict, ""))]
        for k in keys:
            state = _session_cell(p, k) if k.role == "session" else p.cells.get(k.fingerprint, "absent")
            cells.append(CELL.get(state, ("?", "")))
        rows.append(cells)
    return labels, rows


def verdict_text(report: RetirementReport) -> tuple[str, str]:
    """The line above the matrix and its theme variable."""
    if report.retirable:
        return (f"'{report.old.uri}' can be retired: every backup opens with a remaining key "
                f"({report.kms_calls} KMS calls)", "success")
    return f"ERROR: {report.error()}", "error"


def theme_colour(widget: Any, name: str) -> str:
    """A theme variable ($success, …) as a Rich colour; '' stays unstyled."""
    return widget.app.get_css_variables().get(name, name) if name else ""


class CoverageMatrix(DataTable[Text]):
    """Full backups (newest first) by keys: which key is proven to open which backup."""

    DEFAULT_CSS = "CoverageMatrix { height: 1fr; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", **kwargs)
        self.keys_shown: list[KeyInfo] = []

    def show(self, report: RetirementReport, session_uris: Sequence[str] = ()) -> None:
        extra = session_key_infos(session_uris, [report.old, *report.remaining])
        labels, rows = matrix(report, extra)
        self.keys_shown = [report.old, *report.remaining, *extra]
        self.clear(columns=True)
        self.add_columns(*labels)
        for cells in rows:
            self.add_row(*(Text(t, style=theme_colour(self, c)) for t, c in cells))

    def key_legend(self) -> str:
        """Which column is which key: role, redacted URI and fingerprint."""
        return "   ".join(f"{ROLE.get(k.role, k.role)} {key_name(k.uri)} = {k.uri} ({k.fingerprint})"
                           for k in self.keys_shown)


def write_report_file(report: RetirementReport, report_dir: Path | None) -> tuple[str, str]:
    """Markdown + JSON side by side in `report_dir` (default: the data dir's reports/)."""
    from datetime import UTC, datetime

    from engine.paths import data_dir
    from engine.retirement import write_report

    where = report_dir or data_dir() / "reports"
    where.mkdir(parents=True, exist_ok=True)
    return write_report(report, str(where / f"retirement-{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}"))


class RetirementScreen(ModalScreen[None]):
    """SHOW KMS RETIREMENT as a screen: fields, verdict, matrix, report key."""

    DEFAULT_CSS = """
    RetirementScreen { align: center middle; }
    RetirementScreen > Vertical { width: 96%; height: 92%; border: thick $primary; background: $surface; padding: 0 1; }
    RetirementScreen Input { height: 3; }
    RetirementScreen #retire-verdict { height: auto; max-height: 4; text-style: bold; }
    RetirementScreen #retire-keys { height: auto; max-height: 3; color: $text-muted; }
    RetirementScreen #retire-footer { height: auto; color: $text-muted; }
    RetirementScreen Horizontal { height: 3; }
    RetirementScreen .-hidden { display: none; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("f5", "check", "Check", priority=True),
        Binding("ctrl+r", "report", "Write report", priority=True),
    ]
    TITLE_TEXT = "Can the old key be retired? A proof per full backup through the remaining keys' KMS."

    def __init__(
        self,
        run_sql: Callable[[ast.Statement], Result],
        *,
        collection: str = "",
        old_kms: str = "",
        remaining: Sequence[str] = (),
        report_dir: Path | None = None,
        session_keys: Callable[[], Sequence[str]] | None = None,
        check_now: bool = False,
        show_fields: bool = True,
    ) -> None:
        """`run_sql(sql) -> Result` runs the statement (the app's executor; called in a thread).
        `session_keys()` lists the KMS URIs the session knows (extra matrix columns)."""
        super().__init__()
        self.run_sql = run_sql
        self.initial = (collection, old_kms, " ".join(remaining))
        self.report_dir = report_dir
        self.session_keys = session_keys
        self.check_now = check_now
        self.show_fields = show_fields
        self.report: RetirementReport | None = None
        self.report_paths: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        coll, old, keep = self.initial
        fields = "" if self.show_fields else "-hidden"
        with Vertical():
            yield from self.compose_header()
            yield Input(coll, placeholder="collection URI(s), space-separated", id="retire-collection", classes=fields)
            yield Input(old, placeholder="KMS URI of the key to retire", id="retire-old", classes=fields)
            yield Input(keep, placeholder="KMS URI(s) that stay, space-separated", id="retire-keep", classes=fields)
            yield Static("", id="retire-verdict")
            yield CoverageMatrix(id="retire-matrix")
            yield Static("", id="retire-keys")
            yield Static(f"{LEGEND}    F5 check  Ctrl+R write report  Esc close", id="retire-footer")
            with Horizontal():
                yield Button("Check (F5)", id="retire-check", variant="primary")
                yield Button("Write report (Ctrl+R)", id="retire-report")
                yield Button("Close (Esc)", id="retire-close")

    def compose_header(self) -> ComposeResult:
        yield Label(self.TITLE_TEXT)

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.password = contains_secret(field.value)
        if self.check_now:
            self.action_check()

    @on(Input.Changed)
    def _mask(self, event: Input.Changed) -> None:
        """A field holding a secret is drawn masked (secrets never show on screen)."""
        event.input.password = contains_secret(event.value)

    @on(Button.Pressed, "#retire-check")
    def _check_pressed(self) -> None:
        self.action_check()

    @on(Button.Pressed, "#retire-report")
    def _report_pressed(self) -> None:
        self.action_report()

    @on(Button.Pressed, "#retire-close")
    def _close_pressed(self) -> None:
        self.action_close()

    def statement(self) -> str:
        colls = split_uris(self.query_one("#retire-collection", Input).value)
        old = self.query_one("#retire-old", Input).value.strip()
        keep = split_uris(self.query_one("#retire-keep", Input).value)
        return retirement_sql(old, colls, keep)

    def action_check(self) -> None:
        sql = self.statement()
        try:
            stmt = parse(sql)[0]  # the one parse: the AST is what runs
        except SQLSyntaxError as e:
            self.show_verdict(safe_error(e).splitlines()[0], "error")
            return
        self.report = None
        self.show_verdict("checking… (a KMS decrypt per backup, nothing is written)", "")
        self._check(stmt)

    @work(thread=True, exclusive=True, exit_on_error=False, group=CHECK_GROUP)
    def _check(self, stmt: ast.Statement) -> Result:
        return self.run_sql(stmt)

    @on(Worker.StateChanged)
    def _check_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != CHECK_GROUP:
            return
        if event.state is WorkerState.SUCCESS:
            self.show_result(event.worker.result)
        elif event.state is WorkerState.ERROR:
            error = event.worker.error
            self.show_verdict(f"ERROR: {safe_error(error) if error else 'failed'}", "error")

    def show_verdict(self, text: str, colour: str) -> None:
        self.query_one("#retire-verdict", Static).update(Text(redact_text(text), style=theme_colour(self, colour)))

    def show_result(self, result: Result | None) -> None:
        report: RetirementReport | None = getattr(result, "report", None)
        self.report = report
        if report is None:
            self.show_verdict("ERROR: the check gave no report", "error")
            return
        self.show_verdict(*verdict_text(report))
        table = self.query_one(CoverageMatrix)
        table.show(report, self.session_keys() if self.session_keys else ())
        self.query_one("#retire-keys", Static).update(Text(redact_text(table.key_legend())))

    def action_report(self) -> None:
        if self.report is None:
            self.show_verdict("run the check first (F5)", "warning")
            return
        try:
            self.report_paths = write_report_file(self.report, self.report_dir)
        except OSError as e:
            self.show_verdict(f"report not written: {e.strerror or e}", "error")
            return
        md, js = self.report_paths
        self.query_one("#retire-footer", Static).update(f"report written: {md}, {js}")

    def action_close(self) -> None:
        self.dismiss(None)
