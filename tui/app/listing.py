"""What the collection browser lists, and the console's first listings (no Textual here).

`children_of` is what the app's browse workers run. `EarlyStart` begins the listings the tree
will ask for first (the collections given with --collection, else an already written demo
collection) in threads as soon as the console is chosen: tui/cli.py makes it before importing
Textual, so the listing overlaps the imports and the first frames (tests/bench/bench_console.py).
Each answer is taken once, by the browse worker of its node's first expansion; a later
expansion lists afresh, so nothing older than this start is ever shown. Once its listing is
shown (the app sets `listing_shown` after the tree's repaint), the thread loads what the editor's
first keystroke needs (WARM: the parser, completion, diagnostics), which the first frames do not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from engine.errors import RewrapError
from engine.inspection import Inspector
from syntax.uri import redact_uri
from tui.app.messages import NodeRef
from tui.collections_store import CollectionStore

if TYPE_CHECKING:
    from tui.collections_store import Remembered
    from tui.settings import Settings

NOTHING_STORED = "nothing is stored there (check the path)"  # as SHOW BACKUPS says it
WARM = ("syntax.parser", "syntax.completion", "syntax.diagnostics", "syntax.catalog")
WARM_AFTER_S = 2.0  # at the latest, if the app never says the listing is on screen


class NothingStored(RewrapError):
    """A collection with no backups where the storage holds nothing at all: usually a typo."""

    def __init__(self) -> None:
        super().__init__(NOTHING_STORED)


def children_of(inspector: Inspector, node: NodeRef) -> list[NodeRef]:
    """A collection's full backups (newest first, LATEST marked) or a full backup's
    incrementals (oldest first); an incremental has none. The app runs it in a worker.
    NothingStored when a collection's storage holds nothing (not even other files)."""
    if node.kind == "collection":
        listing = inspector.listing(node.collection)
        if not listing.full_backups and next(iter(inspector.collection(node.collection).storage.list()), None) is None:
            raise NothingStored()
        return [NodeRef("full", node.collection, f.subdir, f.subdir.strip("/"), f.latest)
                for f in listing.full_backups]
    if node.kind == "full":
        return [NodeRef("incremental", node.collection, node.subdir, layer.path)
                for layer in inspector.incrementals(node.collection, node.subdir)]
    return []


class EarlyStart:
    """The app's inspector and collection store, and the listings begun before its first frame.

    `listings`: node -> the answer on its way (taken once by the app's browse worker).
    `demo_listed`: the demo collection is shown (already written; its listing is under way);
    when False and the demo is wanted, the app's `demo` worker writes it first, as before.
    """

    def __init__(self, settings: Settings, collections: Sequence[str] = (), *, demo: bool = True,
                 store: CollectionStore | None = None) -> None:
        self.settings = settings
        self.inspector = Inspector(self.open_storage, kms_env=settings.kms_env)
        self.store = store or CollectionStore(settings.collections_path)
        self.remembered: list[Remembered] = self.store.load()
        self.listings: dict[NodeRef, Future[list[NodeRef]]] = {}
        self.demo_listed = False
        self._warm_lock = threading.Lock()
        self._warmed = False
        # Set by the app once a listing is on screen: importing WARM holds the interpreter lock
        # for ~0.1 s, which before this waited delayed the tree's repaint by as much.
        self.listing_shown = threading.Event()
        for uri in dict.fromkeys(collections):
            self._list(NodeRef("collection", uri))
        if not self.remembered and not collections and demo:
            self.inspector.kms.settled.clear()  # until the demo key is remembered
            self.demo_listed = self._list_demo()

    def open_storage(self, uri: str) -> Any:
        """The inspector's storages, opened with the settings (external-IO dir...)."""
        from engine.storage import open_storage

        return open_storage(uri, self.settings.engine.storage)

    def _list(self, ref: NodeRef, then: Callable[[], None] | None = None) -> None:
        """List `ref` in a thread now; `then` runs in that thread once it is done (or failed)."""
        future: Future[list[NodeRef]] = Future()

        def run() -> None:
            try:
                future.set_result(children_of(self.inspector, ref))
            except BaseException as e:  # handed to the browse worker, which reports it
                future.set_exception(e)
            finally:
                if then is not None:
                    then()
                self._warm()

        self.listings[ref] = future
        threading.Thread(target=run, name=f"early listing {redact_uri(ref.collection)}").start()

    def _warm(self) -> None:
        """Import WARM once (after the first listing, in its thread): the first keystroke's
        completion and diagnostics then find them loaded, as before they were deferred."""
        import importlib

        with self._warm_lock:
            if self._warmed:
                return
            self._warmed = True
        self.listing_shown.wait(WARM_AFTER_S)
        for name in WARM:
            importlib.import_module(name)

    def _list_demo(self) -> bool:
        """An already written demo collection is listed at once; one still to write (the first
        start) is left to the app's `demo` worker, after the first frame."""
        from engine.demo_location import DEFAULT_DEMO_KMS, DEMO_COLLECTION, demo_collection_dir, demo_written

        if not demo_written(demo_collection_dir(self.settings.engine.storage)):
            return False

        def remember_key() -> None:
            self.inspector.kms.remember(DEFAULT_DEMO_KMS)
            self.inspector.kms.settled.set()

        self._list(NodeRef("collection", DEMO_COLLECTION), then=remember_key)
        return True
