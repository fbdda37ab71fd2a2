"""A backup collection as CockroachDB lays it out (spec backup-format.md §1).

Full backups are found the way SHOW BACKUPS finds them, LATEST is resolved in both styles, and the
incrementals of a full backup are found in both layouts and put in chain order. Everything goes
through ExternalStorage with listing delimiters, so no listing ever walks a `data/` directory.

How CockroachDB's newest code finds backups (cockroachdb/cockroach, looked up 2026-12-01):

* Legacy listing, `backupdest.ListFullBackupsInCollection` (pkg/backup/backupdest/
  backup_destination.go, commit 337b9f43e2fc): list the collection with delimiter `data/`, keep
  `^/?[^/]+/[^/]+/[^/]+/BACKUP_MANIFEST$`. The newest backupbase/constants.go names that file
  `DeprecatedBackupManifestName` ("Remove 26.3"), so this listing never sees a backup that has only
  the slim BACKUP_METADATA.
* The backup index, pkg/backup/backupinfo/backup_index.go (commit 3e9ada9d708b), written for every
  backup since 25.4: one directory per chain under `metadata/index/` (see
  engine/formats/backup_index.py). `ListIndexes` lists a chain's `*.pb` files and sorts them by end
  time, then start time; `FindAllIncrementalPaths` (pkg/backup/backupdest/incrementals.go) skips
  the first (the full backup) and derives each incremental's directory from the file name
  (`ParseBackupFilePathFromIndexFileName` -> `/<end 20060102/150405.00>-<start
  20060102-150405.00>`), falling back to `LegacyFindPriorBackups` (globs
  `/[0-9]*/[0-9]*.[0-9][0-9]/BACKUP_MANIFEST` and `.../[0-9]*.[0-9][0-9]-[0-9]*.[0-9][0-9]/
  BACKUP_MANIFEST`, sorted) when a chain has no index.
* LATEST, `backupdest.FindLatestFile` (same backup_destination.go): first non-empty name listed
  under `metadata/latest`, else the root `LATEST`.

rewrap lists the union of the legacy listing and the index's chains (so slim-only 26.3 backups
are found as CockroachDB finds them), and reports dated directories holding only BACKUP_METADATA
that neither finds, since CockroachDB would not list them (ALTER ... ALL still covers them).
For a chain without an index rewrap's own fallback also accepts BACKUP_METADATA and BACKUP as an
incremental's manifest, where CockroachDB's legacy glob wants BACKUP_MANIFEST.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from engine.lazy import cached_property  # not functools: its 3.11 lock serialised ALTER workers

from engine.errors import FormatError, RewrapError
from engine.formats import backup_index
from engine.formats.latest_name import LATEST_DIR
from engine.formats.names import BACKUP_LEGACY, BACKUP_MANIFEST, BACKUP_METADATA, MANIFEST_NAMES
from engine.storage import ExternalStorage, NotFound
from syntax.uri import redact_uri

LATEST_FILE = "LATEST"
INCREMENTALS_DIR = "incrementals"
DATA_DELIMITER = "data/"

# backupdest.ListFullBackupsInCollection: exactly three path components, then BACKUP_MANIFEST.
_FULL_BACKUP_RE = re.compile(r"^/?([^/]+/[^/]+/[^/]+)/BACKUP_MANIFEST\Z")  # \Z: Go's $
_SLIM_FULL_RE = re.compile(r"^/?([^/]+/[^/]+/[^/]+)/BACKUP_METADATA\Z")
# A LATEST file (or subdir) longer than this cannot name a directory on any storage: object keys
# are at most 1024 bytes on S3, GCS and Azure, and local paths at most PATH_MAX (4096).
MAX_SUBDIR_BYTES = 4096
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
        self.unlisted_slim: list[str] = []  # set by full_backups()

    def _list(self, prefix: str = "", delimiter: str = "") -> list[str]:
        self.list_calls += 1
        return list(self.storage.list(prefix, delimiter))

    # -- SHOW BACKUPS ------------------------------------------------------------------------

    def full_backups(self) -> list[str]:
        """Subdirs of the full backups ('/2023/11/09-174726.48'), in chronological order.

        The legacy BACKUP_MANIFEST listing plus the chains of the backup index. Directories that
        hold only BACKUP_METADATA and have no index entry are left out, as CockroachDB leaves them
        out, and kept in `self.unlisted_slim` for a notice.
        """
        # dicts, not sets: the listing is sorted, so keeping its order makes the final sort a
        # linear pass. Keys are valid Unicode, whose code point order is UTF-8 byte order.
        found: dict[str, None] = {}
        slim: set[str] = set()
        full, slim_full = _FULL_BACKUP_RE.match, _SLIM_FULL_RE.match
        for key in self._list("", DATA_DELIMITER):
            if key[-1] == "/":
                continue  # half the keys: a backup's data/ collapsed by the delimiter
            if m := full(key):
                found["/" + m[1]] = None
            elif key[-1] == "A" and (m := slim_full(key)):
                slim.add("/" + m[1])
        found.update(dict.fromkeys(self.indexed_full_backups()))
        self.unlisted_slim = sorted(slim - found.keys())
        return sorted(found)

    def every_full_backup(self) -> list[str]:
        """What ALTER ... ALL must cover: the listed full backups and also the slim-only
        directories CockroachDB does not list (they hold data under the same keys, and skipping
        them would leave them on a key the operator may retire next)."""
        listed = self.full_backups()
        return sorted({*listed, *self.unlisted_slim}, key=str.encode)

    def indexed_full_backups(self) -> list[str]:
        """Full backup subdirs that have a chain directory in `metadata/index/`."""
        prefix = backup_index.INDEX_DIR + "/"
        out = []
        for key in self._list(prefix, "/"):
            name = key[len(prefix) :].rstrip("/")
            if not key.endswith("/") or not name:
                continue  # a stray file, or a directory placeholder object
            try:
                out.append(backup_index.subdir_of_chain_dir(name))
            except FormatError as e:
                raise CollectionError(f"{self.storage.display_uri}/{prefix}{name}: {e}") from None
        return out

    def chain_index(self, subdir: str) -> list[tuple[datetime | None, datetime]] | None:
        """(start, end) of every backup the index lists for the chain at `subdir`, sorted as
        ListIndexes sorts them (end, then start); None when the chain has no index."""
        try:
            chain = backup_index.chain_dir(subdir)
        except FormatError:
            return None  # not a dated subdir: CockroachDB writes no index for it
        entries = []
        for key in self._list(chain + "/"):
            name = key[len(chain) + 1 :]
            if not name.endswith(".pb") or "/" in name:
                continue  # ListIndexes ignores other files (storage temporaries)
            try:
                start, end = backup_index.parse_index_file_name(name)
            except FormatError as e:
                raise CollectionError(f"{self.storage.display_uri}/{key}: {e}") from None
            entries.append((start, end))
        if not entries:
            return None
        zero = datetime.min.replace(tzinfo=UTC)
        entries.sort(key=lambda se: (se[1], se[0] or zero))
        return entries

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
        # Bounded read: a LATEST file longer than any storage path is refused before it is
        # decoded or resolved, so a huge or hostile one costs one bounded read.
        content = self.storage.read_range(key, 0, MAX_SUBDIR_BYTES + 1)
        where = f"{self.storage.display_uri}/{key}"
        if len(content) > MAX_SUBDIR_BYTES:
            raise CollectionError(
                f"{where}: malformed LATEST file: longer than {MAX_SUBDIR_BYTES} bytes, so it "
                "cannot name a backup directory (CockroachDB writes e.g. /2023/11/09-174726.48)"
            )
        try:
            text = content.decode("utf-8").strip()
        except UnicodeDecodeError:
            text = ""
        if not text:
            raise CollectionError(f"{where}: malformed LATEST file")
        if "\x00" in text:
            raise CollectionError(f"{where}: malformed LATEST file: it holds a NUL byte")
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
        if len(subdir.encode("utf-8", "surrogatepass")) > MAX_SUBDIR_BYTES:
            raise CollectionError(
                f"subdirectory of {len(subdir)} characters: longer than {MAX_SUBDIR_BYTES} bytes, "
                "so it cannot name a backup directory on any storage"
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

    def incrementals(self, location: ExternalStorage | None = None) -> list[BackupLayer]:
        """Incremental layers in chain order (lexical = chronological by end time).

        Looks in the 22.1+ location `incrementals/<subdir>/` and the older one inside the full
        backup's directory; like CockroachDB, finding both is an error. With `location` (the
        statement's `incremental_location`), only `<location>/<subdir>/...` is looked at, as
        CockroachDB's ResolveIncrementalsBackupLocation does for a user-chosen location.
        """
        if location is not None:
            prefix = f"{self.path}/" if self.path else ""
            self.collection.list_calls += 1
            return self._find_layers(list(location.list(prefix, DATA_DELIMITER)), prefix, location)
        coll = self.collection
        new_prefix = f"{INCREMENTALS_DIR}/{self.path}/"
        new = self._find_layers(coll._list(new_prefix, DATA_DELIMITER), new_prefix)
        index = coll.chain_index(self.subdir)
        if index is not None:
            return self._indexed_layers(index, new, new_prefix)
        old_prefix = self.path + "/" if self.path else ""
        old = self._find_layers(coll._list(old_prefix, DATA_DELIMITER), old_prefix)
        if new and old:
            raise CollectionError(
                f"{self.display_uri}: incremental backups found in both the old location "
                f"({self.subdir}/...) and the new one (/{new_prefix}...); CockroachDB refuses "
                "such a chain too"
            )
        return new or old

    def _find_layers(
        self, keys: list[str], prefix: str, storage: ExternalStorage | None = None
    ) -> list[BackupLayer]:
        root = self.collection.storage if storage is None else storage
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
                BackupLayer(path, False, best[sub], root.child(path))
            )
        return layers

    def _indexed_layers(
        self, index: list[tuple[datetime | None, datetime]], listed: list[BackupLayer], prefix: str
    ) -> list[BackupLayer]:
        """The incrementals the index names, in its order (FindAllIncrementalPaths: skip the
        first entry, the full backup); each must be there with a manifest."""
        by_path = {layer.path: layer for layer in listed}
        layers = []
        for start, end in index[1:]:
            if start is None:
                raise CollectionError(
                    f"{self.display_uri}: the backup index of this chain lists a second full "
                    f"backup ending {end.isoformat(sep=' ')}"
                )
            path = prefix + backup_index.incremental_dir(start, end).lstrip("/")
            layer = by_path.get(path)
            if layer is None:
                raise CollectionError(
                    f"{self.collection.storage.display_uri}/{path}: named by the backup index "
                    f"({backup_index.chain_dir(self.subdir)}/), but no manifest is there"
                )
            layers.append(layer)
        return layers

    def chain(self, incremental_location: ExternalStorage | None = None) -> list[BackupLayer]:
        """The full backup followed by its incrementals, oldest first."""
        return [self.layer(), *self.incrementals(incremental_location)]


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

