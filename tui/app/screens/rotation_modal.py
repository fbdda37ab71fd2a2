"""Guided key rotation: old and new KMS URIs (with the editor's completion and diagnostics), the
plan from a dry run, the exact ALTER BACKUP statement, then run it.

The fields hold SQL string lists (`'aws:///...', 'gs:///...'`) and are SQLEditors whose
context is the statement around them, so the one grammar completes and checks them. Dismisses
with the statement to run (the app runs it like any statement: progress pane, history), or None.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static

from syntax import SQLSyntaxError, format_statement, parse, quote_string
from syntax.uri import redact_text, redact_uri
from tui.app.messages import NodeRef
from tui.shared import safe_error
from tui.batch.output import cell_text
from tui.app.widgets.completion import CompletionDropdown
from tui.app.widgets.editor import SQLEditor

PlanRunner = Callable[[str], tuple[list[str], list[tuple]]]


def target_sql(node: NodeRef) -> str:
    """`ALTER BACKUP <target> IN <collection> ADD ` for a backup, or ALL for a collection."""
    coll = quote_string(node.collection)
    if node.kind == "collection":
        return f"ALTER BACKUP ALL IN {coll} ADD "
    return f"ALTER BACKUP {quote_string(node.subdir)} IN {coll} ADD "


def build_statement(node: NodeRef, new: str, old: str) -> str:
    return f"{target_sql(node)}NEW_KMS = ({new.strip()}) WITH OLD_KMS = ({old.strip()})"


class RotationModal(ModalScreen[str | None]):
    DEFAULT_CSS = """
    RotationModal { align: center middle; }
    RotationModal > Vertical { width: 96%; height: 92%; border: thick $primary; background: $surface; padding: 0 1; }
    RotationModal SQLEditor { height: 4; }
    RotationModal #rotation-plan { height: 1fr; }
    RotationModal #rotation-statement { height: auto; max-height: 5; color: $text-muted; }
    RotationModal #rotation-status { height: 1; }
    RotationModal Horizontal { height: 3; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("f6", "plan", "Dry run", priority=True),  # TextArea binds F6/F7 itself
        Binding("f7", "confirm", "Run", priority=True),
    ]

    def __init__(
        self,
        node: NodeRef,
        *,
        old_kms: Sequence[str],
        plan_runner: PlanRunner,
        subdirs: Callable[[str], Sequence[str]] | None = None,
        kms_history: Callable[[], Sequence[str]] | None = None,
        check_kms_uri: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.node = node
        self.old_kms = list(old_kms)
        self.plan_runner = plan_runner
        self.helpers = dict(subdirs=subdirs, kms_history=kms_history, check_kms_uri=check_kms_uri)
        self.planned: str | None = None  # the statement the shown plan is for

    def compose(self) -> ComposeResult:
        dropdown = CompletionDropdown(id="rotation-dropdown")
        prefix = target_sql(self.node)
        what = (
            f"every full backup in {redact_uri(self.node.collection)}"
            if self.node.kind == "collection"
            else f"{self.node.subdir} in {redact_uri(self.node.collection)}"
        )
        old_text = ", ".join(quote_string(u) for u in self.old_kms)
        with Vertical():
            yield Label(f"[b]Add key[/b] to {what}", markup=True)
            yield Label("New KMS URI(s), as SQL strings separated by commas:")
            yield SQLEditor(
                "", dropdown=dropdown, id="rotation-new", runnable=False,
                context=prefix + "NEW_KMS = (", suffix=f") WITH OLD_KMS = ({old_text or chr(39) + chr(39)})",
                **self.helpers,  # type: ignore[arg-type]
            )
            yield Label("Old KMS URI(s) the backup is encrypted with now:")
            yield SQLEditor(
                old_text, dropdown=dropdown, id="rotation-old", runnable=False,
                context=prefix + "NEW_KMS = ('x') WITH OLD_KMS = (", suffix=")",
                **self.helpers,  # type: ignore[arg-type]
            )
            yield Static("", id="rotation-status")
            yield Static("", id="rotation-statement")
            yield DataTable(id="rotation-plan", cursor_type="row")
            with Horizontal():
                yield Button("Dry run (F6)", id="rotation-dry-run", variant="primary")
                yield Button("Run (F7)", id="rotation-run", variant="warning", disabled=True)
                yield Button("Cancel (Esc)", id="rotation-cancel")
        yield dropdown

    def on_mount(self) -> None:
        self.query_one("#rotation-new", SQLEditor).focus()

    def statement(self) -> str:
        new = self.query_one("#rotation-new", SQLEditor).text
        old = self.query_one("#rotation-old", SQLEditor).text
        return build_statement(self.node, new, old)

    def on_text_area_changed(self) -> None:
        self.query_one("#rotation-run", Button).disabled = True
        self.planned = None

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "rotation-dry-run":
            self.action_plan()
        elif event.button.id == "rotation-run":
            self.action_confirm()
        else:
            self.action_close()

    def action_plan(self) -> None:
        sql = self.statement()
        status = self.query_one("#rotation-status", Static)
        try:
            stmt = parse(sql)[0]
        except SQLSyntaxError as e:
            status.update(Text(f"fix the URIs first: {safe_error(e)}", style="red"))
            return
        self.query_one("#rotation-statement", Static).update(
            "Statement:\n" + format_statement(stmt, redact=True)
        )
        status.update("dry run: checking every backup (nothing is written)…")
        self._plan(sql)

    @work(thread=True, exclusive=True, group="plan")
    def _plan(self, sql: str) -> None:
        try:
            columns, rows = self.plan_runner(sql)
            error = None
        except Exception as e:  # noqa: BLE001 - shown in the modal
            columns, rows, error = [], [], safe_error(e)
        self.app.call_from_thread(self._show_plan, sql, columns, rows, error)

    def _show_plan(self, sql: str, columns: list[str], rows: list[tuple], error: str | None) -> None:
        status = self.query_one("#rotation-status", Static)
        table = self.query_one("#rotation-plan", DataTable)
        table.clear(columns=True)
        if error:
            status.update(f"[red]dry run failed: {redact_text(error)}[/red]")
            return
        table.add_columns(*columns)
        table.add_rows([[cell_text(v) for v in r] for r in rows])
        failed = sum(1 for r in rows if r[1] == "failed")
        if failed:
            status.update(f"[red]{failed} of {len(rows)} backup(s) would fail; fix and retry[/red]")
            return
        self.planned = sql
        status.update(f"[green]plan ready: {len(rows)} backup(s); press Run (F7) to write[/green]")
        self.query_one("#rotation-run", Button).disabled = False

    def action_confirm(self) -> None:
        if self.planned is None or self.planned != self.statement():
            self.query_one("#rotation-status", Static).update("run a dry run first (F6)")
            return
        self.dismiss(self.planned)

    def action_close(self) -> None:
        dd = self.query_one(CompletionDropdown)
        if dd.is_open:
            dd.close()
            return
        self.dismiss(None)
