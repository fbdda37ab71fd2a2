"""SHOW BACKUP [FILES | RANGES] ... IN ...: CockroachDB's rows for every backup of a chain."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syntax import ast

from datetime import datetime
from collections.abc import Sequence

from engine.collection import open_collection_target
from engine.encryption import read_encryption_files, unlocked_key
from engine.errors import RewrapError, UnsupportedError
from engine.execute import Result, value
from engine.formats.manifest import hlc_to_datetime, is_incremental
from engine.formats.objects import backup_objects, is_full_cluster
from engine.reader import check_layer_files, read_contents

if TYPE_CHECKING:
    from engine.execute import Executor

COLUMNS = [
    "database_name",
    "parent_schema_name",
    "object_name",
    "object_type",
    "backup_type",
    "start_time",
    "end_time",
    "size_bytes",
    "rows",
    "is_full_cluster",
]


def run(ex: Executor, stmt: ast.ShowBackup) -> Result:
    opts = stmt.options
    unsupported = [
        name
        for name, given in (
            ("SCHEMAS", stmt.details == "SCHEMAS"),
            ("VALIDATE", stmt.details == "VALIDATE"),
            ("PRIVILEGES", opts.privileges),
            ("DEBUG_IDS", opts.debug_ids),
            ("INCREMENTAL_LOCATION", opts.incremental_location is not None),
            ("ENCRYPTION_INFO_DIR", opts.encryption_info_dir is not None),
            ("AS_JSON", opts.as_json),
        )
        if given
    ]
    if unsupported:
        raise UnsupportedError(
            f"SHOW BACKUP: {', '.join(unsupported)} is not available in this build yet"
        )
    _, backup = open_collection_target(
        ex.open_storage, value(stmt.collections[0], "collection"), value(stmt.subdir, "subdirectory")
    )
    chain = backup.chain()
    files = read_encryption_files(backup.storage, backup.top_level_files)
    notices = files.warnings()
    kms = [value(v, "KMS") for v in opts.kms] if opts.kms else None
    passphrase = (
        value(opts.encryption_passphrase, "ENCRYPTION_PASSPHRASE")
        if opts.encryption_passphrase is not None
        else None
    )
    result_rows: list[tuple[Any, ...]] = []
    with unlocked_key(
        files, kms_uris=kms, passphrase=passphrase, env=ex.kms_env, where=backup.display_uri,
        notices=notices,
    ) as key:
        contents = [read_contents(layer, key) for layer in chain]
        if opts.check_files:
            problems = [p for c in contents for p in check_layer_files(c, key)]
            if problems:
                lines = "\n".join(f"  {p.path}: {p.problem}" for p in problems)
                raise RewrapError(f"CHECK_FILES found {len(problems)} bad file(s):\n{lines}")
    notices += chain_notices(contents)
    if stmt.details == "FILES":
        return Result(FILES_COLUMNS, file_rows(contents), notices)
    if stmt.details == "RANGES":
        return Result(RANGES_COLUMNS, range_rows(contents), notices)
    columns = list(COLUMNS)
    for c in contents:
        m = c.manifest
        backup_type = "incremental" if is_incremental(m) else "full"
        start = hlc_to_datetime(m.start_time)
        end = hlc_to_datetime(m.end_time)
        cluster = is_full_cluster(m)
        for obj in backup_objects(m, files=c.files, descriptors=c.descriptors):
            size, rows = (None, None) if opts.skip_size else (obj.size_bytes, obj.rows)
            row = (
                obj.database_name,
                obj.parent_schema_name,
                obj.object_name,
                obj.object_type,
                backup_type,
                start,
                end,
                size,
                rows,
                cluster,
            )
            result_rows.append(row)
    return Result(columns, result_rows, notices)


FILES_COLUMNS = ["path", "backup_type", "start_key", "end_key", "size_bytes", "rows"]
RANGES_COLUMNS = ["start_key", "end_key"]


def file_rows(contents: Sequence) -> list[tuple[Any, ...]]:
    rows = []
    for c in contents:
        kind = "incremental" if is_incremental(c.manifest) else "full"
        for f in c.files:
            rows.append(
                (
                    f.path,
                    kind,
                    f.span.key.hex(),
                    f.span.end_key.hex(),
                    f.entry_counts.data_size,
                    f.entry_counts.rows,
                )
            )
    return rows


def range_rows(contents: Sequence) -> list[tuple[Any, ...]]:
    return [(s.key.hex(), s.end_key.hex()) for c in contents for s in c.manifest.spans]


def chain_notices(contents: Sequence) -> list[str]:
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
