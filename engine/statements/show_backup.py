"""SHOW BACKUP [FILES | RANGES] ... IN ...: CockroachDB's rows for every backup of a chain.

Columns, order, types and values follow pkg/backup/show.go at cockroachdb/cockroach commit
00ae4afda82719d566196abd35180dada05db90b: `backupShowerHeaders` / `backupShowerDefault` (objects),
`backupShowerFileSetup` (FILES), `backupShowerRanges` (RANGES), `jsonShower` (AS_JSON, which wins
over FILES / RANGES as in `getBackupInfoReader`) and `checkBackupFiles` (CHECK_FILES sizes).
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from syntax import ast

from engine.collection import FullBackup, open_collection_target
from engine.encryption import EncryptionFiles, read_encryption_files, unlocked_key
from engine.errors import RewrapError, UnsupportedError
from engine.result import Result, value
from engine.formats.manifest import hlc_to_datetime, is_incremental
from engine.formats.objects import (
    BackupObject,
    approximate_physical_size,
    backup_objects,
    is_full_cluster,
    logical_sst_sizes,
    manifest_tenant_ids,
    tenant_name,
)
from engine.formats.pretty_key import pretty_key
from engine.reader import LayerContents, check_chain_files, read_contents

from engine.rewrap.events import CancelToken, ProgressSink, ignore

if TYPE_CHECKING:
    from engine.execute import Executor
    from engine.storage import ExternalStorage

# backupShowerHeaders(showSchemas=false, opts): the base columns, then file_bytes with
# check_files; debug_ids puts database_id / parent_schema_id / object_id after the three names.
COLUMNS = [
    "database_name",  # STRING, NULL for databases and when the parent is not in the backup
    "parent_schema_name",  # STRING
    "object_name",  # STRING
    "object_type",  # STRING: database | schema | type | function | table
    "backup_type",  # STRING: full | incremental
    "start_time",  # TIMESTAMPTZ, NULL for a full backup
    "end_time",  # TIMESTAMPTZ
    "size_bytes",  # INT, tables only (0 with SKIP SIZE), else NULL
    "rows",  # INT, likewise
    "is_full_cluster",  # BOOL
    "regions",  # STRING: ALTER DATABASE ... statements of a multi-region database, else NULL
]
FILE_BYTES_COLUMN = "file_bytes"  # INT, with CHECK_FILES only; tables only
DEBUG_ID_COLUMNS = ("database_id", "parent_schema_id", "object_id")  # INT, NULL when 0

# backupShowerFileSetup
FILES_COLUMNS = [
    "path",  # STRING: /<backup dir relative to the collection>/<file path>
    "backup_type",  # STRING
    "start_pretty",  # STRING: roachpb.Key.String()
    "end_pretty",  # STRING
    "start_key",  # BYTES
    "end_key",  # BYTES
    "size_bytes",  # INT: File.entry_counts.data_size
    "rows",  # INT: File.entry_counts.rows
    "locality",  # STRING: the text 'NULL' unless the backup is locality-aware
    "file_bytes",  # INT: -1 without CHECK_FILES
]
# backupShowerRanges
RANGES_COLUMNS = ["start_pretty", "end_pretty", "start_key", "end_key"]
# jsonShower
JSON_COLUMNS = ["manifest"]  # JSONB, one row per backup of the chain

NOT_LOCALITY_AWARE = "NULL"  # show.go writes the string "NULL", not a SQL NULL
NO_FILE_SIZE = -1

def _unsupported(stmt: ast.ShowBackup) -> list[str]:
    """Forms and options rewrap does not implement, named as written."""
    opts = stmt.options
    given = {
        "SCHEMAS": stmt.details == "SCHEMAS",
        "VALIDATE": stmt.details == "VALIDATE",
        "PRIVILEGES": opts.privileges,
    }
    return [name for name, on in given.items() if on]


def run(
    ex: Executor,
    stmt: ast.ShowBackup,
    *,
    progress: ProgressSink | None = None,
    cancel: CancelToken | None = None,
) -> Result:
    """The statement's rows; CHECK_FILES reports its progress on `progress` and stops between
    chunks and files when `cancel` is cancelled."""
    opts = stmt.options
    unsupported = _unsupported(stmt)
    if unsupported:
        raise UnsupportedError(
            f"SHOW BACKUP: {', '.join(unsupported)} is not supported by rewrap; run it in `cockroach sql`"
        )
    _, backup = open_collection_target(
        ex.open_storage, value(stmt.collections[0], "collection"), value(stmt.subdir, "subdirectory")
    )
    chain = backup.chain(_incremental_location(ex, opts))
    files = _encryption_files(ex, opts, backup)
    notices = files.warnings()
    kms = [value(v, "KMS") for v in opts.kms] if opts.kms else None
    passphrase = (
        value(opts.encryption_passphrase, "ENCRYPTION_PASSPHRASE")
        if opts.encryption_passphrase is not None
        else None
    )
    file_sizes: list[list[int]] | None = None
    with unlocked_key(
        files, kms_uris=kms, passphrase=passphrase, env=ex.kms_env, where=backup.display_uri,
        notices=notices,
    ) as key:
        contents = [read_contents(layer, key) for layer in chain]
        if opts.check_files:
            problems = check_chain_files(
                contents, key, backup=backup.display_uri, progress=progress or ignore, cancel=cancel
            )
            if problems:
                lines = "\n".join(f"  {p.path}: {p.problem}" for p in problems)
                raise RewrapError(f"CHECK_FILES found {len(problems)} bad file(s):\n{lines}")
            file_sizes = [stored_file_sizes(c) for c in contents]
    notices += chain_notices(contents)
    if opts.as_json:
        from engine.formats.pretty_json import manifest_json

        return Result(list(JSON_COLUMNS), [(manifest_json(c.manifest),) for c in contents], notices)
    if stmt.details == "FILES":
        return Result(list(FILES_COLUMNS), file_rows(contents, file_sizes), notices)
    if stmt.details == "RANGES":
        return Result(list(RANGES_COLUMNS), range_rows(contents), notices)
    return Result(
        object_columns(check_files=opts.check_files, debug_ids=opts.debug_ids),
        object_rows(contents, file_sizes, skip_size=opts.skip_size, debug_ids=opts.debug_ids),
        notices,
    )


def _incremental_location(ex: Executor, opts: ast.ShowBackupOptions) -> ExternalStorage | None:
    """`incremental_location = '<uri>'`: the chain's incrementals live in `<uri>/<subdir>/...`
    instead of the collection's `incrementals/` (CockroachDB's user-chosen incremental location;
    with several URIs, a locality-aware layout, the first is the default locality's)."""
    if not opts.incremental_location:
        return None
    return ex.open_storage(value(opts.incremental_location[0], "incremental_location"))


