"""The data key of a backup: its ENCRYPTION-INFO files, and unlocking them with KMS or passphrase.

CockroachDB's reader, looked up in cockroachdb/cockroach `pkg/backup/backupencryption/encryption.go`
(mainline commit 200d56f7485c02271360970eeb9b4c0477d67e79):
- `GetEncryptionInfoFiles` lists the full backup's directory and keeps every name starting with
  `ENCRYPTION-INFO`, in listing (lexical) order;
- `ReadEncryptionOptions` reads them last to first (so the lexically last name comes first) and
  fails the whole read when one file cannot be read or parsed;
- `GetEncryptionFromBaseStore` takes the first file, in that order, for which
  `ValidateKMSURIsAgainstFullBackup` finds *every* given URI's sha256(MasterKeyID) in that one
  file's map (else `one of the provided URIs was not used when encrypting the base BACKUP`), and
  `GetEncryptionKey` decrypts the first URI's entry of that file: no other file is tried.

rewrap applies the same single-file rule, so a rewrap success predicts a CockroachDB success, but
it is more forgiving where that cannot mislead: it skips (and names) a file it cannot read, and it
tries every entry holding a key id until one proves itself (decrypts the manifest), saying so
when CockroachDB would have taken a bad one.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Sequence
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
from engine.storage import ExternalStorage, NotFound, StorageError
from syntax.uri import redact_uri

DATA_KEY_SIZE = 32


class EncryptionMode(enum.Enum):
    NONE = "none"
    PASSPHRASE = "passphrase"
    KMS = "kms"
    UNUSABLE = "unusable"  # ENCRYPTION-INFO* entries exist, but none holds a salt or a KMS key


class KeyError_(RewrapError):
    """The backup could not be unlocked with what was given."""


CRDB_CANNOT_READ = (
    "CockroachDB cannot read this backup at all while {name} is there (its ReadEncryptionOptions "
    "fails on any ENCRYPTION-INFO file it cannot read or parse, so RESTORE, SHOW BACKUP and ALTER "
    "BACKUP all fail): {fix}"
)


DIRECTORY = "is a directory, not a file"


@dataclass
class EncryptionFile:
    """One ENCRYPTION-INFO* entry: parsed, or the reason it could not be read.

    `listed` is False for a name the listing did not show but that exists (found by a direct
    read, e.g. a link out of the external-IO dir); `directory` for a directory of that name.
    """

    name: str
    info: EncryptionInfo | None
    error: str | None = None
    listed: bool = True
    directory: bool = False

    @property
    def empty(self) -> bool:
        """Parsed, but holds neither a salt nor a KMS key (e.g. a 0-byte file)."""
        return self.info is not None and not self.info.salt and not self.info.encrypted_data_keys

    def problem(self) -> str | None:
        """Why this entry gives no key, in words; None when it holds one."""
        if self.directory:
            return DIRECTORY
        if self.info is None:
            return self.error or "could not be read"
        if self.empty:
            return "is empty: it holds no passphrase salt and no KMS key"
        return None


def crdb_order(names: Iterable[str]) -> list[str]:
    """The order CockroachDB reads ENCRYPTION-INFO files in: lexically (bytewise) last first."""
    return sorted(names, key=lambda n: n.encode(), reverse=True)


@dataclass
class EncryptionFiles:
    """All ENCRYPTION-INFO* entries of one full backup, in numeric order (for display).

    `verify_key`, when set, proves a candidate data key by decrypting the start of the backup's
    manifest; it lets a reader try a second entry when the first one wraps a wrong key.
    """

    files: list[EncryptionFile] = field(default_factory=list)
    verify_key: Callable[[DataKey], None] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def readable(self) -> list[EncryptionFile]:
        return [f for f in self.files if f.info is not None]

    def infos(self) -> list[tuple[EncryptionFile, EncryptionInfo]]:
        """(file, parsed info) of every readable file, in numeric order."""
        return [(f, f.info) for f in self.files if f.info is not None]

    def crdb_infos(self) -> list[tuple[EncryptionFile, EncryptionInfo]]:
        """(file, parsed info) of every readable file, in CockroachDB's reading order."""
        by_name = {f.name: (f, i) for f, i in self.infos()}
        return [by_name[n] for n in crdb_order(by_name)]

    @property
    def unreadable(self) -> list[EncryptionFile]:
        return [f for f in self.files if f.info is None and not f.directory]

    @property
    def mode(self) -> EncryptionMode:
        if not self.files:
            return EncryptionMode.NONE
        if any(info.encrypted_data_keys for _, info in self.infos()):
            return EncryptionMode.KMS
        if any(info.salt for _, info in self.infos()):
            return EncryptionMode.PASSPHRASE
        return EncryptionMode.UNUSABLE

    def warnings(self) -> list[str]:
        """One line per entry that gives no key, and what CockroachDB makes of it."""
        out = []
        for f in self.files:
            if f.directory:
                out.append(f"ignored {f.name}: {f.problem()} (CockroachDB does not read it either)")
            elif f.info is None:
                fix = (
                    f"make {f.name} readable or move it out of the backup directory (rewrap "
                    "never deletes)"
                )
                out.append(
                    f"skipped unreadable {f.name}: {f.error}. "
                    + (CRDB_CANNOT_READ.format(name=f.name, fix=fix) if f.listed else
                       "It is not listed, so CockroachDB may not see it; " + fix)
                )
            elif f.empty:
                out.append(f"{f.name} {f.problem()}")
        return out + self.notes

    def describe_problems(self) -> str:
        """`name: problem` for every entry, for an error when no entry holds a key."""
        return "; ".join(f"{f.name} {p}" if f.directory or f.empty else f"{f.name}: {p}"
                         for f in self.files if (p := f.problem()))

    def find_all(self, id_hash: bytes) -> list[tuple[EncryptionFile, bytes]]:
        """Every (file, wrapped key) holding `id_hash`, in CockroachDB's reading order (the
        first is the entry CockroachDB takes; trying the rest means one bad entry cannot hide a
        good one)."""
        hits = []
        for f, info in self.crdb_infos():
            wrapped = info.encrypted_data_keys.get(id_hash)
            if wrapped is not None:
                hits.append((f, wrapped))
        return hits

    def holders(self, ids: Sequence[str]) -> list[EncryptionFile]:
        """Readable files (CockroachDB's order) holding an entry for one of `ids`."""
        hashes = [key_id_hash(i) for i in ids]
        return [f for f, info in self.crdb_infos() if any(h in info.encrypted_data_keys for h in hashes)]

    def crdb_pick(self, id_sets: Sequence[Sequence[str]]) -> EncryptionFile | None:
        """The file CockroachDB's GetEncryptionFromBaseStore takes for these URIs (each given as
        its key ids): the first, in its order, holding an entry for every one; None if none."""
        for f, info in self.crdb_infos():
            if all(any(key_id_hash(i) in info.encrypted_data_keys for i in ids) for ids in id_sets):
                return f
        return None

    def taken_numbers(self) -> set[int]:
        """Every n whose `ENCRYPTION-INFO[-n]` name exists in any form (file, directory, link)."""
        return {n for f in self.files if (n := parse_encryption_info_name(f.name)) is not None}

    @property
    def crdb_count(self) -> int:
        """How many ENCRYPTION-INFO* files CockroachDB's listing finds here (unreadable ones too,
        directories not): its ALTER BACKUP names its new file after this count + 1."""
        return sum(1 for f in self.files if not f.directory)


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


