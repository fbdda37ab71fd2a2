"""Whole-call deadlines and clean error texts for the cloud storages (s3, gs, azure-blob).

`with_deadlines` wraps a storage class's calls: list (a chunk of names at a time), read,
read_range, size and write_new each get engine.settings.Limits.storage_timeout, retries
included, and end at once on Ctrl-C (except a create-only write, which is left to finish so
that what was sent is what is seen). A call that gets no answer in time is a StorageError
naming the endpoint and the deadline; every StorageError text is scrubbed of the storage's
secrets (engine.scrub) before it leaves.

The storage class provides `endpoint` (where calls go) and `secrets()` (its URI's values).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from engine.deadline import DeadlineExceeded, call_with_deadline
from engine.settings import limits
from engine.storage.base import ExternalStorage, StorageError

C = TypeVar("C", bound=type[ExternalStorage])
LIST_CHUNK = 1000  # names fetched per deadline-bound step of a listing (about one page)


def _where(storage: Any, key: str) -> str:
    where = getattr(storage, "_where", None)
    try:
        return str(where(key)) if where is not None and key else str(storage.display_uri)
    except Exception:  # noqa: BLE001 - only used to name the place in a message
        return str(storage.display_uri)


def _call(storage: Any, op: str, key: str, fn: Callable[[], Any], *, write: bool = False) -> Any:
    from engine.scrub import scrub_text

    seconds = limits().storage_timeout
    try:
        return call_with_deadline(fn, seconds, what=f"storage {op}", abandon_on_interrupt=not write)
    except DeadlineExceeded:
        tail = "; the write may still complete: run the statement again to see" if write else ""
        raise StorageError(
            f"{_where(storage, key)}: cannot {op}: timed out: no answer from "
            f"{storage.endpoint} within {seconds:g} s (storage deadline; see --storage-timeout)"
            f"{tail}"
        ) from None
    except StorageError as e:
        text = str(e)
        cleaned = scrub_text(text, storage.secrets())
        if cleaned == text:
            raise
        raise type(e)(cleaned) from None


def with_deadlines(cls: C) -> C:
    """Wrap the storage calls of `cls` (see the module docstring)."""
    read, read_range, size, write_new, listing = (
        cls.read, cls.read_range, cls.size, cls.write_new, cls.list,
    )

    @functools.wraps(read)
    def read_(self: Any, key: str) -> bytes:
        return _call(self, "read", key, lambda: read(self, key))  # type: ignore[no-any-return]

    @functools.wraps(read_range)
    def read_range_(self: Any, key: str, offset: int, length: int) -> bytes:
        return _call(self, "read", key, lambda: read_range(self, key, offset, length))  # type: ignore[no-any-return]

    @functools.wraps(size)
    def size_(self: Any, key: str) -> int:
        return _call(self, "stat", key, lambda: size(self, key))  # type: ignore[no-any-return]

    @functools.wraps(write_new)
    def write_new_(self: Any, key: str, data: bytes) -> None:
        _call(self, "write", key, lambda: write_new(self, key, data), write=True)

    @functools.wraps(listing)
    def list_(self: Any, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        names = iter(listing(self, prefix, delimiter))
        while True:
            chunk = _call(self, "list", prefix, lambda: list(itertools.islice(names, LIST_CHUNK)))
            yield from chunk
            if len(chunk) < LIST_CHUNK:
                return

    cls.read, cls.read_range, cls.size, cls.write_new, cls.list = (  # type: ignore[method-assign]
        read_, read_range_, size_, write_new_, list_,
    )
    return cls
