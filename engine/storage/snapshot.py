"""A storage whose listings are answered from one listing made up front (SHOW KMS RETIREMENT).

Checking every backup of a collection lists each backup directory three or four times (its
top level, both incremental locations, its index); with 1,000 backups on S3 that is thousands
of LIST calls, and locally a third of the CPU time. The collection is listed once instead, as
SHOW BACKUPS lists it (delimiter "data/", so no data file is ever listed) plus `metadata/`
whole (it holds no data files, and the "data/" delimiter would otherwise collapse it), and each
`list()` below is cut from that snapshot by the ExternalStorage rule (byte order, S3's
CommonPrefixes collapse).

A request the snapshot cannot answer exactly falls through to the real storage: one that
reaches into a collapsed `.../data/` prefix without collapsing it the same way. Reads, writes
and everything else go to the real storage, so contents are always current; only the names are
as of the snapshot (a file gone since is a NotFound when read, which the caller reports).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from engine.storage.base import DelegatingStorage, ExternalStorage, join_key

Keys = list[str]  # (in the class, `list` is the method)

DATA = "data/"
METADATA = "metadata/"


class Snapshot:
    """The collection's keys in byte order, data files collapsed into their `.../data/`."""

    def __init__(self, storage: ExternalStorage) -> None:
        listed = list(storage.list("", DATA))
        meta = list(storage.list(METADATA)) if METADATA in listed else []
        # Valid Unicode keys: code point order is UTF-8 byte order, so str sorting is enough.
        self.keys = sorted({*(k for k in listed if k != METADATA), *meta})
        self.collapsed = frozenset(k for k in self.keys if k.endswith(DATA))
        self.fallbacks = 0  # listings it could not answer (observable in tests)


class SnapshotStorage(DelegatingStorage):
    """`inner` with listings cut from `snapshot` (whose keys are relative to the collection
    root; `root` is this storage's path below it, '' or ending in '/')."""

    def __init__(self, inner: ExternalStorage, snapshot: Snapshot, root: str = "") -> None:
        super().__init__(inner)
        self.snapshot = snapshot
        self.root = root

    @classmethod
    def of(cls, storage: ExternalStorage) -> SnapshotStorage:
        """List `storage` (a collection root) once and answer its listings from that."""
        return cls(storage, Snapshot(storage))

    def list(self, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        answer = self._from_snapshot(prefix, delimiter)
        if answer is None:
            self.snapshot.fallbacks += 1
            return self.inner.list(prefix, delimiter)
        return iter(answer)

    def _from_snapshot(self, prefix: str, delimiter: str) -> Keys | None:
        """The listing cut from the snapshot, or None when only the real storage knows it.
        (The hot loop of a retirement check: four calls per backup, so `collapse` inlined.)"""
        full = self.root + prefix
        snap = self.snapshot
        if DATA in full and snap.collapsed:  # at or inside a collapsed directory: unknown there
            at = full.find(DATA)
            while at >= 0:
                if full[: at + len(DATA)] in snap.collapsed:
                    return None
                at = full.find(DATA, at + 1)
        keys = snap.keys
        i = bisect_left(keys, full)
        # Keys starting with `full` sort before its successor (code point order).
        j = bisect_left(keys, full[:-1] + chr(ord(full[-1]) + 1), i) if full else len(keys)
        cut, plen, dlen = len(self.root), len(prefix), len(delimiter)
        out: Keys = []
        last = None
        for key in keys[i:j]:
            if cut:
                key = key[cut:]
            if delimiter:
                d = key.find(delimiter, plen)
                if d >= 0:
                    shown = key[: d + dlen]
                elif key.endswith(DATA):  # a collapsed prefix that does not collapse within itself
                    return None
                else:
                    shown = key
            elif key.endswith(DATA):
                return None
            else:
                shown = key
            if shown != last:
                out.append(shown)
                last = shown
        return out

    def child(self, path: str) -> SnapshotStorage:
        sub = join_key(path)
        return SnapshotStorage(self.inner.child(path), self.snapshot, self.root + sub + "/" if sub else self.root)

