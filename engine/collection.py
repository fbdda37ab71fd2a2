"""A backup collection as CockroachDB lays it out (spec backup-format.md §1).

Full backups are found the way SHOW BACKUPS finds them, LATEST is resolved in both styles, and the
incrementals of a full backup are found in both layouts and put in chain order. Everything goes
through ExternalStorage with listing delimiters, so no listing ever walks a `data/` directory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from engine.errors import RewrapError
from engine.formats.latest_name import LATEST_DIR
from engine.formats.names import BACKUP_LEGACY, BACKUP_MANIFEST, BACKUP_METADATA, MANIFEST_NAMES
from engine.storage import ExternalStorage, NotFound
from syntax.uri import redact_uri

LATEST_FILE = "LATEST"
INCREMENTALS_DIR = "incrementals"
DATA_DELIMITER = "data/"

# backupdest.ListFullBackupsInCollection: exactly three path components, then BACKUP_MANIFEST.
_FULL_BACKUP_RE = re.compile(r"^/?([^/]+/[^/]+/[^/]+)/BACKUP_MANIFEST\Z")  # \Z: Go's $
# FindPriorBackups' glob /[0-9]*/[0-9]*.[0-9][0-9]/BACKUP_MANIFEST (also matches the v25.2+
# "-<start time>" suffix, which ends in hundredths too). We accept every manifest name.
_INCREMENTAL_RE = re.compile(
    r"^/?([0-9][^/]*/[0-9][^/]*\.[0-9][0-9])/(" + "|".join(map(re.escape, MANIFEST_NAMES)) + r")\Z"
)
# A path ending in an incremental's own two levels (old layout, inside the full backup's dir).
_INCREMENTAL_TAIL_RE = re.compile(r"/[0-9]{8}/[0-9]{6}\.[0-9]{2}(-[0-9]{8}-[0-9]{6}\.[0-9]{2})?\Z")
# backupdest's backupSubdirRE, used to split a full backup URI into collection + subdir.
_SUBDIR_RE = re.compile(r"^(.*)/([0-9]{4}/[0-9]{2}/[0-9]{2}-[0-9]{6}\.[0-9]{2}/?)\Z")


class CollectionError(RewrapError):
    """The collection does not hold what was asked for."""


def normalize_subdir(subdir: str) -> str:
    """'/2023/11/09-174726.48' style: one leading slash, no trailing slash."""
    return "/" + subdir.strip().strip("/")


def split_backup_uri_path(path: str) -> tuple[str, str] | None:
    """Split a full backup's path into (collection path, '/YYYY/MM/DD-HHMMSS.hh'), if dated."""
    m = _SUBDIR_RE.match(path.rstrip("/"))
    if not m:
        return None
    return m.group(1), normalize_subdir(m.group(2))


@dataclass(frozen=True)
class BackupLayer:
    """One backup of a chain: the full backup or one incremental.

    `path` is relative to the collection root ('2023/11/09-174726.48' or
    'incrementals/2023/11/09-174726.48/20231109/180000.00'); `manifest_name` is the manifest file
    rewrap reads for it.
    """

    path: str
    is_full: bool
    manifest_name: str
    storage: ExternalStorage

    @property
    def display(self) -> str:
        return "/" + self.path


class Collection:
    """Full backups, LATEST and chains of one collection."""

    def __init__(self, storage: ExternalStorage) -> None:
        self.storage = storage
        self.list_calls = 0  # observable for the "never list data/" benchmarks and tests

    def _list(self, prefix: str = "", delimiter: str = "") -> list[str]:
        self.list_calls += 1
        return list(self.storage.list(prefix, delimiter))

    # -- SHOW BACKUPS ------------------------------------------------------------------------

    def full_backups(self) -> list[str]:
        """Subdirs of the full backups ('/2023/11/09-174726.48'), in listing (chronological) order."""
        out = []
        for key in self._list("", DATA_DELIMITER):
            m = _FULL_BACKUP_RE.match(key)
            if m:
                out.append("/" + m.group(1))
        return out

    # -- LATEST ------------------------------------------------------------------------------

    def latest(self) -> str:
        """The subdir LATEST points at: newest metadata/latest/LATEST-<hex> (lexically smallest),
        else the legacy root LATEST file."""
        self.list_calls += 1
        for key in self.storage.list(LATEST_DIR + "/"):  # lazily: stop at the first usable name
            name = key[len(LATEST_DIR) + 1 :]
            if not name or "/" in name:
                continue  # directory placeholder objects (cockroach#106070) and nested keys
            return self._read_latest(key)
        try:
            return self._read_latest(LATEST_FILE)
        except NotFound:
            raise CollectionError(
                f"{self.storage.display_uri}: no LATEST file found (looked in {LATEST_DIR}/ and "
                f"{LATEST_FILE}): is this a backup collection?"
            ) from None

    def _read_latest(self, key: str) -> str:
        content = self.storage.read(key)
        try:
            text = content.decode("utf-8").strip()
        except UnicodeDecodeError:
            text = ""
        if not text:
            raise CollectionError(f"{self.storage.display_uri}/{key}: malformed LATEST file")
        return normalize_subdir(text)

    def resolve(self, subdir: str) -> str:
        """A subdir as given in a statement ('LATEST' in any case, or a path) -> '/a/b/c'."""
        if subdir.strip().lower() == "latest":
            return self.latest()
        if not subdir.strip().strip("/"):
            raise CollectionError("invalid base backup specified: empty subdirectory")
        if "://" in subdir:
            raise CollectionError(
                f"{redact_uri(subdir)!r} is a URI, but a subdirectory of the collection is expected "
                "here (e.g. '/2023/11/09-174726.48' or LATEST)"
            )
        return normalize_subdir(subdir)

    # -- one full backup ---------------------------------------------------------------------

    def full_backup(self, subdir: str) -> FullBackup:
        """The full backup at `subdir` (LATEST resolved), checked to exist and to be a full one."""
        resolved = self.resolve(subdir)
        path = resolved.strip("/")
        if path.split("/")[0] == INCREMENTALS_DIR or _INCREMENTAL_TAIL_RE.search(path):
            raise CollectionError(self._incremental_hint(resolved))
        backup = FullBackup(self, path)
        if backup.manifest_name is None:
            raise CollectionError(
                f"{self.storage.display_uri}: no backup found at {resolved} "
                f"(no {BACKUP_MANIFEST}, {BACKUP_METADATA} or {BACKUP_LEGACY} there)"
            )
        return backup

    def _incremental_hint(self, resolved: str) -> str:
        parts = resolved.strip("/").split("/")
        if parts[0] == INCREMENTALS_DIR:
            parts = parts[1:]
        full = "/" + "/".join(parts[:-2] if len(parts) > 2 else parts)  # drop the two inc levels
        return (
            f"{resolved} is an incremental backup: ALTER BACKUP and SHOW BACKUP take the full "
            f"backup of its chain; use {full} (its incrementals are covered with it)"
        )


