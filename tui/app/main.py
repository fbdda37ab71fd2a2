"""The Textual app: layout, wiring, and the engine work it runs in thread workers.

The engine's inspection service (engine/inspection/: listings, key files, sizes, the KMS URIs
seen this session; one cached storage per collection, closed on exit) does the browsing.
`RewrapApp` wires widgets to workers with
typed messages (tui/app/messages.py). The first frame never waits for storage: every listing,
detail and statement runs in a thread worker.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.errors import RewrapError
from engine.inspection import Inspector
from engine.rewrap.events import CancelToken, Event
from syntax import SQLSyntaxError, format_statement, parse, quote_string
from syntax.uri import redact_uri
from tui.collections_store import CollectionStore, Remembered
from tui.history import History
from tui.shared import check_kms_uri, safe_error
from tui.app.messages import (
    BackupsListed,
    CancelRequested,
    CollectionAdded,
    Copied,
    DetailsLoaded,
    DiagnosticsUpdated,
    ExecutionFinished,
    InsertText,
    NodeAction,
    NodeRef,
    NodeSelected,
    ProgressEvent,
    StatementExecuted,
    StatementFailed,
    StatementsSubmitted,
)
from tui.app.widgets.browser import CollectionBrowser
from tui.app.widgets.completion import CompletionDropdown
from tui.app.widgets.details import DetailsPanel, details_fields
from tui.app.widgets.editor import SQLEditor
from tui.app.widgets.progress import ProgressPane
from tui.app.widgets.results import ResultsPane


def show_text(sql: str) -> str:
    """A statement as it may be shown: parsed and redacted, else with quoted URIs redacted."""
    from tui.history import redact_statement

    try:
        return "; ".join(format_statement(s, redact=True) for s in parse(sql))
    except SQLSyntaxError:
        return redact_statement(sql)


class RewrapApp(App[int]):
    """`rewrap` on a terminal."""

    CSS_PATH = "app.tcss"
    TITLE = "rewrap"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("f2", "focus('editor')", "Editor"),
        Binding("f3", "focus('browser')", "Browser"),
        Binding("f4", "focus('results-table')", "Results"),
        Binding("escape", "cancel_run", "Cancel", show=False),
        Binding("ctrl+c", "cancel_run", "Cancel", show=False, priority=True),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(
        self,
        *,
        collections: Sequence[str] = (),
        store: CollectionStore | None = None,
        history: History | None = None,
        demo: bool = True,
        cursor_blink: bool = True,
        executor_factory: Callable[[bool], Any] | None = None,
    ) -> None:
        super().__init__()
        self.inspector = Inspector()
        self.store = store or CollectionStore()
        self.history = history or History()
        self.initial = list(collections)
        self.demo = demo
        self.cursor_blink = cursor_blink
        self.executor_factory = executor_factory or default_executor
        self.cancel_token: CancelToken | None = None
        self.running = False
        self.secrets: dict[str, dict[str, str]] = {}
        self._pending_subdirs: set[str] = set()
        self._unlisted_subdirs: set[str] = set()  # listing failed: completion offers nothing
        self._first_listing = threading.Event()  # the tree showed a listing (start-up is done)

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        dropdown = CompletionDropdown(id="dropdown")
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield CollectionBrowser(self.inspector, id="browser")
                with VerticalScroll(id="details-scroll"):
                    yield DetailsPanel(id="details")
            with Vertical(id="main"):
                editor = SQLEditor(
                    dropdown=dropdown,
                    subdirs=self.subdirs,
                    kms_history=self.inspector.kms.completion,
                    check_kms_uri=check_kms_uri,
                    history=self.history.entries,
                    id="editor",
                )
                editor.cursor_blink = self.cursor_blink
                editor.placeholder = (
                    "Type SQL, e.g. SHOW BACKUPS IN 'nodelocal://self/demo';  "
                    "F5 runs, Ctrl+Space completes, F1 helps"
                )
                yield editor
                yield Static("", id="status")
                yield ProgressPane(id="progress", classes="-hidden")
                yield ResultsPane(id="results")
        yield Footer()
        yield dropdown

    def on_mount(self) -> None:
        self.query_one(SQLEditor).focus()
        self.query_one(CollectionBrowser).border_title = "Collections"
        self.query_one("#details-scroll").border_title = "Details"
        self.query_one(SQLEditor).border_title = "SQL"
        for uri in self.initial:
            self.add_collection(uri, remember=True)
        remembered = self.store.load()
        if remembered:
            self.call_after_refresh(self._restore, remembered)
        elif not self.initial and self.demo:
            self.inspector.kms.settled.clear()
            self.call_after_refresh(self._open_demo)  # the first frame is painted before any I/O

    def on_unmount(self) -> None:
        self.inspector.close()  # the storages it opened (S3 clients, connection pools)

    # -- collections -------------------------------------------------------------------------

    def add_collection(self, uri: str, *, remember: bool) -> None:
        if remember:
            self.store.add(uri)
        node = self.query_one(CollectionBrowser).add_collection(uri)
        if not node.is_expanded:
            node.expand()
        self.post_message(CollectionAdded(redact_uri(uri)))

    def _restore(self, items: list[Remembered]) -> None:
        """Re-add remembered collections, asking for each secret the store did not keep."""
        todo = list(items)

        def next_item() -> None:
            while todo:
                item = todo.pop(0)
                if item.uri in self.session_uris():
                    continue
                missing = [n for n in item.secrets if n not in self.secrets.get(item.uri, {})]
                if missing:
                    ask(item, missing)
                    return
                self.add_collection(item.with_secrets(self.secrets.get(item.uri, {})), remember=False)

        def ask(item: Remembered, missing: list[str]) -> None:
            name = missing[0]

            def answered(value: str | None) -> None:
                if value is None:
                    self.notify(f"skipped {redact_uri(item.uri)}: {name} not given", severity="warning")
                    next_item()
                    return
                self.secrets.setdefault(item.uri, {})[name] = value
                if len(missing) > 1:
                    ask(item, missing[1:])
                else:
                    self.add_collection(item.with_secrets(self.secrets[item.uri]), remember=False)
                    next_item()

            from tui.app.screens.secret_prompt import SecretPrompt

            self.push_screen(SecretPrompt(item.uri, name), answered)

        next_item()

    def session_uris(self) -> set[str]:
        browser = self.query_one(CollectionBrowser)
        return {c.data.collection for c in browser.root.children if c.data is not None}

    @work(thread=True, group="demo")
    def _open_demo(self) -> None:
        from tui.cli import DEMO_DIR_NAME, demo_collection_dir, ensure_demo_collection

        try:
            try:
                path = demo_collection_dir()
                if not (path / "metadata").exists() and not (path / "LATEST").exists():
                    ensure_demo_collection()  # first use: engine.demo writes it
            except RewrapError as e:
                self.call_from_thread(self.notify, f"demo collection: {e}", severity="error")
                return
            # List it first; engine.demo (the demo's writer, ~0.1 s to import) only for its key.
            self.call_from_thread(self.add_collection, f"nodelocal://self/{DEMO_DIR_NAME}", remember=False)
            self._first_listing.wait(2)  # not competing with the listing for the GIL
            from engine.demo import DEFAULT_DEMO_KMS

            self.inspector.kms.remember(DEFAULT_DEMO_KMS)
        finally:
            self.inspector.kms.settled.set()

    def subdirs(self, uri: str) -> Sequence[str]:
        """Completion's provider: cached listings, never blocking; a miss lists in a worker."""
        cached = self.inspector.cached_subdirs(uri)
        if cached is not None:
            return cached
        if uri in self._unlisted_subdirs:
            return ()
        if uri not in self._pending_subdirs:
            self._pending_subdirs.add(uri)
            self._list_subdirs(uri)
        return ()

    @work(thread=True, group="subdirs")
    def _list_subdirs(self, uri: str) -> None:
        try:
            self.inspector.subdirs(uri)
        except Exception:  # noqa: BLE001 - completion simply has nothing to offer
            self._unlisted_subdirs.add(uri)
        finally:
            self._pending_subdirs.discard(uri)

    # -- browser and details -----------------------------------------------------------------

    def on_node_selected(self, message: NodeSelected) -> None:
        self.query_one(DetailsPanel).loading_for(message.node)
        self._load_details(message.node)

    @work(thread=True, exclusive=True, group="details")
    def _load_details(self, node: NodeRef) -> None:
        try:
            fields = details_fields(self.inspector, node)
        except Exception as e:  # noqa: BLE001 - shown in the panel
            fields = [("error", safe_error(e))]
        self.post_message(DetailsLoaded(node, fields))

    def on_details_loaded(self, message: DetailsLoaded) -> None:
        self.query_one(DetailsPanel).show(message)

    def on_backups_listed(self, message: BackupsListed) -> None:
        self._first_listing.set()  # the browser fills itself; tests watch this message

    def on_node_action(self, message: NodeAction) -> None:
        node = message.node
        if message.action == "insert":
            self.post_message(InsertText(node_sql(node)))
        elif message.action == "show":
            self._show_node(node)
        elif message.action == "add_key":
            self._open_rotation(node)

    def on_insert_text(self, message: InsertText) -> None:
        editor = self.query_one(SQLEditor)
        editor.insert(message.text)
        editor.focus()

    @work(thread=True, group="node")
    def _show_node(self, node: NodeRef) -> None:
        if node.kind == "collection":
            sql = f"SHOW BACKUPS IN {quote_string(node.collection)}"
        else:
            try:
                unlocking = self.inspector.unlockers(node.collection, node.subdir)
            except Exception as e:  # noqa: BLE001
                self.call_from_thread(self.notify, safe_error(e), severity="error")
                return
            sql = f"SHOW BACKUP {quote_string(node.subdir)} IN {quote_string(node.collection)}"
            if unlocking:
                # One key: CockroachDB's rule (which SHOW BACKUP applies) needs every given
                # KMS in one ENCRYPTION-INFO file, and the session's keys may be in several.
                sql += f" WITH KMS = {quote_string(unlocking[0])}"
        self.post_message(StatementsSubmitted([sql]))

    @work(thread=True, group="node")
    def _open_rotation(self, node: NodeRef) -> None:
        try:
            unlocking = self.inspector.unlockers(node.collection, node.subdir or "LATEST")
        except Exception as e:  # noqa: BLE001
            self.call_from_thread(self.notify, safe_error(e), severity="error")
            return
        target = node if node.kind != "incremental" else NodeRef("full", node.collection, node.subdir)
        self.call_from_thread(self.open_rotation_modal, target, unlocking)

    def open_rotation_modal(self, node: NodeRef, old_kms: Sequence[str]) -> None:
        from tui.app.screens.rotation_modal import RotationModal

        modal = RotationModal(
            node,
            old_kms=old_kms,
            plan_runner=self.plan,
            subdirs=self.subdirs,
            kms_history=self.inspector.kms.completion,
            check_kms_uri=check_kms_uri,
        )

        def done(sql: str | None) -> None:
            if sql:
                self.post_message(StatementsSubmitted([sql]))

        self.push_screen(modal, done)

    def plan(self, sql: str) -> tuple[list[str], list[tuple]]:
        """A dry run of `sql` (the rotation modal's plan); runs in the modal's worker."""
        stmt = parse(sql)[0]
        self.inspector.kms.remember_statement(stmt)
        result = self.executor_factory(True).run(stmt)
        return result.columns, result.rows

    # -- running statements ------------------------------------------------------------------

    def on_statements_submitted(self, message: StatementsSubmitted) -> None:
        if self.running:
            self.notify("a statement is still running (Esc cancels it)", severity="warning")
            return
        for text in message.texts:
            self.history.append(text)
        self.running = True
        self.cancel_token = CancelToken()
        self._execute(message.texts, self.cancel_token)

    @work(thread=True, exclusive=True, group="execute")
    def _execute(self, texts: list[str], token: CancelToken) -> None:
        ran = failed = 0
        for text in texts:
            if token.cancelled:
                break
            try:
                statements = parse(text)
                for stmt in statements:
                    self.inspector.kms.remember_statement(stmt)
                    result = self.executor_factory(False).run(
                        stmt, progress=self._forward, cancel=token
                    )
                    ran += 1
                    if not result.ok:
                        failed += 1
                    self.post_message(StatementExecuted(
                        show_text(text), result.columns, result.rows,
                        [*result.notices, *([f"ERROR: {result.error}"] if result.error else [])], result.ok))
            except (SQLSyntaxError, RewrapError) as e:
                failed += 1
                self.post_message(StatementFailed(show_text(text), safe_error(e)))
                break
            except Exception as e:  # noqa: BLE001 - the session must stay usable
                failed += 1
                self.post_message(StatementFailed(show_text(text), safe_error(e)))
                break
        self.post_message(ExecutionFinished(ran, failed, token.cancelled, token))

    def _forward(self, event: Event) -> None:
        self.post_message(ProgressEvent(event))

    def on_progress_event(self, message: ProgressEvent) -> None:
        pane = self.query_one(ProgressPane)
        pane.remove_class("-hidden")
        pane.consume(message.event)

    def on_statement_executed(self, message: StatementExecuted) -> None:
        self.query_one(ResultsPane).show(message.text, message.columns, message.rows, message.notices)

    def on_statement_failed(self, message: StatementFailed) -> None:
        self.query_one(ResultsPane).show_error(message.text, message.error)

    def on_execution_finished(self, message: ExecutionFinished) -> None:
        if message.token is not None and message.token is not self.cancel_token:
            return  # a run the user detached from (second Esc / Ctrl+C) finished late
        self.running = False
        self.cancel_token = None
        if message.cancelled:
            self.notify("cancelled: every backup is still readable")
        # Listings may have changed (a new ENCRYPTION-INFO file): refresh the details shown.
        self.inspector.refresh()
        details = self.query_one(DetailsPanel)
        if details.node is not None:
            self._load_details(details.node)

    def on_cancel_requested(self, message: CancelRequested) -> None:
        self.action_cancel_run()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_run":
            return self.running
        return True

    def action_cancel_run(self) -> None:
        token = self.cancel_token
        if token is None:
            return
        if not token.cancelled:
            token.cancel()
            self.notify("cancelling after the current step… (press again to stop waiting)")
            return
        # Second press: a KMS or storage call may hang. Free the session now; the cancelled run
        # still stops at its next step boundary and writes nothing more.
        self.running = False
        self.cancel_token = None
        self.notify("stopped waiting: the cancelled statement ends its current step in the background")

    # -- status line, copies, help, palette --------------------------------------------------

    def on_diagnostics_updated(self, message: DiagnosticsUpdated) -> None:
        if message.source_id != "editor":
            return  # a rotation field: the modal shows its own
        try:
            status = self.query_one("#status", Static)
        except NoMatches:  # the main screen is not the active one (a modal, or shutting down)
            return
        status.update(message.message)
        status.set_class(message.count > 0, "-problem")

    def on_copied(self, message: Copied) -> None:
        pass

    def action_help(self) -> None:
        from tui.app.screens.help_screen import HelpScreen  # markdown_it: only when asked for

        self.push_screen(HelpScreen())

    def action_focus(self, widget_id: str) -> None:
        self.query_one(f"#{widget_id}").focus()

    def action_add_collection(self) -> None:
        def added(uri: str | None) -> None:
            if uri:
                self.add_collection(uri, remember=True)

        from tui.app.screens.secret_prompt import AddCollectionPrompt

        self.push_screen(AddCollectionPrompt(), added)

    def action_node(self, action: str) -> None:
        self.query_one(CollectionBrowser).action_node(action)

    def action_retire_key(self) -> None:
        """The key-retirement check (tui/app/screens/retirement.py) for the selected collection."""
        from tui.app.screens.retirement import RetirementScreen

        node = getattr(self.query_one(CollectionBrowser).cursor_node, "data", None)
        self.push_screen(RetirementScreen(lambda sql: self.executor_factory(False).run(parse(sql)[0]),
                                          collection=getattr(node, "collection", "")))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        editor = self.query_one(SQLEditor)
        results = self.query_one(ResultsPane).table
        yield SystemCommand("Run statement", "run the statement under the cursor (F5)", editor.action_run)
        yield SystemCommand("Add collection", "add a backup collection by URI (remembered, secrets removed)",
                            self.action_add_collection)
        yield SystemCommand("Insert path", "insert the selected node's path into the editor",
                            lambda: self.action_node("insert"))
        yield SystemCommand("SHOW BACKUP", "show the selected backup (or SHOW BACKUPS of a collection)",
                            lambda: self.action_node("show"))
        yield SystemCommand("Add key", "guided key rotation for the selected backup or collection",
                            lambda: self.action_node("add_key"))
        yield SystemCommand("Retire key", "can an old KMS key be disabled? a proof per backup (SHOW KMS "
                            "RETIREMENT)", self.action_retire_key)
        yield SystemCommand("Copy cell", "copy the selected result cell", results.action_copy_cell)
        yield SystemCommand("Copy row", "copy the selected result row", results.action_copy_row)
        yield SystemCommand("Cancel", "cancel the running statement", self.action_cancel_run)
        yield SystemCommand("Help", "keys and statements (F1)", self.action_help)
        yield SystemCommand("Focus editor", "F2", lambda: self.action_focus("editor"))
        yield SystemCommand("Focus browser", "F3", lambda: self.action_focus("browser"))
        yield SystemCommand("Focus results", "F4", lambda: self.action_focus("results-table"))
        yield SystemCommand("Older statement", "history (Ctrl+Up)", lambda: editor.action_history(-1))
        yield SystemCommand("Newer statement", "history (Ctrl+Down)", lambda: editor.action_history(1))


def node_sql(node: NodeRef) -> str:
    """What "insert path" puts in the editor: the target as a statement would name it."""
    if node.kind == "collection":
        return quote_string(node.collection)
    return f"{quote_string(node.subdir)} IN {quote_string(node.collection)}"


def default_executor(dry_run: bool) -> Any:
    from engine.execute import Executor
    from engine.paths import audit_journal_path
    from engine.rewrap.journal import AuditJournal

    return Executor(dry_run=dry_run, journal=AuditJournal(audit_journal_path()))


def run_app(args: argparse.Namespace) -> int:
    """`rewrap` with no SQL on a terminal (tui/cli.py calls this)."""
    app = RewrapApp(collections=getattr(args, "collection", None) or ())
    app.run()
    return app.return_code or 0
