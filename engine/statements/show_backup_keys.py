"""SHOW BACKUP KEYS (rewrap extension): which keys can open a backup, without any KMS call.

Besides one row per stored key, it says what CockroachDB makes of the files: an unreadable one
stops its reader for the whole backup, and `WITH KMS = (a, b)` needs a and b in one file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syntax import ast

from engine.collection import open_collection_target
from engine.encryption import CRDB_CANNOT_READ, NOT_USED, EncryptionFiles, read_encryption_files
from engine.result import Result, value
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
            if f.directory:
                note = f"{f.problem()}: ignored"
            elif f.listed:
                fix = "move it out of the backup directory (rewrap never deletes)"
                note = f"unreadable: {f.error}. " + CRDB_CANNOT_READ.format(name="this file", fix=fix)
            else:
                note = f"unreadable, not listed: {f.error}"
            rows.append((f.name, None, None, note))
            continue
        if not f.info.encrypted_data_keys:
            note = "passphrase salt, no KMS keys" if f.info.salt else "no keys (empty file)"
            rows.append((f.name, None, None, note))
        for id_hash in f.info.encrypted_data_keys:
            rows.append((f.name, fingerprint(id_hash), by_hash.get(id_hash), _duplicate_note(files, f.name, id_hash)))
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


def _duplicate_note(files: EncryptionFiles, name: str, id_hash: bytes) -> str | None:
    """For a key id stored in several files: which entry CockroachDB uses (the first in its
    order, and no other), so a bad copy there is visible before anyone relies on it."""
    holders = [f.name for f, _ in files.find_all(id_hash)]
    if len(holders) < 2:
        return None
    others = ", ".join(h for h in holders if h != name)
    if holders[0] == name:
        return f"key id also in {others}; CockroachDB uses this entry (first in its order)"
    return f"key id also in {others}; CockroachDB uses the entry in {holders[0]}, not this one"
