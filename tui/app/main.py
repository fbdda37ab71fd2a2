"""The Textual app: layout, wiring, and the engine work it runs in thread workers.

The engine's inspection service (engine/inspection/: listings, key files, sizes, the KMS URIs
seen this session; one cached storage per collection, closed on exit) does the browsing.
Widgets post the messages they declare (`CollectionBrowser.NodeSelected`, ...) and
`RewrapApp` routes them with `@on`. The first frame never waits for storage: every listing,
detail and statement runs in one of the app's thread workers (`exit_on_error=False`), and one
handler, `on_worker_state_changed`, takes each worker's result where it belongs and reports each
failure through `safe_error` (redacted; a library's own text never reaches the screen).

Start-up (tests/bench/bench_console.py): the listings the tree will ask for first (the
collections given, or an already written demo collection) are begun by tui.app.listing's
EarlyStart, which tui/cli.py makes before Textual is imported; the browse worker of the node's
first expansion takes that answer (fetched this start, once) instead of listing again. Modules
the first frame does not need (screens, the rewrap engine, the parser, completion) are imported
where they are used (tests/tui/test_startup_imports.py).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from engine.errors import RewrapError
from engine.rewrap.events import BackupFinished, BackupStarted, CancelToken, Event, Finished, Step, StepStarted
from syntax import SQLSyntaxError, ast, format_statement, quote_string
import syntax  # its parser loads with the first statement run (syntax.__getattr__)
from syntax.uri import redact_uri
from syntax.redact import redact_text
from tui.collections_store import CollectionStore, Remembered
from tui.history import History
from tui.settings import Settings, SettingsError, load_settings
from tui.shared import check_kms_uri, safe_error
from tui.app.messages import NodeRef
from tui.app.listing import EarlyStart, children_of
from tui.app.widgets.browser import CollectionBrowser
from tui.app.widgets.completion import CompletionDropdown
from tui.app.widgets.details import DetailsPanel, details_fields
from tui.app.widgets.editor import SQLEditor
from tui.app.widgets.progress import ProgressPane
from tui.app.widgets.results import ResultsPane

# What a failed worker was doing, for its notification (groups not named here show elsewhere).
WORK_NAMES = {"demo": "demo collection", "node": "browser action", "diagnose": "diagnostics"}
# What Ctrl+Q says it waits for, by worker group (one name, then its plural).
WAIT_NAMES = {"browse": ("listing", "listings"), "subdirs": ("listing", "listings"),
              "details": ("detail load", "detail loads"), "plan": ("dry run", "dry runs"),
              "node": ("browser action", "browser actions"), "demo": ("demo set-up", "demo set-ups")}
NARROW = 70  # below this many columns the sidebar hides by itself (the editor gets the width)
QUIT_GRACE = 0.1  # seconds Ctrl+Q twice lets threads end (an abandoned call returns within 0.05 s)
KMS_STEPS = frozenset({Step.UNWRAPPING, Step.WRAPPING, Step.VERIFYING_KEYS})


def show_text(sql: str) -> str:
    """Text that did not parse, as it may be shown: its quoted URIs redacted."""
    from tui.history import redact_statement

    return redact_statement(sql)


@dataclass(frozen=True)
class RunOutcome:
    """What the statement worker returns: how its run of F5 went."""

    ran: int
    failed: int
    cancelled: bool
    generation: int


class RewrapApp(App[int]):
    """`rewrap` on a terminal."""

    CSS_PATH = "app.tcss"
    TITLE = "rewrap"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("f2", "focus('editor')", "Editor"),
        Binding("f3", "focus('browser')", "Browser"),
        Binding("f4", "focus('results-table')", "Results"),
        Binding("escape", "cancel_run", "Cancel"),  # shown while a statement runs (check_action)
        Binding("ctrl+c", "cancel_run", "Cancel", show=False, priority=True),
        Binding("ctrl+q", "quit", "Quit"),
        Binding("ctrl+b,f9", "toggle_sidebar", "Sidebar", show=False),  # harlequin's keys
        Binding("ctrl+s", "export", "Export", show=False),
    ]

    class StatementExecuted(Message):
        """One statement ran; `rows` and `columns` as the engine returned them (it redacts)."""

        def __init__(self, generation: int, text: str, columns: list[str], rows: list[tuple[Any, ...]],
                     notices: list[str], ok: bool, elapsed: float | None = None) -> None:
            super().__init__()
            self.generation = generation  # the run it belongs to: a later run's results win
            self.elapsed = elapsed  # seconds the engine took
            self.text = text
            self.columns = columns
            self.rows = rows
            self.notices = notices
            self.ok = ok

    class StatementFailed(Message):
        """A statement did not run (syntax error, RewrapError); `error` is safe to show."""

        def __init__(self, generation: int, text: str, error: str, elapsed: float | None = None) -> None:
            super().__init__()
            self.generation = generation
            self.elapsed = elapsed  # None: it failed before the engine ran it (a syntax error)
            self.text = text
            self.error = error

    class ProgressEvent(Message):
        """One engine event (engine.rewrap.events) forwarded from the statement worker."""

        def __init__(self, generation: int, event: Event) -> None:
            super().__init__()
            self.generation = generation
            self.event = event

    def __init__(
        self,
        *,
        collections: Sequence[str] = (),
        store: CollectionStore | None = None,
        history: History | None = None,
        demo: bool = True,
        cursor_blink: bool = True,
        executor_factory: Callable[[bool], Any] | None = None,
        settings: Settings | None = None,
        early: EarlyStart | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or load_settings()  # tui.cli.main passes its own (tests: env)
        if early is None:  # tests; `rewrap` makes it before importing Textual (tui/cli.py)
            early = EarlyStart(self.settings, collections, demo=demo, store=store)
        self._open_storage = early.open_storage  # the inspector's storages, with these settings
        self.inspector = early.inspector
        self.store = early.store
        self._remembered = early.remembered
        # Listings started before the first frame, each taken once by its node's first expansion.
        self._early = early.listings
        self._listing_shown = early.listing_shown
        self._demo_listed_early = early.demo_listed
        self.history = history or History(self.settings.history_path)
        self.initial = list(collections)
        self.demo = demo
        self.cursor_blink = cursor_blink
        self.executor_factory = executor_factory or (lambda dry: default_executor(self.settings, dry))
        self.cancel_token: CancelToken | None = None
        self.running = False
        # Each F5 is a generation; a detached (second Esc) run's late output is of an older one.
        self.generation = 0
        self.current_run: Worker[RunOutcome] | None = None
        self._results_generation = -1  # the run whose results the pane holds
        self.clock: Callable[[], float] = time.perf_counter  # statements' elapsed time (tests fix it)
        self.secrets: dict[str, dict[str, str]] = {}
        self._pending_subdirs: set[str] = set()
        self._unlisted_subdirs: set[str] = set()  # listing failed: completion offers nothing
        self._subjects: dict[Worker[Any], Any] = {}  # what a listing / details worker is about
        self._after_run: Screen[Any] | None = None  # the rotation's retire step, once its run succeeds
        self._steps: dict[tuple[int, str], Step | None] = {}  # backups mid-run: their current step
        self.quit_asked = False  # Ctrl+Q once with work in flight: quit when it is done
        self.quit_now = False  # Ctrl+Q twice: run_app does not wait for the threads
        if self.settings.theme is not None:  # config.toml's; checked here, where themes are known
            if self.settings.theme not in self.available_themes:
                raise SettingsError(
                    f"{self.settings.config_path}: theme {self.settings.theme!r} is not a theme"
                    f" (known: {', '.join(sorted(self.available_themes))})"
                )
            self.theme = self.settings.theme
        self._narrow: bool | None = None  # the screen's width regime when the sidebar was fitted

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        dropdown = CompletionDropdown(id="dropdown")
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield CollectionBrowser(id="browser")
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
        self._fit_sidebar(self.size.width)
        self.watch(self, "theme", self._keep_theme, init=False)
        self.query_one(SQLEditor).focus()
        self.query_one(CollectionBrowser).border_title = "Collections"
        self.query_one("#details-scroll").border_title = "Details"
        self.query_one(SQLEditor).border_title = "SQL"
        for uri in self.initial:
            self.add_collection(uri, remember=True)
        remembered = self._remembered
        self._name_example([*self.initial, *(r.uri for r in remembered)])
        if remembered:
            self.call_after_refresh(self._restore, remembered)
        elif not self.initial and self.demo:
            if self._demo_listed_early:
                from engine.demo_location import DEMO_COLLECTION

                self.add_collection(DEMO_COLLECTION, remember=False)  # its listing is under way
            else:
                self.call_after_refresh(self._open_demo)  # the first frame is painted before any I/O

    def _keep_theme(self, theme: str) -> None:
        """A theme picked (the command palette) is written to config.toml for the next start,
        the file's other keys and comments kept; a file that does not load is left alone."""
        path = self.settings.config_path
        if path is None:
            return
        from tui.config_file import ConfigError, save_key

        try:
            save_key(path, "theme", theme)
        except (ConfigError, OSError) as e:
            self.notify(f"theme not kept: {e}", severity="error")

    def _name_example(self, listed: list[str]) -> None:
        """The editor's placeholder names a collection the browser lists (the demo's, when it
        is the one), else a generic one: never one that is not there."""
        if listed:
            example = quote_string(redact_uri(listed[0]))
        elif self.demo:
            return  # the demo collection is listed: compose's placeholder names it
        else:
            example = "'s3://bucket/path?AUTH=implicit'"
        self.query_one(SQLEditor).placeholder = (
            f"Type SQL, e.g. SHOW BACKUPS IN {example};  F5 runs, Ctrl+Space completes, F1 helps")

    def on_unmount(self) -> None:
        self.inspector.close()  # the storages it opened (S3 clients, connection pools)

    # -- workers: one place for their results and their failures ----------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Every app worker ends here: its result goes where it belongs, its failure is told
        through `safe_error` (the one cleaner: redacted, a library's text never shown)."""
        worker, state = event.worker, event.state
        if state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        subject = self._subjects.pop(worker, None)
        if self.quit_asked and not self.in_flight():
            self.exit(self.return_code)  # the work Ctrl+Q waited for is done
        error = safe_error(worker.error) if state is WorkerState.ERROR and worker.error else None
        group = worker.group.split(":")[0]
        if group == "execute":
            self._run_ended(worker, error)
        elif state is WorkerState.CANCELLED:
            return  # superseded (an exclusive group's newer worker): nothing to show
        elif group == "browse":
            self._listed(subject, worker.result or [], error)
        elif group == "details":
            self.query_one(DetailsPanel).show(subject, [("error", error)] if error else worker.result or [])
        elif group == "subdirs":
            if error is not None:
                self._unlisted_subdirs.add(subject)  # completion simply has nothing to offer
            self._pending_subdirs.discard(subject)
        elif error is not None:
            self.notify(f"{WORK_NAMES.get(group, group)}: {error}", severity="error")

    # -- collections -------------------------------------------------------------------------

    def add_collection(self, uri: str, *, remember: bool) -> None:
        if remember:
            self.store.add(uri)
        browser = self.query_one(CollectionBrowser)
        node = browser.add_collection(uri)
        ref = node.data
        early = self._early.get(ref) if ref is not None else None
        if ref is not None and early is not None and early.done() and early.exception() is None:
            # listed before Textual was imported: shown in the first frame, without a worker
            del self._early[ref]
            browser.mark_listed(node)
            self._listed(ref, early.result(), None)
        if not node.is_expanded:
            node.expand()

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

    @work(thread=True, group="demo", exit_on_error=False)
    def _open_demo(self) -> None:
        from engine.demo_location import DEFAULT_DEMO_KMS, DEMO_COLLECTION, demo_collection_dir, demo_written

        try:
            if not demo_written(demo_collection_dir(self.settings.engine.storage)):
                from engine.demo import ensure_demo_collection  # the writer: only on first use

                ensure_demo_collection(self.settings.engine.storage)
            self.call_from_thread(self.add_collection, DEMO_COLLECTION, remember=False)
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
            self._subjects[self._list_subdirs(uri)] = uri
        return ()

    @work(thread=True, group="subdirs", exit_on_error=False)
    def _list_subdirs(self, uri: str) -> None:
        self.inspector.subdirs(uri)

    # -- browser and details -----------------------------------------------------------------

    @on(CollectionBrowser.ListingWanted, "#browser")
    def _list(self, message: CollectionBrowser.ListingWanted) -> None:
        early = self._early.pop(message.node, None)  # once: a later expansion lists afresh
        self._subjects[self._list_children(message.node, early)] = message.node

    @work(thread=True, group="browse", exit_on_error=False)
    def _list_children(self, node: NodeRef, early: Future[list[NodeRef]] | None = None) -> list[NodeRef]:
        return early.result() if early is not None else children_of(self.inspector, node)

    def _listed(self, node: NodeRef, children: list[NodeRef], error: str | None) -> None:
        self.query_one(CollectionBrowser).show_children(node, children, error)
        if not self._listing_shown.is_set():
            self.call_after_refresh(self._listing_shown.set)  # EarlyStart's warm-up may begin

    @on(CollectionBrowser.NodeSelected, "#browser")
    def _selected(self, message: CollectionBrowser.NodeSelected) -> None:
        self.query_one(DetailsPanel).loading_for(message.node)
        self._subjects[self._load_details(message.node)] = message.node

    @work(thread=True, exclusive=True, group="details", exit_on_error=False)
    def _load_details(self, node: NodeRef) -> list[tuple[str, str]]:
        return details_fields(self.inspector, node)

    @on(CollectionBrowser.NodeAction, "#browser")
    def _node_action(self, message: CollectionBrowser.NodeAction) -> None:
        node = message.node
        if message.action == "insert":
            editor = self.query_one(SQLEditor)
            editor.insert(node_sql(node))
            editor.focus()
        elif message.action == "show":
            self._show_node(node)
        elif message.action == "add_key":
            self._open_rotation(node)
        elif message.action == "retire":
            self.open_retirement(node.collection)
        elif message.action == "remove":
            self.remove_collection(node.collection)

    def remove_collection(self, uri: str) -> None:
        """Forget a collection: off the browser and out of the remembered list (its backups
        are not touched)."""
        from tui.collections_store import strip_secrets

        if self.query_one(CollectionBrowser).remove_collection(uri):
            self.store.remove(strip_secrets(uri).uri)
            self.secrets.pop(strip_secrets(uri).uri, None)
            self.notify(f"removed {redact_uri(uri)} from the browser (its backups are untouched)")

    @work(thread=True, group="node", exit_on_error=False)
    def _show_node(self, node: NodeRef) -> None:
        if node.kind == "collection":
            sql = f"SHOW BACKUPS IN {quote_string(node.collection)}"
        else:
            keys = self.inspector.key_files(node.collection, node.subdir)
            sql = f"SHOW BACKUP {quote_string(node.subdir)} IN {quote_string(node.collection)}"
            if keys.unlocking:
                # One key: CockroachDB's rule (which SHOW BACKUP applies) needs every given
                # KMS in one ENCRYPTION-INFO file, and the session's keys may be in several.
                sql += f" WITH KMS = {quote_string(keys.unlocking[0])}"
            elif keys.mode == "kms":  # no known KMS opens it: ask, instead of failing
                self.call_from_thread(self.ask_kms, node, sql)
                return
        self.call_from_thread(self.run_statements, [sql])

    def ask_kms(self, node: NodeRef, sql: str) -> None:
        """SHOW BACKUP of a KMS-encrypted backup no KMS of this session opens: ask for one."""
        from tui.app.screens.secret_prompt import KmsPrompt

        def answered(uri: str | None) -> None:
            if uri:
                self.run_statements([f"{sql} WITH KMS = {quote_string(uri)}"])

        self.push_screen(KmsPrompt(f"{node.subdir} in {redact_uri(node.collection)}"), answered)

    @work(thread=True, group="node", exit_on_error=False)
    def _open_rotation(self, node: NodeRef) -> None:
        unlocking = self.inspector.unlockers(node.collection, node.subdir or "LATEST")
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

        def done(stmt: ast.AlterBackup | None) -> None:
            if stmt is not None:
                if not self.running:
                    self._after_run = modal.retire_step(self.run_check, session_keys=self.inspector.kms.uris)
                self.run_statements([stmt])

        self.push_screen(modal, done)

    def plan(self, stmt: ast.Statement) -> tuple[list[str], list[tuple]]:
        """A dry run of the rotation modal's statement (parsed once, by the modal); runs in the
        modal's worker."""
        self.inspector.kms.remember_statement(stmt)
        result = self.executor_factory(True).run(stmt)
        return result.columns, result.rows

    # -- running statements ------------------------------------------------------------------

    @on(SQLEditor.StatementsSubmitted, "#editor")
    def _submitted(self, message: SQLEditor.StatementsSubmitted) -> None:
        self.run_statements(message.texts)

    def run_statements(self, items: Sequence[str | ast.Statement]) -> None:
        """Run `items` in order in the statement worker (one run at a time): SQL text as typed
        (parsed once, in the worker) or statements already parsed (the rotation dialog's), whose
        text is made only for the history."""
        if self.running:
            self.notify("a statement is still running (Esc cancels it)", severity="warning")
            return
        for item in items:
            self.history.append(item if isinstance(item, str) else format_statement(item))
        self.running = True
        self.generation += 1
        self.cancel_token = CancelToken()
        self.current_run = self._execute(list(items), self.cancel_token, self.generation)
        self.refresh_bindings()  # the footer shows Esc (cancel) while it runs

    @work(thread=True, group="execute", exit_on_error=False)
    def _execute(self, items: list[str | ast.Statement], token: CancelToken, generation: int) -> RunOutcome:
        ran = failed = 0

        def forward(event: Event) -> None:
            self.post_message(self.ProgressEvent(generation, event))

        for item in items:
            if token.cancelled:
                break
            started: float | None = None
            stmt: ast.Statement | None = None
            try:
                statements = syntax.parse(item) if isinstance(item, str) else [item]
                for stmt in statements:
                    self.inspector.kms.remember_statement(stmt)
                    started = self.clock()
                    result = self.executor_factory(False).run(stmt, progress=forward, cancel=token)
                    elapsed = self.clock() - started
                    if token.cancelled:
                        result = as_cancelled(result)
                    ran += 1
                    if not result.ok:
                        failed += 1
                    self.post_message(self.StatementExecuted(
                        generation, format_statement(stmt, redact=True), result.columns, result.rows,
                        log_lines(result), result.ok, elapsed))
            except (SQLSyntaxError, RewrapError) as e:  # bad input: said, and the run stops
                failed += 1
                took = None if started is None else self.clock() - started
                shown = format_statement(stmt, redact=True) if stmt is not None else show_text(str(item))
                self.post_message(self.StatementFailed(generation, shown, safe_error(e), took))
                break
        return RunOutcome(ran, failed, token.cancelled, generation)

    @on(ProgressEvent)
    def _progress(self, message: ProgressEvent) -> None:
        if message.generation != self.generation:
            return
        pane = self.query_one(ProgressPane)
        pane.remove_class("-hidden")
        pane.consume(message.event)

    @on(ProgressEvent)
    def _track_steps(self, message: ProgressEvent) -> None:
        """Which backups are mid-step (of any run, a detached one too): what Ctrl+Q waits for."""
        event, key = message.event, (message.generation, getattr(message.event, "backup", ""))
        if isinstance(event, BackupStarted):
            self._steps[key] = None
        elif isinstance(event, StepStarted):
            self._steps[key] = event.step
        elif isinstance(event, BackupFinished):
            self._steps.pop(key, None)
        elif isinstance(event, Finished):
            self._steps = {k: v for k, v in self._steps.items() if k[0] != message.generation}

    @on(StatementExecuted)
    def _executed(self, message: StatementExecuted) -> None:
        if message.generation != self.generation:
            return  # an abandoned run answered late: newer results stay
        self._results_for(message.generation).show(
            message.text, message.columns, message.rows, message.notices, message.elapsed)

    @on(StatementFailed)
    def _failed(self, message: StatementFailed) -> None:
        if message.generation != self.generation:
            return
        self._results_for(message.generation).show_error(message.text, message.error, message.elapsed)

    def _results_for(self, generation: int) -> ResultsPane:
        """The results pane, emptied when a run's first result arrives (one tab per statement)."""
        pane = self.query_one(ResultsPane)
        if self._results_generation != generation:
            self._results_generation = generation
            pane.clear_results()
        return pane

    def _run_ended(self, worker: Worker[Any], error: str | None) -> None:
        if worker is not self.current_run:
            return  # a run the user detached from (second Esc / Ctrl+C) finished late
        self.running = False
        self.cancel_token = None
        self.current_run = None
        self.refresh_bindings()
        if error is not None:  # not bad input (the worker says that itself): a bug
            self.query_one(ResultsPane).show_error("statement failed", error)
            self.notify(f"statement failed: {error}", severity="error")
        elif worker.result is not None and worker.result.cancelled:
            self.notify("cancelled: every backup is still readable")
        after, self._after_run = self._after_run, None
        outcome = worker.result if error is None else None
        if after is not None and outcome is not None and outcome.ran and not outcome.failed \
                and not outcome.cancelled:
            self.push_screen(after)  # the rotation goes on: can the old key be retired?
        elif after is not None:
            self.notify("the key was not added everywhere, so the old key cannot be retired yet "
                        "(palette: Retire key, to check)", severity="warning")
        # Listings may have changed (a new ENCRYPTION-INFO file): refresh the details shown.
        self.inspector.refresh()
        details = self.query_one(DetailsPanel)
        if details.node is not None:
            self._subjects[self._load_details(details.node)] = details.node

    @on(ProgressPane.CancelRequested, "#progress")
    def _cancel_requested(self) -> None:
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
            self.query_one(ProgressPane).cancel_requested()
            self.notify("cancelling after the current step… (press again to stop waiting)")
            return
        # Second press: a KMS or storage call may hang. Free the session now; the cancelled run
        # still stops at its next step boundary and writes nothing more, and its late output
        # (an older generation) never replaces what runs next.
        self.running = False
        self.cancel_token = None
        self.current_run = None
        self._after_run = None  # the abandoned run's retire step, if any, is not shown later
        self.generation += 1
        self.refresh_bindings()
        self.notify("stopped waiting: the cancelled statement ends its current step in the background")

    # -- quitting ----------------------------------------------------------------------------

    def in_flight(self) -> str:
        """What is still running, for Ctrl+Q to name ("" when nothing is)."""
        groups = [w.group.split(":")[0] for w in self.workers if w.is_running or w.state is WorkerState.PENDING]
        parts: list[str] = []
        if "execute" in groups:
            steps = list(self._steps.values())
            kms = sum(1 for s in steps if s in KMS_STEPS)
            if kms:
                parts.append(plural(kms, "KMS call", "KMS calls"))
            if len(steps) > kms:
                parts.append(plural(len(steps) - kms, "backup mid-step", "backups mid-step"))
            if not steps:
                parts.append(plural(groups.count("execute"), "statement", "statements"))
        others = Counter(WAIT_NAMES[g] for g in groups if g in WAIT_NAMES)
        parts += [plural(n, one, many) for (one, many), n in others.items()]
        return " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)

    async def action_quit(self) -> None:
        """Ctrl+Q: quit, or (work in flight) say what it waits for; a second press quits now.

        Textual's thread workers run on the event loop's executor, whose threads are joined
        at exit: a statement waiting on a KMS that never answers held the terminal blank until
        the KMS deadline. Quitting now abandons those calls (engine.deadline.interrupt), and
        run_app does not join the threads; key files are written create-only, whole or not at
        all, so every backup stays readable.
        """
        busy = self.in_flight()
        if not busy:
            self.exit(self.return_code)
        elif not self.quit_asked:
            self.quit_asked = True
            self.notify(f"waiting for {busy} to finish; press Ctrl+Q again to quit now",
                        title="Quit", severity="warning", timeout=600)
        else:
            from engine.deadline import interrupt

            if self.cancel_token is not None:
                self.cancel_token.cancel()
            interrupt()  # every KMS and storage call in flight is abandoned
            self.quit_now = True
            self.exit(self.return_code)

    # -- status line, help, palette ----------------------------------------------------------

    @on(SQLEditor.DiagnosticsUpdated, "#editor")
    def _diagnosed(self, message: SQLEditor.DiagnosticsUpdated) -> None:
        try:
            status = self.query_one("#status", Static)
        except NoMatches:  # the main screen is not the active one (a modal, or shutting down)
            return
        status.update(message.message)
        status.set_class(message.count > 0, "-problem")

    def action_help(self) -> None:
        from tui.app.screens.help_screen import HelpScreen  # markdown_it: only when asked for

        self.push_screen(HelpScreen())

    def action_toggle_sidebar(self) -> None:
        """Ctrl+B / F9: hide the collections and details (the editor and results get the width)."""
        if len(self.screen_stack) > 1:
            return  # a modal or the help is up: the sidebar is not on screen
        self._show_sidebar(self.query_one("#sidebar").has_class("-hidden"))

    def on_resize(self, event: Any) -> None:
        self._fit_sidebar(event.size.width)

    def _fit_sidebar(self, width: int) -> None:
        """Narrower than NARROW columns the sidebar hides, wider it shows, but only when the
        width crosses NARROW (and at start): a Ctrl+B / F9 choice holds while the terminal is
        resized on the same side."""
        narrow = width < NARROW
        if narrow != self._narrow:
            self._narrow = narrow
            self._show_sidebar(not narrow)

    def _show_sidebar(self, show: bool) -> None:
        sidebar = self.query_one("#sidebar")
        if not show and self.focused is not None and sidebar in self.focused.ancestors_with_self:
            self.query_one(SQLEditor).focus()
        sidebar.set_class(not show, "-hidden")

    def action_export(self) -> None:
        """Ctrl+S: write the shown result to a .csv, .tsv or .json file (asked for in a modal)."""
        from tui.app.screens.export import ExportScreen

        if len(self.screen_stack) > 1:
            return  # not over a dialog (the rotation modal has its own keys)
        shown = self.query_one(ResultsPane).shown
        if shown is None or shown.error is not None:
            self.notify("nothing to export: run a statement that returns rows first", severity="warning")
            return

        def written(path: Any) -> None:
            if path is not None:
                n = len(shown.rows)
                self.notify(f"exported {n} row{'' if n == 1 else 's'} to {path}")

        self.push_screen(ExportScreen(shown.columns, shown.rows), written)

    async def action_focus(self, widget_id: str) -> None:  # App.action_focus is async too
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
        node = getattr(self.query_one(CollectionBrowser).cursor_node, "data", None)
        self.open_retirement(getattr(node, "collection", ""))

    def open_retirement(self, collection: str) -> None:
        from tui.app.screens.retirement import RetirementScreen

        self.push_screen(RetirementScreen(self.run_check, collection=collection,
                                          session_keys=self.inspector.kms.uris))

    def run_check(self, stmt: ast.Statement) -> Any:
        """SHOW KMS RETIREMENT for the retirement screens (parsed by them; called in their worker
        thread)."""
        self.inspector.kms.remember_statement(stmt)
        return self.executor_factory(False).run(stmt)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        editor = self.query_one(SQLEditor)
        results = self.query_one(ResultsPane).table
        yield SystemCommand("Run statement", "run the statement under the cursor (F5)", editor.action_run)
        yield SystemCommand("Add collection", "add a backup collection by URI (remembered, secrets removed)",
                            self.action_add_collection)
        yield SystemCommand("Remove collection", "forget the selected collection (browser and remembered "
                            "list; its backups are untouched) (Delete)", lambda: self.action_node("remove"))
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
        yield SystemCommand("Export result", "write the shown result to a .csv, .tsv or .json file (Ctrl+S)",
                            self.action_export)
        yield SystemCommand("Toggle sidebar", "hide or show the collections and details (Ctrl+B)",
                            self.action_toggle_sidebar)
        yield SystemCommand("Next result", "the run's next statement result (]  in the results)",
                            lambda: self.query_one(ResultsPane).pick(1))
        yield SystemCommand("Previous result", "the run's previous statement result ([  in the results)",
                            lambda: self.query_one(ResultsPane).pick(-1))
        yield SystemCommand("Cancel", "cancel the running statement", self.action_cancel_run)
        yield SystemCommand("Help", "keys and statements (F1)", self.action_help)
        yield SystemCommand("Focus editor", "F2", lambda: self.action_focus("editor"))
        yield SystemCommand("Focus browser", "F3", lambda: self.action_focus("browser"))
        yield SystemCommand("Focus results", "F4", lambda: self.action_focus("results-table"))
        yield SystemCommand("Older statement", "history (Ctrl+Up)", lambda: editor.action_history(-1))
        yield SystemCommand("Newer statement", "history (Ctrl+Down)", lambda: editor.action_history(1))


def as_cancelled(result: Any) -> Any:
    """A cancelled ALTER's result as the progress pane shows it: a backup that failed once the
    cancel was asked for (its KMS call abandoned) reads `cancelled`; its reason stays."""
    if not {"status", "error"} <= set(result.columns):
        return result
    status = result.columns.index("status")
    rows = [(*r[:status], "cancelled", *r[status + 1:]) if r[status] == "failed" else r for r in result.rows]
    return replace(result, rows=rows)


def log_lines(result: Any) -> list[str]:
    """The notice log after a result: what batch mode prints on stderr (tui/cli.py), whole:
    notices, the error, and each failed backup with every reason (one per OLD_KMS URI)."""
    out = [f"NOTICE: {n}" for n in result.notices]
    if result.error:
        out.append(f"ERROR: {result.error}")
    elif not result.ok and {"status", "error"} <= set(result.columns):
        status, error = result.columns.index("status"), result.columns.index("error")
        failed = [r for r in result.rows if r[status] == "failed"]
        out += [f"ERROR: {r[0]}: {r[error]}" for r in failed]
        if failed and len(result.rows) > 1:
            out.append(f"ERROR: {len(failed)} of {len(result.rows)} backups failed")
    return [redact_text(line) for line in out]


def node_sql(node: NodeRef) -> str:
    """What "insert path" puts in the editor: the target as a statement would name it."""
    if node.kind == "collection":
        return quote_string(node.collection)
    return f"{quote_string(node.subdir)} IN {quote_string(node.collection)}"


def default_executor(settings: Settings, dry_run: bool) -> Any:
    from engine.execute import Executor
    from engine.rewrap.journal import AuditJournal

    return Executor(
        kms_env=settings.kms_env,
        settings=settings.engine,
        dry_run=dry_run,
        journal=AuditJournal(settings.audit_log),
    )


def plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def run_app(settings: Settings, early: EarlyStart | None = None) -> int:
    """`rewrap` with no SQL on a terminal (tui/cli.py calls this with its settings).

    Our own event loop, not asyncio.run: that joins the loop's executor threads (the app's
    thread workers) before returning, so a worker in an abandoned call would keep a blank
    terminal. After Ctrl+Q twice, threads still in a call are left: the process ends with
    os._exit once the terminal is restored and output flushed (batch mode's second Ctrl-C does
    the same); a create-only write is whole or absent, so nothing half-written remains.
    """
    import asyncio
    import os
    import sys

    try:
        app = RewrapApp(collections=settings.collections, settings=settings, early=early)
    except SettingsError as e:  # config.toml's theme: a usage error, before the screen changes
        print(f"rewrap: {e}", file=sys.stderr)
        return 2
    loop = asyncio.new_event_loop()
    try:
        app.run(loop=loop)
    finally:
        code = app.return_code or 0
        loop.run_until_complete(loop.shutdown_asyncgens())  # as asyncio.run does
        if not app.quit_now:
            loop.run_until_complete(loop.shutdown_default_executor())
        else:
            try:  # idle executor threads end at once; one in an abandoned call may not
                loop.run_until_complete(asyncio.wait_for(loop.shutdown_default_executor(), QUIT_GRACE))
                left = [t for t in threading.enumerate() if t is not threading.current_thread()
                        and not t.daemon and t.is_alive()]
            except asyncio.TimeoutError:
                left = [threading.current_thread()]
            if left:  # e.g. ALTER BACKUP ALL's pool: never joined, the process ends here
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        loop.close()
    return code
