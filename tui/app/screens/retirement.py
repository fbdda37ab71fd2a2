"""Can the old key be retired? The console's view of SHOW KMS RETIREMENT: a key-coverage matrix.

Rows are full backups, newest first; columns are the verdict and every key named (the one to
retire, then the remaining ones), each cell proven ✓ / present but unproven ○ / absent ✗ /
damaged !, coloured from the theme. The verdict sits above the matrix, the report key below.
The check runs in a worker thread through the same Executor as batch and the shell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static

from syntax import SQLSyntaxError, parse, quote_string
from syntax.uri import contains_secret
from tui.shared import safe_error

CELL = {"proven": ("✓", "success"), "present": ("○", "warning"), "absent": ("✗", "error"),
        "damaged": ("!", "error")}
VERDICT_STYLE = {"safe": "success", "needs ALTER": "warning", "unreadable": "error",
                 "not KMS-encrypted": "secondary"}


def retirement_sql(old: str, collections: Sequence[str], remaining: Sequence[str]) -> str:
    colls = ", ".join(quote_string(c) for c in collections)
    keys = ", ".join(quote_string(k) for k in remaining)
    return f"SHOW KMS RETIREMENT {quote_string(old)} IN {colls} WITH KMS = ({keys})"


def split_uris(text: str) -> list[str]:
    """Several URIs in one field, separated by whitespace (a URI holds none)."""
    return [u for u in text.split() if u]


def matrix(report: object) -> tuple[list[str], list[list[tuple[str, str]]]]:
    """(column labels, rows of (text, theme colour)) for a RetirementReport, newest first."""
    keys = [report.old, *report.remaining]  # type: ignore[attr-defined]
    labels = ["backup", "verdict", *(f"{'retire' if k.role == 'old' else 'keep'} {k.fingerprint}" for k in keys)]
    rows = []
    for p in sorted(report.proofs, key=lambda p: (p.collection, p.backup.encode()), reverse=True):  # type: ignore[attr-defined]
        cells = [(p.backup, ""), (p.verdict, VERDICT_STYLE.get(p.verdict, ""))]
        cells += [CELL.get(p.cells.get(k.fingerprint, "absent"), ("?", "")) for k in keys]
        rows.append(cells)
    return labels, rows


class RetirementScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    RetirementScreen { align: center middle; }
    RetirementScreen > Vertical { width: 96%; height: 92%; border: thick $primary; background: $surface; padding: 0 1; }
    RetirementScreen Input { height: 3; }
    RetirementScreen #retire-verdict { height: auto; text-style: bold; }
    RetirementScreen #retire-matrix { height: 1fr; }
    RetirementScreen #retire-footer { height: auto; color: $text-muted; }
    RetirementScreen Horizontal { height: 3; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("f5", "check", "Check", priority=True),
        Binding("ctrl+r", "report", "Write report", priority=True),
    ]

    def __init__(
        self,
        run_sql: Callable[[str], object],
        *,
        collection: str = "",
        old_kms: str = "",
        remaining: Sequence[str] = (),
        report_dir: Path | None = None,
    ) -> None:
        """`run_sql(sql) -> Result` runs the statement (the app's executor, in a thread)."""
        super().__init__()
        self.run_sql = run_sql
        self.initial = (collection, old_kms, " ".join(remaining))
        self.report_dir = report_dir
        self.report: object | None = None

    def compose(self) -> ComposeResult:
        coll, old, keep = self.initial
        with Vertical():
            yield Label("Can the old key be retired? A proof per full backup through the remaining keys' KMS.")
            yield Input(coll, placeholder="collection URI(s), space-separated", id="retire-collection")
            yield Input(old, placeholder="KMS URI of the key to retire", id="retire-old")
            yield Input(keep, placeholder="KMS URI(s) that stay, space-separated", id="retire-keep")
            yield Static("", id="retire-verdict")
            yield DataTable(id="retire-matrix", zebra_stripes=True)
            yield Static("✓ proven  ○ present, unproven  ✗ absent  ! damaged    F5 check  Ctrl+R write report  Esc close",
                         id="retire-footer")
            with Horizontal():
                yield Button("Check", id="retire-check", variant="primary")
                yield Button("Write report", id="retire-report")
                yield Button("Close", id="retire-close")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.password = contains_secret(field.value)

    def on_input_changed(self, event: Input.Changed) -> None:
        """A field holding a secret is drawn masked (secrets never show on screen)."""
        event.input.password = contains_secret(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        {"retire-check": self.action_check, "retire-report": self.action_report,
         "retire-close": self.action_close}[event.button.id or "retire-close"]()

    def statement(self) -> str:
        colls = split_uris(self.query_one("#retire-collection", Input).value)
        old = self.query_one("#retire-old", Input).value.strip()
        keep = split_uris(self.query_one("#retire-keep", Input).value)
        return retirement_sql(old, colls, keep)

    def action_check(self) -> None:
        sql = self.statement()
        try:
            parse(sql)
        except SQLSyntaxError as e:
            self.show_verdict(safe_error(e).splitlines()[0], "error")
            return
        self.show_verdict("checking…", "")
        self._check(sql)

    @work(thread=True, exclusive=True)
    def _check(self, sql: str) -> None:
        try:
            result = self.run_sql(sql)
        except Exception as e:  # noqa: BLE001 - bad input or storage: say it, keep the screen
            self.app.call_from_thread(self.show_verdict, f"ERROR: {safe_error(e)}", "error")
            return
        self.app.call_from_thread(self.show_result, result)

    def show_verdict(self, text: str, colour: str) -> None:
        widget = self.query_one("#retire-verdict", Static)
        widget.update(Text(text, style=self._colour(colour)))

    def _colour(self, name: str) -> str:
        if not name:
            return ""
        variables = self.app.get_css_variables()
        return variables.get(name, name)

    def show_result(self, result: object) -> None:
        report = getattr(result, "report", None)
        self.report = report
        if report is None:
            self.show_verdict("no report", "error")
            return
        if report.retirable:
            self.show_verdict(f"'{report.old.uri}' can be retired: every backup opens with a remaining key "
                              f"({report.kms_calls} KMS calls)", "success")
        else:
            self.show_verdict(f"ERROR: {report.error()}", "error")
        labels, rows = matrix(report)
        table = self.query_one("#retire-matrix", DataTable)
        table.clear(columns=True)
        table.add_columns(*labels)
        for cells in rows:
            table.add_row(*(Text(t, style=self._colour(c)) for t, c in cells))

    def action_report(self) -> None:
        if self.report is None:
            self.show_verdict("run the check first (F5)", "warning")
            return
        from datetime import UTC, datetime

        from engine.paths import data_dir
        from engine.retirement import write_report

        where = self.report_dir or data_dir() / "reports"
        try:
            where.mkdir(parents=True, exist_ok=True)
            md, js = write_report(self.report, str(where / f"retirement-{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}"))  # type: ignore[arg-type]
        except OSError as e:
            self.show_verdict(f"report not written: {e.strerror or e}", "error")
            return
        footer = self.query_one("#retire-footer", Static)
        footer.update(f"report written: {md}, {js}")

    def action_close(self) -> None:
        self.dismiss(None)
