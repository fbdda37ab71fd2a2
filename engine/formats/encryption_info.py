"""ENCRYPTION-INFO files: which KMS keys wrap a backup's data key (spec backup-format.md §2).

The file is a plaintext `jobspb.EncryptionInfo` proto in the full backup's directory. Its map is
keyed by the *raw* SHA-256 digest of a KMS master key id, so keys are modelled as `bytes` (see
proto/encryption_info.proto for why the map is declared as a repeated entry message).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from google.protobuf.message import DecodeError

from engine.errors import FormatError
from engine.formats.proto import encryption_info_pb2 as pb

ENCRYPTION_INFO = "ENCRYPTION-INFO"

# CockroachDB writes the original file as "ENCRYPTION-INFO" and each ALTER BACKUP as
# fmt.Sprintf("%s-%d", "ENCRYPTION-INFO", numFiles+1) with numFiles >= 1
# (pkg/backup/backupencryption/encryption.go WriteNewEncryptionInfoToBackup), so a suffix is
# always a decimal >= 2 without sign or leading zeros. Anything else is not a name it writes.
_SUFFIXED = re.compile(r"ENCRYPTION-INFO-([1-9][0-9]*)", re.ASCII)


@dataclass
class EncryptionInfo:
    """One ENCRYPTION-INFO file: a passphrase salt and/or KMS-wrapped copies of the data key.

    `scheme` is upstream's enum Scheme (only AES256GCM = 0 exists); other values are kept as read
    so the caller can report them.
    """

    scheme: int = 0
    salt: bytes = b""
    encrypted_data_keys: dict[bytes, bytes] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        """The proto3 wire form; map entries in sorted key order so output is deterministic."""
        msg = pb.EncryptionInfo(scheme=self.scheme, salt=bytes(self.salt))
        for key in sorted(self.encrypted_data_keys):
            msg.encrypted_data_key_by_kms_master_key_id.add(
                key=bytes(key), value=bytes(self.encrypted_data_keys[key])
            )
        return msg.SerializeToString(deterministic=True)

    @classmethod
    def from_bytes(cls, data: bytes, *, name: str = ENCRYPTION_INFO) -> EncryptionInfo:
        """Parse a stored file; `name` only labels the error message.

        Unknown fields are ignored (forward compatibility); a repeated map key keeps the last
        value, as protobuf map semantics prescribe.
        """
        msg = pb.EncryptionInfo()
        try:
            msg.ParseFromString(bytes(data))
        except (DecodeError, ValueError, TypeError) as exc:
            raise FormatError(f"{name}: not a valid ENCRYPTION-INFO proto ({exc})") from None
        keys = {e.key: e.value for e in msg.encrypted_data_key_by_kms_master_key_id}
        return cls(scheme=msg.scheme, salt=msg.salt, encrypted_data_keys=keys)


def key_id_hash(master_key_id: str) -> bytes:
    """The map key CockroachDB uses for a KMS master key id: sha256 of its UTF-8 bytes, raw."""
    return hashlib.sha256(master_key_id.encode("utf-8")).digest()


def fingerprint(id_hash: bytes) -> str:
    """A short printable handle for a key id hash: its first 8 lowercase hex digits."""
    return bytes(id_hash[:4]).hex()


def encryption_info_file_name(n: int) -> str:
    """Name of the n-th ENCRYPTION-INFO file: 1 is the unsuffixed original, n >= 2 gets `-n`."""
    if n < 1:
        raise ValueError(f"ENCRYPTION-INFO file number must be >= 1, got {n}")
    return ENCRYPTION_INFO if n == 1 else f"{ENCRYPTION_INFO}-{n}"


def parse_encryption_info_name(name: str) -> int | None:
    """The number of a bare ENCRYPTION-INFO file name; None if CockroachDB never writes it."""
    if name == ENCRYPTION_INFO:
        return 1
    m = _SUFFIXED.fullmatch(name)
    if m is None:
        return None
    n = int(m.group(1))
    return n if n >= 2 else None
