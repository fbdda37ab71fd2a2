"""The inspection service: what a collection holds, for the faces that browse it.

Collections -> full backups (newest first, LATEST marked) -> their chains -> the key files of
each full backup and which known KMS URIs unlock them -> sizes as the manifests record them.
Listings use the same delimited listings as SHOW BACKUPS (engine/collection.py), so nothing
here ever lists or stats a `data/` directory.

One storage per collection URI is opened on first use, kept, and closed by `close()` (or on
leaving a `with` block). Listings are cached for `max_age` seconds (or until `refresh`), since
a collection changes when someone writes to it; sizes are cached for good, since a backup's
manifest never changes once written. Thread-safe: the app calls it from several workers.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from engine.errors import RewrapError
from engine.inspection.kms_memory import KMSMemory
from engine.inspection.sizes import (
    UNKNOWN_UNTIL_UNLOCKED,
    LayerSizes,
    Sizes,
    SizeUnknown,
)

if TYPE_CHECKING:  # the listing and crypto modules load on first use, not with the UI
    from types import TracebackType

    from engine.collection import BackupLayer, Collection, FullBackup
    from engine.encryption import EncryptionFiles
    from engine.inspection.keys import KeyRow
    from engine.kms import KMSEnv
    from engine.storage import ExternalStorage

Opener = Callable[[str], "ExternalStorage"]

CACHE_SECONDS = 30.0  # listings: a collection gains a backup a day, an ENCRYPTION-INFO file rarely
KMS_SETTLE_SECONDS = 10.0  # how long a key-file lookup waits for a KMS URI on its way


@dataclass(frozen=True)
class FullBackupRef:
    subdir: str  # '/2026/11/24-020012.34'
    latest: bool = False


@dataclass(frozen=True)
class CollectionListing:
    """A collection's full backups as SHOW BACKUPS finds them, newest first."""

    full_backups: tuple[FullBackupRef, ...]
    latest: str | None  # the subdir LATEST names, None when it cannot be read
    latest_error: str | None = None  # why not
    unlisted_slim: tuple[str, ...] = ()  # slim-only directories CockroachDB would not list

    @property
    def subdirs(self) -> tuple[str, ...]:
        """Chronological, as SHOW BACKUPS lists them."""
        return tuple(reversed([f.subdir for f in self.full_backups]))


@dataclass(frozen=True)
class KeyFiles:
    """A full backup's ENCRYPTION-INFO files and the known KMS URIs that unlock it."""

    mode: str  # EncryptionMode value: none, passphrase, kms, unusable
    rows: tuple[KeyRow, ...]
    unlocking: tuple[str, ...]  # as remembered (may hold secrets: redact before showing)
    files: EncryptionFiles = field(repr=False, compare=False)


@dataclass
class _Entry:
    """What is cached for one collection URI."""

    storage: ExternalStorage
    collection: Collection
    lock: threading.RLock = field(default_factory=threading.RLock)
    loaded_at: float = 0.0
    listing: CollectionListing | None = None
    fulls: dict[str, FullBackup] = field(default_factory=dict)
    chains: dict[str, list[BackupLayer]] = field(default_factory=dict)
    keys: dict[str, EncryptionFiles] = field(default_factory=dict)
    sizes: dict[str, LayerSizes] = field(default_factory=dict)  # by layer path: never stale

    def forget_listings(self) -> None:
        self.listing = None
        self.fulls.clear()
        self.chains.clear()
        self.keys.clear()


def _default_opener(uri: str) -> ExternalStorage:
    from engine.storage import open_storage

    return open_storage(uri)  # the engine's defaults; the faces pass an opener with their settings