def _encryption_files(ex: Executor, opts: ast.ShowBackupOptions, backup: FullBackup) -> EncryptionFiles:
    """The ENCRYPTION-INFO files: the full backup's, or those of `encryption_info_dir = '<uri>'`
    (the directory holding them, as show.go reads them from that store instead)."""
    if opts.encryption_info_dir is None:
        return read_encryption_files(backup.storage, backup.top_level_files)
    storage = ex.open_storage(value(opts.encryption_info_dir, "encryption_info_dir"))
    names = [k for k in storage.list("", "/") if not k.endswith("/")]
    files = read_encryption_files(storage, names)
    if not files.files:
        raise RewrapError(f"encryption_info_dir {storage.display_uri}: no ENCRYPTION-INFO file there")
    return files


def object_columns(*, check_files: bool = False, debug_ids: bool = False) -> list[str]:
    columns = list(COLUMNS)
    if check_files:
        columns.append(FILE_BYTES_COLUMN)
    if debug_ids:
        db_id, schema_id, object_id = DEBUG_ID_COLUMNS
        columns = [columns[0], db_id, columns[1], schema_id, columns[2], object_id, *columns[3:]]
    return columns


def object_rows(
    contents: Sequence[LayerContents],
    file_sizes: Sequence[Sequence[int]] | None,
    *,
    skip_size: bool = False,
    debug_ids: bool = False,
) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for i, c in enumerate(contents):
        m = c.manifest
        backup_type = "incremental" if is_incremental(m) else "full"
        # show.go: start is NULL unless StartTime.WallTime != 0; end always from WallTime.
        start = hlc_to_datetime(m.start_time) if m.start_time.wall_time else None
        end = hlc_to_datetime(m.end_time)
        cluster = is_full_cluster(m)
        sizes = None if file_sizes is None or skip_size else file_sizes[i]
        for obj in backup_objects(m, files=c.files, descriptors=c.descriptors, file_sizes=sizes):
            size, nrows, fbytes = obj.size_bytes, obj.rows, obj.file_bytes
            if skip_size and obj.object_type == "table":
                size, nrows = 0, 0  # getTableSizes is skipped: the nil map reads as zeros
                fbytes = 0 if file_sizes is not None else None
            row: tuple[Any, ...] = (
                obj.database_name,
                obj.parent_schema_name,
                obj.object_name,
                obj.object_type,
                backup_type,
                start,
                end,
                size,
                nrows,
                cluster,
                obj.regions,
            )
            if file_sizes is not None:
                row += (fbytes,)
            if debug_ids:
                row = _with_ids(row, obj)
            rows.append(row)
        for tenant_id in manifest_tenant_ids(m):
            # show.go: NULL database, schema, sizes, is_full_cluster and regions; object_id = id
            t_row: tuple[Any, ...] = (
                None, None, tenant_name(tenant_id), "TENANT", backup_type, start, end,
                None, None, None, None,
            )
            if file_sizes is not None:
                t_row += (None,)
            if debug_ids:
                t_row = (None, None, None, None, t_row[2], tenant_id, *t_row[3:])
            rows.append(t_row)
    return rows