class FullBackup:
    """A full backup directory and the chain of incrementals built on it."""

    def __init__(self, collection: Collection, path: str) -> None:
        self.collection = collection
        self.path = path.strip("/")
        self.storage = collection.storage.child(self.path)

    @property
    def subdir(self) -> str:
        return "/" + self.path

    @property
    def display_uri(self) -> str:
        return self.storage.display_uri

    @cached_property
    def top_level_files(self) -> list[str]:
        """File names directly in the backup directory (one delimited listing, cached)."""
        return self.list_top_level()

    def list_top_level(self) -> list[str]:
        """A fresh listing of the file names directly in the backup directory."""
        self.collection.list_calls += 1
        return [k for k in self.storage.list("", "/") if not k.endswith("/")]

    @cached_property
    def manifest_name(self) -> str | None:
        names = set(self.top_level_files)
        return next((n for n in MANIFEST_NAMES if n in names), None)

    def layer(self) -> BackupLayer:
        assert self.manifest_name is not None
        return BackupLayer(self.path, True, self.manifest_name, self.storage)

    def incrementals(self) -> list[BackupLayer]:
        """Incremental layers in chain order (lexical = chronological by end time).

        Looks in the 22.1+ location `incrementals/<subdir>/` and the older one inside the full
        backup's directory; like CockroachDB, finding both is an error.
        """
        coll = self.collection
        new_prefix = f"{INCREMENTALS_DIR}/{self.path}/"
        new = self._find_layers(coll._list(new_prefix, DATA_DELIMITER), new_prefix)
        old_prefix = self.path + "/" if self.path else ""
        old = self._find_layers(coll._list(old_prefix, DATA_DELIMITER), old_prefix)
        if new and old:
            raise CollectionError(
                f"{self.display_uri}: incremental backups found in both the old location "
                f"({self.subdir}/...) and the new one (/{new_prefix}...); CockroachDB refuses "
                "such a chain too"
            )
        return new or old

    def _find_layers(self, keys: list[str], prefix: str) -> list[BackupLayer]:
        best: dict[str, str] = {}
        for key in keys:
            m = _INCREMENTAL_RE.match(key[len(prefix) :])
            if not m:
                continue
            sub, name = m.group(1), m.group(2)
            if sub not in best or MANIFEST_NAMES.index(name) < MANIFEST_NAMES.index(best[sub]):
                best[sub] = name
        layers = []
        for sub in sorted(best, key=lambda s: s.encode()):
            path = prefix + sub
            layers.append(
                BackupLayer(path, False, best[sub], self.collection.storage.child(path))
            )
        return layers

    def chain(self) -> list[BackupLayer]:
        """The full backup followed by its incrementals, oldest first."""
        return [self.layer(), *self.incrementals()]


def open_collection_target(
    storage_opener: Callable[[str], ExternalStorage],
    collection_uri: str | None,
    subdir: str | None,
) -> tuple[Collection, FullBackup]:
    """Resolve a statement's `<subdir> IN <collection>` or `<full backup uri>` form.

    `storage_opener(uri) -> ExternalStorage`. For the single-URI form the URI's path must end in
    a dated full-backup subdir; its parent is the collection (so incrementals are found in the
    collection's `incrementals/` directory as CockroachDB would).
    """
    if collection_uri is not None:
        if subdir is None or not subdir.strip():
            raise CollectionError("invalid base backup specified")
        coll = Collection(storage_opener(collection_uri))
        return coll, coll.full_backup(subdir)
    if not subdir:
        raise CollectionError("invalid base backup specified")
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(subdir)
    except ValueError as e:
        raise CollectionError(f"{redact_uri(subdir)!r}: not a valid URI: {e}") from None
    split = split_backup_uri_path(parts.path)
    if split is None:
        # Not a dated layout: treat the URI itself as the backup dir with no collection around it.
        storage = storage_opener(subdir)
        coll = Collection(storage)
        backup = FullBackup(coll, "")
        if backup.manifest_name is None:
            raise CollectionError(f"{storage.display_uri}: no backup found there")
        return coll, backup
    coll_path, sub = split
    coll_uri = urlunsplit((parts.scheme, parts.netloc, coll_path or "/", parts.query, parts.fragment))
    coll = Collection(storage_opener(coll_uri))
    return coll, coll.full_backup(sub)

