"""The Textual app: layout, wiring, and the engine work it runs in thread workers.

`Session` (the engine side: listings, details, the KMS URIs seen this session) touches no
Textual, so tests and benchmarks call the same code. `RewrapApp` wires widgets to workers with
typed messages (tui/messages.py). The first frame never waits for storage: every listing,
detail and statement runs in a thread worker.
"""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.errors import RewrapError
from engine.rewrap.events import CancelToken, Event
from syntax import SQLSyntaxError, ast, format_statement, parse, quote_string
from syntax.uri import contains_secret, redact_text, redact_uri
from tui.collections_store import CollectionStore, Remembered
from tui.history import History
from tui.messages import (
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
from tui.widgets.browser import CollectionBrowser
from tui.widgets.completion import CompletionDropdown
from tui.widgets.details import DetailsPanel
from tui.widgets.editor import SQLEditor
from tui.widgets.progress import ProgressPane
from tui.widgets.results import ResultsPane

if TYPE_CHECKING:  # the engine's listing and crypto modules load in workers, after the first frame
    from engine.collection import Collection, FullBackup

MAX_SIZED_FILES = 5000


@dataclass
class Session:
    """The KMS URIs this session has seen (memory only) and a cache of collection listings."""

    kms_uris: list[str] = field(default_factory=list)
    subdir_cache: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Cleared while a KMS URI is on its way (the demo's key, remembered just after its tree is
    # shown); `unlockers` waits for it so details never miss a key the session is about to know.
    kms_settled: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.kms_settled.set()

    def remember_kms(self, uri: str) -> None:
        if uri not in self.kms_uris:
            self.kms_uris.append(uri)

    def remember_statement(self, stmt: ast.Statement) -> None:
        values: Sequence[Any] = ()
        if isinstance(stmt, ast.ShowBackup):
            values = stmt.options.kms or ()
        elif isinstance(stmt, ast.ShowBackupKeys):
            values = stmt.kms or ()
        elif isinstance(stmt, ast.AlterBackup):
            values = [v for c in stmt.commands for v in (*c.new_kms, *c.old_kms)]
        for v in values:
            if isinstance(v, str):
                self.remember_kms(v)

    def completion_kms(self) -> list[str]:
        """KMS URIs completion may insert into the editor: only those without secrets."""
        return [u for u in self.kms_uris if not contains_secret(u)]

    # -- listings --------------------------------------------------------------------------

    def collection(self, uri: str) -> Collection:
        from engine.collection import Collection
        from engine.storage import StorageSettings, open_storage

        return Collection(open_storage(uri, StorageSettings.from_env()))

    def list_children(self, node: NodeRef) -> list[NodeRef]:
        coll = self.collection(node.collection)
        if node.kind == "collection":
            fulls = coll.full_backups()
            self.subdir_cache[node.collection] = tuple(fulls)
            try:
                latest = coll.latest()
            except RewrapError:
                latest = None
            return [NodeRef("full", node.collection, s, s.strip("/"), s == latest) for s in reversed(fulls)]
        if node.kind == "full":
            backup = coll.full_backup(node.subdir)
            return [
                NodeRef("incremental", node.collection, node.subdir, layer.path)
                for layer in backup.incrementals()
            ]
        return []

    def subdirs(self, uri: str) -> tuple[str, ...]:
        coll = self.collection(uri)
        fulls = tuple(coll.full_backups())
        self.subdir_cache[uri] = fulls
        return fulls

    # -- details ---------------------------------------------------------------------------

    def unlockers(self, backup: FullBackup) -> tuple[list[tuple[str, str, str]], list[str], str]:
        """(file, fingerprint, note) rows, the session KMS URIs that unlock it, and its mode."""
        from engine.encryption import read_encryption_files
        from engine.formats.encryption_info import fingerprint, key_id_hash
        from engine.kms import parse_kms_uri

        self.kms_settled.wait(10)
        files = read_encryption_files(backup.storage, backup.top_level_files)
        rows = []
        present: set[bytes] = set()
        for f in files.files:
            if f.info is None:
                rows.append((f.name, "", f"unreadable: {f.error}"))
                continue
            for id_hash in f.info.encrypted_data_keys:
                present.add(id_hash)
                rows.append((f.name, fingerprint(id_hash), ""))
            if not f.info.encrypted_data_keys:
                rows.append((f.name, "", "passphrase salt" if f.info.salt else "no keys"))
        unlocking = []
        for uri in self.kms_uris:
            try:
                ids = parse_kms_uri(uri).key_ids
            except RewrapError:
                continue
            if any(key_id_hash(i) in present for i in ids):
                unlocking.append(uri)
        return rows, unlocking, files.mode.value

    def details(self, node: NodeRef) -> list[tuple[str, str]]:
        coll = self.collection(node.collection)
        if node.kind == "collection":
            fulls = coll.full_backups()
            self.subdir_cache[node.collection] = tuple(fulls)
            try:
                latest = coll.latest()
            except RewrapError as e:
                latest = f"({e})"
            return [
                ("collection", redact_uri(node.collection)),
                ("full backups", str(len(fulls))),
                ("LATEST", latest),
            ]
        backup = coll.full_backup(node.subdir)
        out = [("collection", redact_uri(node.collection))]
        if node.kind == "full":
            out += [("full backup", node.subdir + ("  (LATEST)" if node.latest else "")),
                    ("end time", end_time_from_path(node.subdir))]
            storage = backup.storage
        else:
            out += [("incremental", "/" + node.path), ("of full backup", node.subdir),
                    ("end time", end_time_from_path(node.path))]
            storage = coll.storage.child(node.path)
        count, size = sized_listing(storage)
        out += [("files", str(count)), ("size", size)]
        rows, unlocking, mode = self.unlockers(backup)
        out.append(("encryption", mode + ("" if node.kind == "full" else " (the full backup's key)")))
        for name, fp, note in rows:
            out.append((name, f"key {fp}" if fp else note))
        out.append(("unlocked by", ", ".join(redact_uri(u) for u in unlocking) or
                    "no KMS URI known to this session (run a statement WITH KMS = ...)"))
        return out


def end_time_from_path(path: str) -> str:
    """A backup's end time as its directory names it (CockroachDB names directories by it)."""
    import re

    m = re.search(r"(\d{4})/(\d{2})/(\d{2})-(\d{2})(\d{2})(\d{2})\.(\d{2})/?$", path)
    if m:
        y, mo, d, h, mi, s, hs = m.groups()
        return f"{y}-{mo}-{d} {h}:{mi}:{s}.{hs} UTC"
    m = re.search(r"/(\d{4})(\d{2})(\d{2})/(\d{2})(\d{2})(\d{2})\.(\d{2})[^/]*/?$", path)
    if m:
        y, mo, d, h, mi, s, hs = m.groups()
        return f"{y}-{mo}-{d} {h}:{mi}:{s}.{hs} UTC"
    return "unknown"


def sized_listing(storage: Any) -> tuple[int, str]:
    """Number of files under `storage` and their total size (skipped past MAX_SIZED_FILES)."""
    keys = [k for k in storage.list("", "") if not k.endswith("/")]
    if len(keys) > MAX_SIZED_FILES:
        return len(keys), f"not summed (more than {MAX_SIZED_FILES} files)"
    total = sum(storage.size(k) for k in keys)
    return len(keys), human_size(total)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit} ({n} bytes)"
        size /= 1024
    return f"{n} B"



def check_kms_uri(uri: str) -> str | None:
    """Diagnostics' KMS checker: CockroachDB's rules, no network (engine.kms.parse_kms_uri)."""
    from engine.kms import parse_kms_uri

    try:
        parse_kms_uri(uri)
    except RewrapError as e:
        return str(e)
    return None


def safe_error(e: BaseException) -> str:
    """A message fit for the screen: our errors say what and where; anything else only its type
    (a library's text may quote a URI with its secret)."""
    if isinstance(e, (RewrapError, SQLSyntaxError)):
        return redact_text(str(e))
    return f"internal error ({type(e).__name__})"


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
        self.session = Session()
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
        self._first_listing = threading.Event()  # the tree showed a listing (start-up is done)

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        dropdown = CompletionDropdown(id="dropdown")
        with Horizontal(id="body"):
            with Vertical(id="sidebar"):
                yield CollectionBrowser(self.session.list_children, id="browser")
                with VerticalScroll(id="details-scroll"):
                    yield DetailsPanel(id="details")
            with Vertical(id="main"):
                editor = SQLEditor(
                    dropdown=dropdown,
                    subdirs=self.subdirs,
                    kms_history=self.session.completion_kms,
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
            self.session.kms_settled.clear()
            self.call_after_refresh(self._open_demo)  # the first frame is painted before any I/O

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

            from tui.screens.secret_prompt import SecretPrompt

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

            self.session.remember_kms(DEFAULT_DEMO_KMS)
        finally:
            self.session.kms_settled.set()

    def subdirs(self, uri: str) -> Sequence[str]:
        """Completion's provider: cached listings, never blocking; a miss lists in a worker."""
        cached = self.session.subdir_cache.get(uri)
        if cached is not None:
            return cached
        if uri not in self._pending_subdirs:
            self._pending_subdirs.add(uri)
            self._list_subdirs(uri)
        return ()

    @work(thread=True, group="subdirs")
    def _list_subdirs(self, uri: str) -> None:
        try:
            self.session.subdirs(uri)
        except Exception:  # noqa: BLE001 - completion simply has nothing to offer
            self.session.subdir_cache[uri] = ()
        finally:
            self._pending_subdirs.discard(uri)

    # -- browser and details -----------------------------------------------------------------

    def on_node_selected(self, message: NodeSelected) -> None:
        self.query_one(DetailsPanel).loading_for(message.node)
        self._load_details(message.node)

    @work(thread=True, exclusive=True, group="details")
    def _load_details(self, node: NodeRef) -> None:
        try:
            fields = self.session.details(node)
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
                backup = self.session.collection(node.collection).full_backup(node.subdir)
                _, unlocking, _ = self.session.unlockers(backup)
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
            coll = self.session.collection(node.collection)
            backup = coll.full_backup(node.subdir or "LATEST")
            _, unlocking, _ = self.session.unlockers(backup)
        except Exception as e:  # noqa: BLE001
            self.call_from_thread(self.notify, safe_error(e), severity="error")
            return
        target = node if node.kind != "incremental" else NodeRef("full", node.collection, node.subdir)
        self.call_from_thread(self.open_rotation_modal, target, unlocking)

    def open_rotation_modal(self, node: NodeRef, old_kms: Sequence[str]) -> None:
        from tui.screens.rotation_modal import RotationModal

        modal = RotationModal(
            node,
            old_kms=old_kms,
            plan_runner=self.plan,
            subdirs=self.subdirs,
            kms_history=self.session.completion_kms,
            check_kms_uri=check_kms_uri,
        )

        def done(sql: str | None) -> None:
            if sql:
                self.post_message(StatementsSubmitted([sql]))

        self.push_screen(modal, done)

    def plan(self, sql: str) -> tuple[list[str], list[tuple]]:
        """A dry run of `sql` (the rotation modal's plan); runs in the modal's worker."""
        stmt = parse(sql)[0]
        self.session.remember_statement(stmt)
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
                    self.session.remember_statement(stmt)
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
        from tui.screens.help_screen import HelpScreen  # markdown_it: only when asked for

        self.push_screen(HelpScreen())

    def action_focus(self, widget_id: str) -> None:
        self.query_one(f"#{widget_id}").focus()

    def action_add_collection(self) -> None:
        def added(uri: str | None) -> None:
            if uri:
                self.add_collection(uri, remember=True)

        from tui.screens.secret_prompt import AddCollectionPrompt

        self.push_screen(AddCollectionPrompt(), added)

    def action_node(self, action: str) -> None:
        self.query_one(CollectionBrowser).action_node(action)

    def action_retire_key(self) -> None:
        """The key-retirement check (tui/screens/retirement.py) for the selected collection."""
        from tui.screens.retirement import RetirementScreen

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
