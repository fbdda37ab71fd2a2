"""Guided key rotation: old and new KMS URIs (with the editor's completion and diagnostics), the
plan from a dry run, the exact ALTER BACKUP statement, run it, then: can the old key be retired?

The fields hold SQL string lists (`'aws:///...', 'gs:///...'`) and are SQLEditors whose
context is the statement around them, so the one grammar completes and checks them. Dismisses
with the parsed statement to run (the app runs it like any statement: progress pane, history),
or None. The fields' text is parsed once, at the dry run; the AST travels from there (plan, run,
the retire step's URIs) and SQL text is made from it only for display and the history.
When that run has added the key everywhere, the app shows `RetireStep` (from `retire_step()`):
SHOW KMS RETIREMENT with the old URI and the new URIs just used, over the whole collection, as
the key-coverage matrix of tui/app/screens/retirement.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Label, Static
from textual.worker import Worker, WorkerState

from syntax import SQLSyntaxError, ast, format_statement, parse, quote_string
from syntax.uri import redact_uri
from syntax.redact import redact_text
from tui.app.messages import NodeRef
from tui.shared import safe_error
from tui.batch.output import cell_text
from tui.app.screens.retirement import RetirementScreen
from tui.app.widgets.completion import CompletionDropdown
from tui.app.widgets.editor import SQLEditor

if TYPE_CHECKING:
    from engine.execute import Result

PlanRunner = Callable[[ast.Statement], tuple[list[str], list[tuple]]]
PLAN_GROUP = "plan"


def target_sql(node: NodeRef) -> str:
    """`ALTER BACKUP <target> IN <collection> ADD ` for a backup, or ALL for a collection."""
    coll = quote_string(node.collection)
    if node.kind == "collection":
        return f"ALTER BACKUP ALL IN {coll} ADD "
    return f"ALTER BACKUP {quote_string(node.subdir)} IN {coll} ADD "


def build_statement(node: NodeRef, new: str, old: str) -> str:
    return f"{target_sql(node)}NEW_KMS = ({new.strip()}) WITH OLD_KMS = ({old.strip()})"


def rotation_uris(stmt: ast.AlterBackup) -> tuple[list[str], list[str]]:
    """(old URIs, new URIs) of the rotation statement, as the user typed them (secrets too:
    they stay in memory, for the check's KMS calls)."""
    old: list[str] = []
    new: list[str] = []
    for change in stmt.commands:
        old += [v for v in change.old_kms if isinstance(v, str) and v not in old]
        new += [v for v in change.new_kms if isinstance(v, str) and v not in new]
    return old, new


class RetireStep(RetirementScreen):
    """The rotation's last step: with the new key added, can the old one be disabled? Runs the
    check at once, over every full backup of the collection (not only the ones just rotated:
    the old key may be disabled only when none needs it)."""

    TITLE_TEXT = "Can the old key be retired?"

    def __init__(self, run_sql: Callable[[ast.Statement], Result], *, collection: str, old_kms: Sequence[str],
                 new_kms: Sequence[str], **kwargs: object) -> None:
        super().__init__(run_sql, collection=collection, old_kms=old_kms[0] if old_kms else "",
                         remaining=new_kms, check_now=True,
                         show_fields=len(old_kms) != 1,  # several old keys: the user picks one
                         **kwargs)  # type: ignore[arg-type]
        self.old_all = list(old_kms)
        self.new_all = list(new_kms)

    def compose_header(self) -> ComposeResult:
        new = ", ".join(redact_uri(u) for u in self.new_all)
        old = ", ".join(redact_uri(u) for u in self.old_all)
        yield Label(f"[b]Key added. {self.TITLE_TEXT}[/b]", markup=True, id="retire-title")
        yield Static(
            f"Does {new} alone open every full backup of {redact_uri(self.initial[0])}, proven through "
            f"its KMS, so that {old} can be disabled?"
            + (" Several old keys were given: keep the one to retire in the second field." if len(self.old_all) > 1 else ""),
            id="retire-question", markup=False,
        )


class RotationModal(ModalScreen["ast.AlterBackup | None"]):
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
        # The statement the shown plan is for, and the fields' text it was parsed from.
        self.planned: ast.AlterBackup | None = None
        self.planned_text: str | None = None
        self.plan_stmt: ast.AlterBackup | None = None  # the statement the running dry run is for

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
                # plain until a dry run succeeded (then "warning"): it must not look ready before
                yield Button("Run (F7)", id="rotation-run", variant="default", disabled=True)
                yield Button("Cancel (Esc)", id="rotation-cancel")
        yield Footer()  # this dialog's keys (F6/F7/Esc), not the browser's underneath
        yield dropdown

    def on_mount(self) -> None:
        self.query_one("#rotation-new", SQLEditor).focus()

    def statement(self) -> str:
        new = self.query_one("#rotation-new", SQLEditor).text
        old = self.query_one("#rotation-old", SQLEditor).text
        return build_statement(self.node, new, old)

    def on_text_area_changed(self) -> None:
        self._ready(False)
        self.planned = None

    def _ready(self, ready: bool) -> None:
        run = self.query_one("#rotation-run", Button)
        run.disabled = not ready
        run.variant = "warning" if ready else "default"

    @on(Button.Pressed, "#rotation-dry-run")
    def _dry_run_pressed(self) -> None:
        self.action_plan()

    @on(Button.Pressed, "#rotation-run")
    def _run_pressed(self) -> None:
        self.action_confirm()

    @on(Button.Pressed, "#rotation-cancel")
    def _cancel_pressed(self) -> None:
        self.action_close()

    def action_plan(self) -> None:
        """F6 (priority): queued behind a paste still waiting in the focused field."""
        (self.focused or self).call_later(self._plan_now)

    def _plan_now(self) -> None:
        sql = self.statement()
        status = self.query_one("#rotation-status", Static)
        try:
            parsed = parse(sql)  # the one parse: the AST goes on to the plan and the run
        except SQLSyntaxError as e:
            status.update(Text(f"fix the URIs first: {safe_error(e)}", style="red"))
            return
        stmt = parsed[0] if len(parsed) == 1 else None
        if not isinstance(stmt, ast.AlterBackup):
            status.update(Text("fix the URIs first: the fields must hold SQL strings only", style="red"))
            return
        self.query_one("#rotation-statement", Static).update(
            "Statement:\n" + format_statement(stmt, redact=True)
        )
        status.update("dry run: checking every backup (nothing is written)…")
        self.plan_stmt = stmt
        self._plan(stmt, sql)

    @work(thread=True, exclusive=True, exit_on_error=False, group=PLAN_GROUP)
    def _plan(self, stmt: ast.AlterBackup, text: str) -> tuple[ast.AlterBackup, str, list[str], list[tuple]]:
        columns, rows = self.plan_runner(stmt)
        return stmt, text, columns, rows

    @on(Worker.StateChanged)
    def _plan_done(self, event: Worker.StateChanged) -> None:
        if event.worker.group != PLAN_GROUP or self.plan_stmt is None:
            return
        if event.state is WorkerState.SUCCESS and event.worker.result is not None:
            stmt, text, columns, rows = event.worker.result
            if stmt is self.plan_stmt:  # not a dry run a newer F6 superseded
                self._show_plan(stmt, text, columns, rows, None)
        elif event.state is WorkerState.ERROR:
            self._show_plan(self.plan_stmt, "", [], [], safe_error(event.worker.error or RuntimeError()))

    def _show_plan(self, stmt: ast.AlterBackup, text: str, columns: list[str], rows: list[tuple],
                   error: str | None) -> None:
        status = self.query_one("#rotation-status", Static)
        table = self.query_one("#rotation-plan", DataTable)
        table.clear(columns=True)
        if error:
            status.update(Text(f"dry run failed: {redact_text(error)}", style="red"))
            return
        table.add_columns(*columns)
        table.add_rows([[cell_text(v) for v in r] for r in rows])
        failed = sum(1 for r in rows if r[1] == "failed")
        if failed:
            status.update(f"[red]{failed} of {len(rows)} backup(s) would fail; fix and retry[/red]")
            return
        self.planned, self.planned_text = stmt, text
        status.update(f"[green]plan ready: {len(rows)} backup(s); press Run (F7) to write[/green]")
        self._ready(True)

    def action_confirm(self) -> None:
        """F7 (priority): queued behind a paste still waiting in the focused field."""
        (self.focused or self).call_later(self._confirm_now)

    def _confirm_now(self) -> None:
        if self.planned is None or self.planned_text != self.statement():
            self.query_one("#rotation-status", Static).update("run a dry run first (F6)")
            return
        self.dismiss(self.planned)

    def retire_step(self, run_sql: Callable[[ast.Statement], Result], **kwargs: object) -> RetireStep:
        """The step after the run of the planned statement (see RetireStep)."""
        assert self.planned is not None
        old, new = rotation_uris(self.planned)
        return RetireStep(run_sql, collection=self.node.collection, old_kms=old, new_kms=new, **kwargs)

    def action_close(self) -> None:
        dd = self.query_one(CompletionDropdown)
        if dd.is_open:
            dd.close()
            return
        self.dismiss(None)
