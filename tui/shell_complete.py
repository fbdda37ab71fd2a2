"""Completion for the line shell: syntax.complete behind prompt_toolkit's Completer, and a
subdirectory provider that lists collections in the background (pgcli's refresher pattern).

The completer itself runs in prompt_toolkit's ThreadedCompleter; the provider never waits for a
listing even there: it answers from its cache (empty the first time), starts one background
listing per collection URI, and calls `on_loaded` when the names are in so the shell can show
the menu again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

Lister = Callable[[str], Sequence[str]]

CACHE_SECONDS = 30.0  # a collection gains a full backup a day at most; re-list now and then


class SubdirCache:
    """Full-backup subdirectories per collection URI, listed off the keystroke path."""

    def __init__(
        self,
        lister: Lister,
        *,
        on_loaded: Callable[[str], None] | None = None,
        max_age: float = CACHE_SECONDS,
    ) -> None:
        self._lister = lister
        self._on_loaded = on_loaded
        self._max_age = max_age
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._loading: set[str] = set()

    def __call__(self, uri: str) -> Sequence[str]:
        """What is known now (maybe nothing); a stale or missing entry is re-listed behind."""
        with self._lock:
            entry = self._cache.get(uri)
            fresh = entry is not None and time.monotonic() - entry[0] < self._max_age
            if not fresh and uri not in self._loading:
                self._loading.add(uri)
                threading.Thread(
                    target=self._load, args=(uri,), name="rewrap-subdirs", daemon=True
                ).start()
            return entry[1] if entry is not None else ()

    def _load(self, uri: str) -> None:
        try:
            names = tuple(self._lister(uri))
        except Exception:  # noqa: BLE001 - unreachable bucket: no names; running a statement says why
            names = ()
        with self._lock:
            self._cache[uri] = (time.monotonic(), names)
            self._loading.discard(uri)
        if self._on_loaded is not None:
            self._on_loaded(uri)


class SQLCompleter(Completer):
    """syntax.complete at the cursor, as prompt_toolkit completions with their detail as meta."""

    def __init__(
        self,
        subdirs: Callable[[str], Sequence[str]] | None = None,
        kms_history: Callable[[], Sequence[str]] = tuple,
    ) -> None:
        self.subdirs = subdirs
        self.kms_history = kms_history

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        from syntax import complete

        cursor = document.cursor_position
        for c in complete(document.text, cursor, subdirs=self.subdirs, kms_history=self.kms_history()):
            yield Completion(
                c.text, start_position=c.start - cursor, display_meta=c.detail or c.kind
            )
