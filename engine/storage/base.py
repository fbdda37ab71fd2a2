"""The ExternalStorage interface every scheme implements.

Deliberately small and write-once: list, read, read a byte range, size, and create-only write.
There is no overwrite and no delete, so no code path in rewrap can destroy a backup file.
Paths are '/'-separated keys relative to the storage root (the collection or backup URI).
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Iterator

from engine.errors import RewrapError
from engine.settings import StorageSettings as StorageSettings  # its home is engine.settings


class StorageError(RewrapError):
    """A storage operation failed; the message names the (redacted) location and the cause."""


class NotFound(StorageError):
    """The object does not exist."""


class NotAFile(StorageError):
    """The name exists but is not a regular file (a directory, FIFO, device, socket): never read,
    never waited on. Not a NotFound: the name is taken, so it must not be written over either."""


class AlreadyExists(StorageError):
    """A create-only write found the object already there (someone else won the race)."""


def join_key(*parts: str) -> str:
    """Join key parts with single slashes, dropping empty parts and outer slashes."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


class ExternalStorage(abc.ABC):
    """A location holding backup files. Implementations must be safe to use from threads."""

    #: the URI this storage was opened with, secrets redacted: safe to show anywhere.
    display_uri: str

    @abc.abstractmethod
    def list(self, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        """Keys under the root that start with `prefix`, in lexical (byte) order.

        With a delimiter, keys whose remainder after `prefix` contains it are collapsed into one
        entry ending at (and including) the first delimiter, like S3's CommonPrefixes; each
        collapsed entry is yielded once. Implementations never descend into collapsed prefixes
        (so a delimiter of "data/" keeps a listing from touching data files).
        """

    @abc.abstractmethod
    def read(self, key: str) -> bytes:
        """The whole object; NotFound if it does not exist."""

    @abc.abstractmethod
    def read_range(self, key: str, offset: int, length: int) -> bytes:
        """Up to `length` bytes from `offset` (fewer at the end of the object)."""

    @abc.abstractmethod
    def size(self, key: str) -> int:
        """Object size in bytes; NotFound if it does not exist."""

    @abc.abstractmethod
    def write_new(self, key: str, data: bytes) -> None:
        """Create `key` holding `data`, atomically and only if it does not exist yet.

        Raises AlreadyExists when it does. A reader never sees a partial object: either the whole
        object is there or nothing is.
        """

    @abc.abstractmethod
    def child(self, path: str) -> ExternalStorage:
        """A storage rooted at `path` below this one (e.g. one backup directory)."""

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except NotFound:
            return False
        return True

    def take_warnings(self) -> builtins.list[str]:  # builtins.: `list` here is the method
        """Warnings a person should see that did not stop an operation (e.g. a listing that
        skipped an entry it cannot show), collected since the last call and shared with the
        storage's children. Callers add them to a statement's notices."""
        return []

    def close(self) -> None:
        """Release clients and connections."""

    def __enter__(self) -> ExternalStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DelegatingStorage(ExternalStorage):
    """`inner` with every call passed through: a wrapper overrides what it changes (a listing
    cut from a snapshot, a counted or gated call) and `child`, which must wrap the child too."""

    def __init__(self, inner: ExternalStorage) -> None:
        self.inner = inner
        self.display_uri = inner.display_uri

    def list(self, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        return self.inner.list(prefix, delimiter)

    def read(self, key: str) -> bytes:
        return self.inner.read(key)

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        return self.inner.read_range(key, offset, length)

    def size(self, key: str) -> int:
        return self.inner.size(key)

    def write_new(self, key: str, data: bytes) -> None:
        self.inner.write_new(key, data)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def take_warnings(self) -> builtins.list[str]:
        return self.inner.take_warnings()

    def close(self) -> None:
        self.inner.close()


def collapse(key: str, prefix: str, delimiter: str) -> str:
    """S3 CommonPrefixes rule: cut `key` after the first `delimiter` following `prefix`."""
    if not delimiter:
        return key
    i = key.find(delimiter, len(prefix))
    return key if i < 0 else key[: i + len(delimiter)]
