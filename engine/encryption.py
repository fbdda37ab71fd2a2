"""The data key of a backup: its ENCRYPTION-INFO files, and unlocking them with KMS or passphrase.

CockroachDB reads every `ENCRYPTION-INFO*` file of the full backup's directory and tries each
KMS URI against each file (spec alter-backup-kms-grammar.md §0.5-0.7). rewrap does the same, in
numeric file order, skips (and names) a file it cannot parse instead of failing, and says for each
URI why it did not unlock the backup.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from engine.errors import RewrapError
from engine.formats.encryption_info import (
    ENCRYPTION_INFO,
    EncryptionInfo,
    key_id_hash,
    parse_encryption_info_name,
)
from engine.formats.kdf import derive_key
from engine.kms import KMS, KMSEnv, open_kms
from engine.storage import ExternalStorage, StorageError
from syntax.uri import redact_uri

DATA_KEY_SIZE = 32


class EncryptionMode(enum.Enum):
    NONE = "none"
    PASSPHRASE = "passphrase"
    KMS = "kms"


class KeyError_(RewrapError):
    """The backup could not be unlocked with what was given."""


@dataclass
class EncryptionFile:
    """One ENCRYPTION-INFO* file: parsed, or the reason it could not be read."""

    name: str
    info: EncryptionInfo | None
    error: str | None = None


@dataclass
class EncryptionFiles:
    """All ENCRYPTION-INFO* files of one full backup, in numeric order."""

    files: list[EncryptionFile] = field(default_factory=list)

    @property
    def readable(self) -> list[EncryptionFile]:
        return [f for f in self.files if f.info is not None]

    def infos(self) -> list[tuple[EncryptionFile, EncryptionInfo]]:
        """(file, parsed info) of every readable file, in numeric order."""
        return [(f, f.info) for f in self.files if f.info is not None]

    @property
    def unreadable(self) -> list[EncryptionFile]:
        return [f for f in self.files if f.info is None]

    @property
    def mode(self) -> EncryptionMode:
        if not self.files:
            return EncryptionMode.NONE
        if any(info.encrypted_data_keys for _, info in self.infos()):
            return EncryptionMode.KMS
        if any(info.salt for _, info in self.infos()):
            return EncryptionMode.PASSPHRASE
        return EncryptionMode.KMS if self.unreadable else EncryptionMode.NONE

    def warnings(self) -> list[str]:
        return [
            f"skipped unreadable {f.name}: {f.error} (CockroachDB stops at an unreadable "
            "ENCRYPTION-INFO file: move it out of the backup directory to RESTORE with CockroachDB)"
            for f in self.unreadable
        ]

    def find_all(self, id_hash: bytes) -> list[tuple[EncryptionFile, bytes]]:
        """Every (file, wrapped key) holding `id_hash`, newest file first.

        Newest first is what CockroachDB intends ("latest to oldest", though its order is
        lexical); trying every hit means one damaged entry cannot hide a good one.
        """
        hits = []
        for f, info in reversed(self.infos()):
            wrapped = info.encrypted_data_keys.get(id_hash)
            if wrapped is not None:
                hits.append((f, wrapped))
        return hits

    def max_number(self) -> int:
        """The largest n among ENCRYPTION-INFO-<n> names (1 for the plain file), 0 if none."""
        return max((parse_encryption_info_name(f.name) or 0 for f in self.files), default=0)


def encryption_file_names(names: Iterable[str]) -> list[str]:
    """The ENCRYPTION-INFO* names among `names`: numbered ones in numeric order, then any other
    name CockroachDB would also read (it keeps every name with that prefix), lexically."""
    numbered: list[tuple[int, str]] = []
    other: list[tuple[int, str]] = []
    for name in names:
        if not name.startswith(ENCRYPTION_INFO):
            continue
        n = parse_encryption_info_name(name)
        (numbered if n is not None else other).append((n or 0, name))
    return [name for _, name in sorted(numbered)] + sorted(name for _, name in other)


def read_encryption_files(storage: ExternalStorage, names: Iterable[str]) -> EncryptionFiles:
    """Read and parse every ENCRYPTION-INFO* file among `names` (top-level file names)."""
    out = EncryptionFiles()
    for name in encryption_file_names(names):
        try:
            data = storage.read(name)
            out.files.append(EncryptionFile(name, EncryptionInfo.from_bytes(data, name=name)))
        except (StorageError, RewrapError) as e:
            out.files.append(EncryptionFile(name, None, str(e)))
    return out


class DataKey:
    """A 32-byte plaintext data key kept in a bytearray and wiped by `wipe()` / on exit.

    It is never logged or shown; only its users (AES-GCM) ever see the bytes.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes | bytearray) -> None:
        if len(key) != DATA_KEY_SIZE:
            raise KeyError_(f"data key has {len(key)} bytes, expected {DATA_KEY_SIZE}")
        self._key = bytearray(key)

    @property
    def material(self) -> bytearray:
        if not self._key:
            raise RewrapError("data key already wiped")
        return self._key

    def wipe(self) -> None:
        for i in range(len(self._key)):
            self._key[i] = 0
        self._key = bytearray()

    def __enter__(self) -> DataKey:
        return self

    def __exit__(self, *exc: object) -> None:
        self.wipe()

    def __repr__(self) -> str:
        return "DataKey(<hidden>)"


@dataclass
class Unlocked:
    """Which KMS unlocked the backup, from which file, and the key itself."""

    key: DataKey
    kms_uri: str | None  # redacted; None for passphrase
    file: str | None
    kms: KMS | None = None