class Inspector:
    """Read-only views of collections, with one cached storage per collection URI."""

    def __init__(
        self,
        open_storage: Opener | None = None,
        *,
        kms: KMSMemory | None = None,
        kms_env: KMSEnv | None = None,
        max_age: float | None = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._open = open_storage or _default_opener
        self.kms = kms or KMSMemory()
        self._kms_env = kms_env
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Close every storage opened so far (a later call opens afresh)."""
        with self._lock:
            entries, self._entries = list(self._entries.values()), {}
        for e in entries:
            try:
                e.storage.close()
            except Exception:  # noqa: BLE001 - closing is best effort, the others still close
                pass

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    @property
    def open_collections(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    def refresh(self, uri: str | None = None) -> None:
        """Drop cached listings and key files (of `uri`, or of all): the next call lists again.
        The storages stay open; recorded sizes stay (a manifest never changes)."""
        with self._lock:
            entries = [self._entries[uri]] if uri in self._entries else [] if uri else list(self._entries.values())
        for e in entries:
            with e.lock:
                e.forget_listings()

    def _entry(self, uri: str) -> _Entry:
        with self._lock:
            entry = self._entries.get(uri)
        if entry is None:
            from engine.collection import Collection

            storage = self._open(uri)
            with self._lock:
                kept = self._entries.get(uri)
                if kept is None:
                    kept = self._entries[uri] = _Entry(storage, Collection(storage))
            if kept.storage is not storage:  # another thread opened it first
                storage.close()
            entry = kept
        with entry.lock:
            now = self._clock()
            if self._max_age is not None and now - entry.loaded_at >= self._max_age:
                entry.forget_listings()
                entry.loaded_at = now
        return entry

    def collection(self, uri: str) -> Collection:
        """The cached Collection of `uri` (its storage stays open until `close`)."""
        return self._entry(uri).collection

    # -- listings ----------------------------------------------------------------------------

    def listing(self, uri: str) -> CollectionListing:
        """Full backups newest first with LATEST marked (one delimited listing, the index
        directory, and LATEST: as SHOW BACKUPS)."""
        e = self._entry(uri)
        with e.lock:
            if e.listing is None:
                fulls = e.collection.full_backups()
                try:
                    latest, error = e.collection.latest(), None
                except RewrapError as exc:
                    latest, error = None, str(exc)
                e.listing = CollectionListing(
                    tuple(FullBackupRef(s, s == latest) for s in reversed(fulls)),
                    latest,
                    error,
                    tuple(e.collection.unlisted_slim),
                )
            return e.listing

    def subdirs(self, uri: str) -> tuple[str, ...]:
        """The full backups' subdirs in SHOW BACKUPS order (for completion)."""
        return self.listing(uri).subdirs

    def cached_subdirs(self, uri: str) -> tuple[str, ...] | None:
        """The subdirs if a fresh listing is cached, else None; never does I/O."""
        with self._lock:
            e = self._entries.get(uri)
        if e is None or e.listing is None:
            return None
        if self._max_age is not None and self._clock() - e.loaded_at >= self._max_age:
            return None
        return e.listing.subdirs

    def full_backup(self, uri: str, subdir: str) -> FullBackup:
        """The full backup at `subdir` ('LATEST' resolved; the cached listing's LATEST if any)."""
        e = self._entry(uri)
        with e.lock:
            if subdir.strip().lower() == "latest" and e.listing is not None and e.listing.latest:
                subdir = e.listing.latest
            backup = e.fulls.get(subdir)
            if backup is None:
                backup = e.collection.full_backup(subdir)
                e.fulls[subdir] = e.fulls[backup.subdir] = backup
            return backup

    def incrementals(self, uri: str, subdir: str) -> list[BackupLayer]:
        """The chain's incrementals after the full backup, oldest first."""
        e = self._entry(uri)
        backup = self.full_backup(uri, subdir)
        with e.lock:
            chain = e.chains.get(backup.subdir)
            if chain is None:
                chain = e.chains[backup.subdir] = backup.incrementals()
            return list(chain)

    # -- keys --------------------------------------------------------------------------------

    def key_files(self, uri: str, subdir: str) -> KeyFiles:
        """The backup's ENCRYPTION-INFO files as SHOW BACKUP KEYS rows, and the remembered KMS
        URIs whose key id one of them holds (no KMS call)."""
        from engine.inspection.keys import key_rows, unlocking_uris

        files = self._encryption_files(uri, subdir)
        uris = self.kms.uris(wait=KMS_SETTLE_SECONDS)
        return KeyFiles(files.mode.value, tuple(key_rows(files)), tuple(unlocking_uris(files, uris)), files)

    def unlockers(self, uri: str, subdir: str) -> list[str]:
        return list(self.key_files(uri, subdir).unlocking)

    def _encryption_files(self, uri: str, subdir: str) -> EncryptionFiles:
        from engine.encryption import read_encryption_files

        e = self._entry(uri)
        backup = self.full_backup(uri, subdir)
        with e.lock:
            files = e.keys.get(backup.subdir)
            if files is None:
                files = e.keys[backup.subdir] = read_encryption_files(backup.storage, backup.top_level_files)
            return files

    # -- sizes -------------------------------------------------------------------------------

    def sizes(self, uri: str, subdir: str, layer_path: str | None = None) -> Sizes:
        """What the manifest of the full backup (or of its incremental at `layer_path`, relative
        to the collection) records. An encrypted manifest is opened with the first remembered
        KMS URI that holds a key of the backup (one KMS call, once per layer); with none,
        SizeUnknown says so. Nothing under data/ is listed or stat'ed."""
        from engine.encryption import EncryptionMode, unlocked_key
        from engine.inspection.sizes import read_layer_sizes

        e = self._entry(uri)
        backup = self.full_backup(uri, subdir)
        path = backup.path if layer_path is None else layer_path.strip("/")
        with e.lock:
            cached = e.sizes.get(path)
        if cached is not None:
            return cached
        layer = backup.layer() if path == backup.path else self._layer(uri, backup.subdir, path)
        keys = self.key_files(uri, backup.subdir)
        mode = EncryptionMode(keys.mode)
        if mode is EncryptionMode.PASSPHRASE:
            return SizeUnknown(f"{UNKNOWN_UNTIL_UNLOCKED} (passphrase-encrypted: the manifest needs the passphrase)")
        if mode is EncryptionMode.KMS and not keys.unlocking:
            return SizeUnknown(f"{UNKNOWN_UNTIL_UNLOCKED} (no KMS URI known to this session opens its manifest)")
        try:
            with unlocked_key(keys.files, kms_uris=list(keys.unlocking[:1]), env=self._kms_env,
                              where=backup.display_uri, notices=[]) as key:
                found = read_layer_sizes(layer, key)
        except RewrapError as exc:
            return SizeUnknown(f"unknown: {exc}")
        with e.lock:
            e.sizes[path] = found
        return found

    def _layer(self, uri: str, subdir: str, path: str) -> BackupLayer:
        for layer in self.incrementals(uri, subdir):
            if layer.path == path:
                return layer
        from engine.collection import CollectionError

        raise CollectionError(f"/{path}: not an incremental of the full backup {subdir}")


_END_TIME_RES = (
    re.compile(r"(\d{4})/(\d{2})/(\d{2})-(\d{2})(\d{2})(\d{2})\.(\d{2})/?$"),
    re.compile(r"/(\d{4})(\d{2})(\d{2})/(\d{2})(\d{2})(\d{2})\.(\d{2})[^/]*/?$"),
)


def end_time_from_path(path: str) -> str:
    """A backup's end time as its directory names it (CockroachDB names directories by it):
    '2026-11-24 02:00:12.34 UTC', or 'unknown'."""
    for pattern in _END_TIME_RES:
        m = pattern.search(path)
        if m:
            y, mo, d, h, mi, s, hs = m.groups()
            return f"{y}-{mo}-{d} {h}:{mi}:{s}.{hs} UTC"
    return "unknown"