def _read_one(storage: ExternalStorage, name: str, *, listed: bool = True) -> EncryptionFile:
    """Read and parse one file; any storage or format failure becomes its reason (a special file
    is refused by the storage with a StorageError, so it lands here too)."""
    try:
        data = storage.read(name)
    except StorageError as e:
        return EncryptionFile(name, None, f"cannot be read: {e}", listed=listed)
    try:
        return EncryptionFile(name, EncryptionInfo.from_bytes(data, name=name), listed=listed)
    except RewrapError as e:
        return EncryptionFile(name, None, str(e), listed=listed)


def _probe_unlisted(storage: ExternalStorage) -> list[EncryptionFile]:
    """When the listing shows no ENCRYPTION-INFO file, look for what may hide one: a directory
    of that name, or a name the listing leaves out (a link out of the external-IO dir) that a
    read reports as something other than missing. Costs one list and one read, only for
    backups that look unencrypted."""
    found: list[EncryptionFile] = []
    try:
        for entry in storage.list(ENCRYPTION_INFO, "/"):
            if entry.endswith("/") and entry.rstrip("/").startswith(ENCRYPTION_INFO):
                found.append(EncryptionFile(entry.rstrip("/"), None, DIRECTORY, directory=True))
    except StorageError:
        pass
    if any(f.name == ENCRYPTION_INFO for f in found):
        return found
    try:
        storage.read(ENCRYPTION_INFO)
    except NotFound:
        return found
    except StorageError as e:
        return [*found, EncryptionFile(ENCRYPTION_INFO, None, f"cannot be read: {e}", listed=False)]
    return [*found, _read_one(storage, ENCRYPTION_INFO, listed=False)]