def unlock_with_passphrase(files: EncryptionFiles, passphrase: str) -> Unlocked:
    salts = [(f, info) for f, info in files.infos() if info.salt]
    if not salts:
        raise KeyError_(
            "ENCRYPTION_PASSPHRASE given, but the backup is not passphrase-encrypted "
            f"({'KMS-encrypted: use KMS = ...' if files.mode is EncryptionMode.KMS else 'not encrypted'})"
        )
    f, info = salts[0]
    return Unlocked(DataKey(derive_key(passphrase, info.salt)), None, f.name)


def match_all(kms: KMS, files: EncryptionFiles) -> list[tuple[EncryptionFile, bytes]]:
    """Every (file, wrapped key) whose entry matches one of the KMS's id forms, best first."""
    return [hit for key_id in kms.key_ids for hit in files.find_all(key_id_hash(key_id))]


def match_kms(kms: KMS, files: EncryptionFiles) -> tuple[EncryptionFile, bytes] | None:
    """The first (file, wrapped key) matching the KMS (an id comparison, no KMS call)."""
    hits = match_all(kms, files)
    return hits[0] if hits else None


@dataclass
class KMSAttempt:
    """Why one KMS URI did or did not unlock a backup (for error messages)."""

    uri: str  # redacted
    reason: str


@dataclass
class KMSCandidate:
    """A KMS URI offered to unlock a backup: opened, or the reason it could not be."""

    uri: str  # redacted
    kms: KMS | None
    error: str | None = None


def open_candidates(uris: Sequence[str], *, env: KMSEnv | None = None) -> list[KMSCandidate]:
    """Open every URI; a bad one becomes a candidate with its reason (CockroachDB skips it)."""
    out = []
    for uri in uris:
        try:
            out.append(KMSCandidate(redact_uri(uri), open_kms(uri, env=env)))
        except RewrapError as e:
            out.append(KMSCandidate(redact_uri(uri), None, str(e)))
    return out


def close_candidates(candidates: Sequence[KMSCandidate]) -> None:
    for c in candidates:
        if c.kms is not None:
            c.kms.close()


NO_MATCH = "no key in OLD_KMS matches a key that was previously used to encrypt the backup"
NOT_USED = "one of the provided URIs was not used when encrypting the base BACKUP"


def unwrap_data_key(
    files: EncryptionFiles, candidates: Sequence[KMSCandidate], *, headline: str
) -> Unlocked:
    """Unwrap the data key with the first candidate whose id matches an entry and decrypts.

    Matching compares id hashes only (no KMS call); exactly one decrypt call is made per
    matching candidate tried. Raises KeyError_ with `headline` (or CockroachDB's "failed to
    decrypt data key" when an id matched but every decrypt failed) and one line per URI.
    """
    attempts: list[KMSAttempt] = []
    names = ", ".join(f.name for f in files.readable) or "no readable ENCRYPTION-INFO file"
    matched = False
    for c in candidates:
        if c.kms is None:
            attempts.append(KMSAttempt(c.uri, c.error or "could not be opened"))
            continue
        hits = match_all(c.kms, files)
        if not hits:
            attempts.append(KMSAttempt(c.uri, f"key id {c.kms.master_key_id!r} not found in {names}"))
            continue
        matched = True
        for f, wrapped in hits:  # normally one; more only when a key was added twice
            try:
                plain = c.kms.decrypt(wrapped)
            except RewrapError as e:
                attempts.append(KMSAttempt(c.uri, f"KMS refused to decrypt the data key in {f.name}: {e}"))
                continue
            try:
                return Unlocked(DataKey(plain), c.uri, f.name, c.kms)
            except KeyError_ as e:
                attempts.append(KMSAttempt(c.uri, f"{f.name}: {e}"))
            finally:
                if isinstance(plain, bytearray):
                    plain[:] = b"\0" * len(plain)
    raise KeyError_(describe_attempts("failed to decrypt data key" if matched else headline, attempts))


def unlock_with_kms(
    files: EncryptionFiles, uris: Sequence[str], *, env: KMSEnv | None = None
) -> Unlocked:
    """Open `uris` and unwrap the data key (SHOW BACKUP ... WITH KMS)."""
    candidates = open_candidates(uris, env=env)
    try:
        return unwrap_data_key(files, candidates, headline=NOT_USED)
    finally:
        close_candidates(candidates)


def describe_attempts(headline: str, attempts: Sequence[KMSAttempt]) -> str:
    lines = [headline]
    lines += [f"  '{a.uri}': {a.reason}" for a in attempts]
    return "\n".join(lines)


@contextmanager
def unlocked_key(
    files: EncryptionFiles,
    *,
    kms_uris: Sequence[str] | None = None,
    passphrase: str | None = None,
    env: KMSEnv | None = None,
    where: str = "backup",
) -> Iterator[DataKey | None]:
    """The data key for reading a backup (None when it is not encrypted), wiped afterwards."""
    mode = files.mode
    if mode is EncryptionMode.NONE:
        if kms_uris or passphrase:
            raise KeyError_(f"{where} is not encrypted, but KMS or ENCRYPTION_PASSPHRASE was given")
        yield None
        return
    if passphrase is not None:
        unlocked = unlock_with_passphrase(files, passphrase)
    elif kms_uris:
        if mode is EncryptionMode.PASSPHRASE:
            raise KeyError_(f"{where} is encrypted with a passphrase: use ENCRYPTION_PASSPHRASE = '...'")
        unlocked = unlock_with_kms(files, kms_uris, env=env)
    else:
        hint = "KMS = '<uri>'" if mode is EncryptionMode.KMS else "ENCRYPTION_PASSPHRASE = '...'"
        raise KeyError_(f"{where}: file appears encrypted; run it WITH {hint}")
    with unlocked.key as key:
        yield key