def _with_ids(row: tuple[Any, ...], obj: BackupObject) -> tuple[Any, ...]:
    return (row[0], obj.database_id, row[1], obj.parent_schema_id, row[2], obj.object_id, *row[3:])


def stored_file_sizes(c: LayerContents) -> list[int]:
    """checkBackupFiles: the stored size of each File entry's SST, in file order."""
    by_path: dict[str, int] = {}
    for f in c.files:
        if f.path not in by_path:
            by_path[f.path] = c.layer.storage.size(f.path)
    return [by_path[f.path] for f in c.files]


def file_path(layer_display: str, path: str) -> str:
    """path.Join(AbsoluteBackupPathInCollectionURI(collection, layer URI), file.Path)."""
    joined = posixpath.normpath(posixpath.join(layer_display, path))
    return "/" + joined.lstrip("/") if joined.startswith("//") else joined


def file_rows(
    contents: Sequence[LayerContents], file_sizes: Sequence[Sequence[int]] | None = None
) -> list[tuple[Any, ...]]:
    rows = []
    for i, c in enumerate(contents):
        kind = "incremental" if is_incremental(c.manifest) else "full"
        logical = logical_sst_sizes(c.files) if file_sizes is not None else {}
        for idx, f in enumerate(c.files):
            size = NO_FILE_SIZE
            if file_sizes is not None:
                size = approximate_physical_size(
                    f.entry_counts.data_size, logical[f.path], file_sizes[i][idx]
                )
            rows.append(
                (
                    file_path(c.layer.display, f.path),
                    kind,
                    pretty_key(f.span.key),
                    pretty_key(f.span.end_key),
                    bytes(f.span.key),
                    bytes(f.span.end_key),
                    f.entry_counts.data_size,
                    f.entry_counts.rows,
                    NOT_LOCALITY_AWARE,
                    size,
                )
            )
    return rows


def range_rows(contents: Sequence[LayerContents]) -> list[tuple[Any, ...]]:
    return [
        (pretty_key(s.key), pretty_key(s.end_key), bytes(s.key), bytes(s.end_key))
        for c in contents
        for s in c.manifest.spans
    ]


def chain_notices(contents: Sequence[LayerContents]) -> list[str]:
    """Warn when a layer does not start where the previous one ended (a gap in the chain)."""
    notices = []
    for prev, cur in zip(contents, contents[1:]):
        if hlc_to_datetime(cur.manifest.start_time) != hlc_to_datetime(prev.manifest.end_time):
            notices.append(
                f"{cur.layer.display} starts at {fmt_time(hlc_to_datetime(cur.manifest.start_time))}, "
                f"but {prev.layer.display} ends at {fmt_time(hlc_to_datetime(prev.manifest.end_time))}"
            )
    return notices


def fmt_time(t: datetime | None) -> str:
    """CockroachDB/Postgres TIMESTAMP text: trailing zeros of the fraction trimmed."""
    if t is None:
        return "NULL"
    text = t.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".")
    return text