def read_encryption_files(
    storage: ExternalStorage, names: Iterable[str], *, directories: Iterable[str] = ()
) -> EncryptionFiles:
    """Read and parse every ENCRYPTION-INFO* file among `names` (top-level file names).

    `directories` are top-level directory names (without '/') if the caller has them. The data
    key is checked against the first manifest among `names` when a reader needs to choose
    between entries (see `EncryptionFiles.verify_key`).
    """
    names = list(names)
    out = EncryptionFiles(verify_key=_manifest_verifier(storage, names))
    for name in encryption_file_names(names):
        out.files.append(_read_one(storage, name))
    for d in sorted(set(directories)):
        if d.startswith(ENCRYPTION_INFO):
            out.files.append(EncryptionFile(d, None, DIRECTORY, directory=True))
    if not out.files:
        out.files = _probe_unlisted(storage)
    return out


def _manifest_verifier(storage: ExternalStorage, names: Sequence[str]) -> Callable[[DataKey], None] | None:
    """Prove a data key by opening the first sealed chunk of the backup's manifest (AES-GCM
    authenticates it, so a wrong key fails); None when there is no encrypted manifest here."""
    from engine.formats.encrypted_file import DecryptingReader, appears_encrypted
    from engine.formats.names import MANIFEST_NAMES

    manifest = next((n for n in MANIFEST_NAMES if n in names), None)
    if manifest is None:
        return None
    shown = f"{storage.display_uri.rstrip('/')}/{manifest}"

    def verify(key: DataKey) -> None:
        size = storage.size(manifest)
        head = storage.read_range(manifest, 0, min(size, 8))
        if not appears_encrypted(head):
            raise KeyError_(f"{shown} is not encrypted")
        reader = DecryptingReader(
            lambda off, n: storage.read_range(manifest, off, n), size, key.material, name=shown
        )
        reader.read_chunk(0)

    return verify


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
    """Which KMS unlocked the backup, from which file, the key itself, and what a person
    should know about it (e.g. that CockroachDB would have taken another, bad entry)."""

    key: DataKey
    kms_uri: str | None  # redacted; None for passphrase
    file: str | None
    kms: KMS | None = None
    warnings: list[str] = field(default_factory=list)


def unlock_with_passphrase(files: EncryptionFiles, passphrase: str) -> Unlocked:
    # CockroachDB takes the salt of the first file in its order (opts[0].Salt).
    salts = [(f, info) for f, info in files.crdb_infos() if info.salt]
    if not salts:
        raise KeyError_(
            "ENCRYPTION_PASSPHRASE given, but the backup is not passphrase-encrypted "
            f"({'KMS-encrypted: use KMS = ...' if files.mode is EncryptionMode.KMS else 'not encrypted'})"
        )
    f, info = salts[0]
    return Unlocked(DataKey(derive_key(passphrase, info.salt)), None, f.name)


def match_all(kms: KMS, files: EncryptionFiles) -> list[tuple[EncryptionFile, bytes]]:
    """Every (file, wrapped key) whose entry matches one of the KMS's id forms: for each id
    form, files in CockroachDB's order."""
    return [hit for key_id in kms.key_ids for hit in files.find_all(key_id_hash(key_id))]


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
FAILED_DECRYPT = "failed to decrypt data key"
NO_MANIFEST = "no data key unwrapped by these keys decrypts the backup's manifest, so nothing was written"
CRDB_WILL_NOT = "rewrap opens the backup, CockroachDB will not with that key"


