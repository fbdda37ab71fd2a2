"""SHOW BACKUP KEYS (rewrap extension): which keys can open a backup, without any KMS call.

Besides one row per stored key, it says what CockroachDB makes of the files: an unreadable one
stops its reader for the whole backup, and `WITH KMS = (a, b)` needs a and b in one file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syntax import ast

from engine.collection import open_collection_target
from engine.encryption import NOT_USED, read_encryption_files
from engine.result import Result, value
from engine.formats.encryption_info import key_id_hash
from engine.inspection.keys import key_rows
from engine.kms import parse_kms_uri

if TYPE_CHECKING:
    from engine.execute import Executor

COLUMNS = ["file", "key_fingerprint", "unlocked_by", "note"]


def run(ex: Executor, stmt: ast.ShowBackupKeys) -> Result:
    _, backup = open_collection_target(
        ex.open_storage, value(stmt.collection, "collection"), value(stmt.subdir, "subdirectory")
    )
    given = [parse_kms_uri(value(v, "KMS")) for v in stmt.kms or ()]
    by_hash: dict[bytes, str] = {}
    for k in given:
        for key_id in k.key_ids:
            by_hash.setdefault(key_id_hash(key_id), k.redacted_uri)
    files = read_encryption_files(backup.storage, backup.top_level_files)
    rows: list[tuple[Any, ...]] = [
        (r.file, r.fingerprint, by_hash.get(r.id_hash) if r.id_hash is not None else None, r.note)
        for r in key_rows(files)
    ]
    notices = [] if files.files else [f"{backup.display_uri}: no ENCRYPTION-INFO files (not encrypted)"]
    if len(given) > 1 and files.crdb_pick([k.key_ids for k in given]) is None:
        where = "; ".join(
            f"'{k.redacted_uri}' in {', '.join(f.name for f in files.holders(k.key_ids)) or 'no file'}"
            for k in given
        )
        notices.append(
            f"{NOT_USED}: no single ENCRYPTION-INFO file holds every given key, so CockroachDB's "
            f"RESTORE and SHOW BACKUP WITH KMS = (all of them) fail ({where}); ALTER BACKUP ... "
            "ADD NEW_KMS = (all of them) writes one file holding them all"
        )
    return Result(COLUMNS, rows, notices)

