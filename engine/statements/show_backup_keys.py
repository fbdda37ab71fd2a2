"""SHOW BACKUP KEYS (rewrap extension): which keys can open a backup, without any KMS call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syntax import ast

from engine.collection import open_collection_target
from engine.encryption import read_encryption_files
from engine.execute import Result, value
from engine.formats.encryption_info import fingerprint, key_id_hash
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
    rows: list[tuple[Any, ...]] = []
    for f in files.files:
        if f.info is None:
            rows.append((f.name, None, None, f"unreadable: {f.error}"))
            continue
        if not f.info.encrypted_data_keys:
            note = "passphrase salt, no KMS keys" if f.info.salt else "no keys"
            rows.append((f.name, None, None, note))
        for id_hash in f.info.encrypted_data_keys:
            rows.append((f.name, fingerprint(id_hash), by_hash.get(id_hash), None))
    notices = [] if files.files else [f"{backup.display_uri}: no ENCRYPTION-INFO files (not encrypted)"]
    return Result(COLUMNS, rows, notices)