def _not_found(kms: KMS, files: EncryptionFiles) -> str:
    """`key id ... not found in <files>`, naming the files that could not be read and why."""
    names = ", ".join(f.name for f in files.readable)
    text = f"key id {kms.master_key_id!r} not found in " + (names or "any ENCRYPTION-INFO file")
    problems = files.describe_problems()
    return f"{text} ({problems})" if problems else text


@dataclass
class _Try:
    candidate: KMSCandidate
    file: EncryptionFile
    wrapped: bytes


def _attempts(files: EncryptionFiles, candidates: Sequence[KMSCandidate]) -> list[_Try]:
    """Every (candidate, entry) to try, CockroachDB's own choice for each candidate first."""
    out: list[_Try] = []
    for c in candidates:
        if c.kms is None:
            continue
        seen: set[str] = set()
        for f, wrapped in match_all(c.kms, files):
            if f.name not in seen:
                seen.add(f.name)
                out.append(_Try(c, f, wrapped))
    return out


def _try_all(
    tries: Sequence[_Try],
    attempts: list[KMSAttempt],
    verify: Callable[[DataKey], None] | None,
    *,
    always_verify: bool,
) -> tuple[int, Unlocked] | None:
    """Decrypt each entry in turn (one KMS call each) until one gives a key that `verify`
    accepts; a key is only verified when `always_verify` or another, different entry could
    still be tried. Returns (index of the winning try, unlocked) or None."""
    distinct = len({bytes(t.wrapped) for t in tries}) > 1
    for i, t in enumerate(tries):
        c = t.candidate
        assert c.kms is not None
        try:
            plain = c.kms.decrypt(t.wrapped)
        except RewrapError as e:
            attempts.append(KMSAttempt(c.uri, f"KMS refused to decrypt the data key in {t.file.name}: {e}"))
            continue
        try:
            key = DataKey(plain)
        except KeyError_ as e:
            attempts.append(KMSAttempt(c.uri, f"{t.file.name}: {e}"))
            continue
        finally:
            if isinstance(plain, bytearray):
                plain[:] = b"\0" * len(plain)
        if verify is not None and (always_verify or distinct):
            try:
                verify(key)
            except RewrapError as e:
                key.wipe()
                attempts.append(KMSAttempt(
                    c.uri,
                    f"the data key unwrapped by '{c.uri}' from {t.file.name} does not decrypt the "
                    f"backup's manifest: {e}",
                ))
                continue
        return i, Unlocked(key, c.uri, t.file.name, c.kms)
    return None


def _crdb_would_fail(first: _Try, attempts: Sequence[KMSAttempt], what: str) -> str:
    reason = attempts[0].reason if attempts else "does not open the backup"
    return (
        f"{CRDB_WILL_NOT}: {what} takes {first.file.name}'s entry for '{first.candidate.uri}' "
        f"(the first file in its order, lexically last name first, that holds the key id, and it "
        f"tries no other), and that entry is bad ({reason})"
    )


def unwrap_data_key(
    files: EncryptionFiles,
    candidates: Sequence[KMSCandidate],
    *,
    headline: str,
    verify: Callable[[DataKey], None] | None = None,
) -> Unlocked:
    """ALTER BACKUP's OLD_KMS rule: the first candidate whose id is in a file (no KMS call for
    the comparison), its entry in the first such file in CockroachDB's order, then, unlike
    CockroachDB, every further entry and candidate until one decrypts and (with `verify`)
    opens the manifest. Exactly one KMS decrypt call per entry tried; normally one in all.

    Raises KeyError_ with `headline` when no id matches, CockroachDB's `failed to decrypt data
    key` when entries matched but none decrypted, and one line per URI saying why.
    """
    attempts: list[KMSAttempt] = []
    for c in candidates:
        if c.kms is None:
            attempts.append(KMSAttempt(c.uri, c.error or "could not be opened"))
        elif not match_all(c.kms, files):
            attempts.append(KMSAttempt(c.uri, _not_found(c.kms, files)))
    tries = _attempts(files, candidates)
    if not tries:
        raise KeyError_(describe_attempts(headline, attempts))
    failures: list[KMSAttempt] = []
    won = _try_all(tries, failures, verify, always_verify=verify is not None)
    if won is None:
        only_manifest = verify is not None and all("does not decrypt the backup's manifest" in a.reason for a in failures)
        raise KeyError_(describe_attempts(NO_MANIFEST if only_manifest else FAILED_DECRYPT, attempts + failures))
    index, unlocked = won
    if index > 0:
        unlocked.warnings.append(_crdb_would_fail(tries[0], failures, "CockroachDB's ALTER BACKUP"))
    return unlocked


