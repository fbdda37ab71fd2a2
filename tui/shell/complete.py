"""Completion for the line shell: syntax.complete behind prompt_toolkit's Completer, and a
subdirectory provider that lists collections in the background (pgcli's refresher pattern).

The completer runs in prompt_toolkit's ThreadedCompleter, so the UI never waits for it; the
provider answers from its cache, else starts one background listing per collection URI and waits
for it at most `patience` seconds (a local collection answers in time; a slow bucket does not
hold the completion thread either). Whenever a listing lands it calls `on_loaded`, so the shell
can reopen the menu with the names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from syntax.redact import redact_text

Lister = Callable[[str], Sequence[str]]

CACHE_SECONDS = 30.0  # a collection gains a full backup a day at most; re-list now and then
PATIENCE_SECONDS = 0.25


class SubdirCache:
    """Full-backup subdirectories per collection URI, listed off the keystroke path."""

    def __init__(
        self,
        lister: Lister,
        *,
        on_loaded: Callable[[str], None] | None = None,
        max_age: float = CACHE_SECONDS,
        patience: float = PATIENCE_SECONDS,
    ) -> None:
        self._lister = lister
        self._on_loaded = on_loaded
        self._max_age = max_age
        self._patience = patience
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._loading: dict[str, threading.Event] = {}

    def __call__(self, uri: str) -> Sequence[str]:
        """The names known for `uri`; a stale entry is served while it is re-listed behind."""
        with self._lock:
            entry = self._cache.get(uri)
            fresh = entry is not None and time.monotonic() - entry[0] < self._max_age
            done = self._loading.get(uri)
            if not fresh and done is None:
                done = self._loading[uri] = threading.Event()
                threading.Thread(
                    target=self._load, args=(uri, done), name="rewrap-subdirs", daemon=True
                ).start()
        if entry is not None:
            return entry[1]
        if done is not None and done.wait(self._patience):
            with self._lock:
                entry = self._cache.get(uri)
        return entry[1] if entry is not None else ()

    def _load(self, uri: str, done: threading.Event) -> None:
        try:
            names = tuple(self._lister(uri))
        except Exception:  # noqa: BLE001 - unreachable bucket: no names; running a statement says why
            names = ()
        with self._lock:
            self._cache[uri] = (time.monotonic(), names)
            del self._loading[uri]
        done.set()
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
            # The menu shows the redacted text (an earlier KMS URI may hold a secret); what is
            # inserted is the real one, which the input then draws as bullets.
            yield Completion(
                c.text,
                start_position=c.start - cursor,
                display=redact_text(c.text),
                display_meta=redact_text(c.detail or c.kind),
            )
