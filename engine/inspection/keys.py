"""A full backup's key files (ENCRYPTION-INFO*) as rows, and which KMS URIs open them.

One implementation for SHOW BACKUP KEYS and the app's details panel and rotation dialog: the
comparison is by key id hash (sha256 of each id form a URI names), so it costs no KMS call.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.encryption import CRDB_CANNOT_READ, EncryptionFiles
from engine.errors import RewrapError
from engine.formats.encryption_info import fingerprint, key_id_hash
from engine.kms import parse_kms_uri


class RowKind(enum.Enum):
    KEY = "key"  # one wrapped data key
    PASSPHRASE = "passphrase"  # a salt and no KMS key
    EMPTY = "empty"  # parsed, holds nothing
    UNREADABLE = "unreadable"  # cannot be read or parsed
    IGNORED = "ignored"  # a directory of that name: CockroachDB skips it


@dataclass(frozen=True)
class KeyRow:
    """One row of SHOW BACKUP KEYS: a stored key, or a file that holds none and why."""

    file: str
    kind: RowKind
    id_hash: bytes | None = None
    note: str | None = None  # SHOW BACKUP KEYS' note column
    error: str | None = None  # why an UNREADABLE file could not be read

    @property
    def fingerprint(self) -> str | None:
        return fingerprint(self.id_hash) if self.id_hash is not None else None


def key_rows(files: EncryptionFiles) -> list[KeyRow]:
    """Every stored key and every file without one, in the files' numeric order."""
    rows: list[KeyRow] = []
    for f in files.files:
        if f.info is None:
            if f.directory:
                rows.append(KeyRow(f.name, RowKind.IGNORED, note=f"{f.problem()}: ignored"))
            elif f.listed:
                fix = "move it out of the backup directory (rewrap never deletes)"
                note = f"unreadable: {f.error}. " + CRDB_CANNOT_READ.format(name="this file", fix=fix)
                rows.append(KeyRow(f.name, RowKind.UNREADABLE, note=note, error=f.error))
            else:
                rows.append(KeyRow(f.name, RowKind.UNREADABLE, note=f"unreadable, not listed: {f.error}",
                                   error=f.error))
            continue
        if not f.info.encrypted_data_keys:
            if f.info.salt:
                rows.append(KeyRow(f.name, RowKind.PASSPHRASE, note="passphrase salt, no KMS keys"))
            else:
                rows.append(KeyRow(f.name, RowKind.EMPTY, note="no keys (empty file)"))
        for id_hash in f.info.encrypted_data_keys:
            rows.append(KeyRow(f.name, RowKind.KEY, bytes(id_hash), _duplicate_note(files, f.name, id_hash)))
    return rows


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


def key_hashes(uris: Iterable[str]) -> dict[bytes, str]:
    """Key id hash -> the first URI (as given) naming that id; URIs that do not parse are
    left out (they unlock nothing)."""
    out: dict[bytes, str] = {}
    for uri in uris:
        try:
            ids = parse_kms_uri(uri).key_ids
        except RewrapError:
            continue
        for key_id in ids:
            out.setdefault(key_id_hash(key_id), uri)
    return out


def unlocking_uris(files: EncryptionFiles, uris: Sequence[str]) -> list[str]:
    """The URIs (as given, in their order) whose key id is stored in some file of `files`."""
    present = {bytes(h) for _, info in files.infos() for h in info.encrypted_data_keys}
    out = []
    for uri in uris:
        if any(h in present for h in key_hashes([uri])) and uri not in out:
            out.append(uri)
    return out