def unlock_for_reading(
    files: EncryptionFiles,
    candidates: Sequence[KMSCandidate],
    *,
    verify: Callable[[DataKey], None] | None = None,
) -> Unlocked:
    """SHOW BACKUP / RESTORE `WITH KMS = (...)`, with CockroachDB's rule: every URI must open,
    and one single file must hold every URI's key id. Then CockroachDB's own entry (the first
    URI's, in the first such file) is tried first, and, unlike CockroachDB, every other entry
    of every URI until one proves itself; a warning says when CockroachDB would fail."""
    attempts: list[KMSAttempt] = []
    for c in candidates:
        if c.kms is None:
            attempts.append(KMSAttempt(c.uri, c.error or "could not be opened"))
            continue
        held = files.holders(c.kms.key_ids)
        attempts.append(KMSAttempt(c.uri, (
            f"key id {c.kms.master_key_id!r} is in {', '.join(f.name for f in held)}"
            if held else _not_found(c.kms, files)
        )))
    unopened = [c for c in candidates if c.kms is None]
    if unopened:  # CockroachDB's KMSFromURI error ends its read too
        raise KeyError_(describe_attempts((unopened[0].error or "could not open a KMS URI").splitlines()[0], attempts))
    kmses = [c.kms for c in candidates if c.kms is not None]
    pick = files.crdb_pick([k.key_ids for k in kmses])
    if pick is None:
        text = describe_attempts(NOT_USED, attempts)
        if len(candidates) > 1 and all(files.holders(k.key_ids) for k in kmses):
            text += (
                f"\n  no single ENCRYPTION-INFO file holds all {len(candidates)} keys, and "
                "CockroachDB needs them in one file: ALTER BACKUP ... ADD NEW_KMS = (every one of "
                "them) WITH OLD_KMS = (one of them) writes such a file"
            )
        elif len(candidates) > 1:
            text += (
                "\n  CockroachDB needs every given KMS URI to be a key of the backup: leave out "
                "the ones that are not"
            )
        raise KeyError_(text)
    first = candidates[0]
    assert first.kms is not None
    crdb_entry = next(w for f, w in match_all(first.kms, files) if f.name == pick.name)
    tries = [_Try(first, pick, crdb_entry)]
    tries += [t for t in _attempts(files, candidates) if not (t.candidate is first and t.file.name == pick.name)]
    failures: list[KMSAttempt] = []
    won = _try_all(tries, failures, verify, always_verify=False)
    if won is None:
        raise KeyError_(describe_attempts(FAILED_DECRYPT, failures))
    index, unlocked = won
    if index > 0:
        unlocked.warnings.append(_crdb_would_fail(tries[0], failures, "CockroachDB's SHOW BACKUP / RESTORE"))
    return unlocked


def unlock_with_kms(
    files: EncryptionFiles,
    uris: Sequence[str],
    *,
    env: KMSEnv | None = None,
    verify: Callable[[DataKey], None] | None = None,
) -> Unlocked:
    """Open `uris` and unwrap the data key (SHOW BACKUP ... WITH KMS), CockroachDB's rule."""
    candidates = open_candidates(uris, env=env)
    try:
        return unlock_for_reading(files, candidates, verify=verify or files.verify_key)
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
    notices: list[str] | None = None,
) -> Iterator[DataKey | None]:
    """The data key for reading a backup (None when it is not encrypted), wiped afterwards.

    Warnings found while unlocking go to `notices` when given, else to `files.notes` (which
    `files.warnings()` includes).
    """
    mode = files.mode
    if mode in (EncryptionMode.NONE, EncryptionMode.UNUSABLE):
        if kms_uris or passphrase:
            if mode is EncryptionMode.UNUSABLE:
                raise KeyError_(
                    f"{where}: no ENCRYPTION-INFO file holds a key, so KMS or "
                    f"ENCRYPTION_PASSPHRASE cannot unlock it: {files.describe_problems()}"
                )
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
    (files.notes if notices is None else notices).extend(unlocked.warnings)
    with unlocked.key as key:
        yield key
