"""ALTER BACKUP ... ADD NEW_KMS ... WITH OLD_KMS ... on one full backup, done safely.

CockroachDB's steps (spec alter-backup-kms-grammar.md §0), with its weak points fixed:
1. read every ENCRYPTION-INFO* file; an unreadable extra file is skipped and named (with what
   CockroachDB makes of it: it cannot read the backup at all) instead of failing the backup;
2. find an OLD_KMS whose id is in a file (no KMS call) and unwrap the data key (one decrypt),
   trying CockroachDB's own choice of entry first and then every other entry holding the id,
   until one decrypts the backup's manifest (a warning says when CockroachDB would fail);
3. presence is proven, never assumed from the key id: a NEW_KMS whose id is already stored must
   decrypt that entry to the data key (one decrypt per such key); an entry with its id that it
   cannot decrypt is a key-id collision (or an unreachable KMS), an error, nothing written;
4. one file per statement: `already present` only when one existing file holds every NEW_KMS
   (proven); otherwise every NEW_KMS of the statement goes into one new file (proven entries
   copied, missing keys wrapped: one encrypt and one round-trip decrypt each), because
   CockroachDB's RESTORE WITH KMS = (a, b) needs a and b in one file;
5. write it to the lowest free `ENCRYPTION-INFO-<n>` (n >= 2) with a create-only write, taking
   the next free number when a name was taken meanwhile (see `next_file_number`);
6. read the file back and compare it byte for byte.
Nothing is ever overwritten or deleted; the plaintext key is wiped when the backup is done.

KMS calls per backup: 1 decrypt with the old key (more only when a stored entry is bad); per
NEW_KMS already stored, 1 decrypt (the proof); per NEW_KMS not stored, 1 encrypt + 1 decrypt.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.collection import BackupLayer, FullBackup
from engine.encryption import (
    NO_MATCH,
    DataKey,
    EncryptionFiles,
    EncryptionMode,
    KMSCandidate,
    match_all,
    read_encryption_files,
    unwrap_data_key,
)
from engine.errors import RewrapError
from engine.formats import encrypted_file
from engine.formats.encryption_info import (
    EncryptionInfo,
    encryption_info_file_name,
    fingerprint,
    key_id_hash,
)
from engine.formats.manifest import CHECKSUM_SUFFIX, decode_manifest
from engine.kms import KMS
from engine.rewrap.events import (
    BackupFinished,
    BackupStarted,
    Cancelled,
    CancelToken,
    Notice,
    ProgressSink,
    Status,
    Step,
    StepStarted,
)
from engine.rewrap.journal import AuditJournal
from engine.storage import AlreadyExists, NotFound

MAX_WRITE_ATTEMPTS = 64


@dataclass(frozen=True)
class RewrapRequest:
    """What to add, with what, how; `statement` is the redacted SQL for the journal."""

    new_kms: Sequence[KMS]
    old_kms: Sequence[KMSCandidate]
    dry_run: bool = False
    statement: str = ""


def key_fingerprint(kms: KMS) -> str:
    return fingerprint(key_id_hash(kms.master_key_id))


def read_backup_keys(backup: FullBackup, *, fresh: bool = False) -> EncryptionFiles:
    """The backup's ENCRYPTION-INFO* entries (from the cached listing unless `fresh`)."""
    names = backup.list_top_level() if fresh else backup.top_level_files
    return read_encryption_files(backup.storage, names)


_ID_HINTS = {
    "aws": "use the key's ARN (aws:///arn:aws:kms:<region>:<account>:key/<key id>?REGION=...), "
    "whose path names its region and account, instead of an alias or a bare key id",
    "azure-kms": "Key Vault ids are the key name without its version, so another version of the "
    "same key can never be told apart: use a key with a name of its own (a versioned name such as "
    "'<name>-v2/<version>')",
    "gs": "Cloud KMS ids drop /cryptoKeyVersions/...: use another cryptoKey, not another version",
}
_ID_HINTS["aws-kms"] = _ID_HINTS["aws"]
_ID_HINTS["gcp-kms"] = _ID_HINTS["gs"]


def collision_error(kms: KMS, key_id: str, where: str, why: str) -> RewrapError:
    """A NEW_KMS whose key id is already stored, wrapping something it cannot decrypt to the
    data key. The id cannot hold a second entry: one file's map has one value per id, and across
    files CockroachDB reads the first file (lexically last name first) holding the id for *every*
    key with that id, so whichever entry comes first locks the other key out."""
    hint = _ID_HINTS.get(kms.scheme, "use a KMS URI whose path is not already a key id of this backup")
    return RewrapError(
        f"NEW_KMS '{kms.redacted_uri}': its key id {key_id!r} is already in {where}, and that entry "
        f"does not decrypt to this backup's data key with this key ({why}). Either the KMS could "
        "not be reached (fix that and run again), or that entry belongs to a different key whose "
        "URI has the same id: CockroachDB keys ENCRYPTION-INFO entries by the URI path alone "
        "(e.g. aws:///alias/x?REGION=us-east-1 and ?REGION=eu-west-1, testkms:///k and aws:///k, "
        "Azure name/v1 and name/v2 share one id), and one id holds one entry that CockroachDB "
        f"uses for every key with that id. Nothing was written. To add this key, {hint}."
    )


@dataclass
class KeyPlan:
    """Where each NEW_KMS stands: id hash -> blob for the new file, proven or freshly wrapped."""

    entries: dict[bytes, bytes]
    proven: list[KMS]  # already stored, proven by a decrypt
    wrapped: list[KMS]  # wrapped anew (encrypt + round-trip decrypt)


def _decrypts_to(kms: KMS, blob: bytes, key: bytearray) -> str | None:
    """None if `kms` decrypts `blob` to `key` (one KMS call), else why not."""
    try:
        back = kms.decrypt(blob)
    except RewrapError as e:
        return str(e)
    same = hmac.compare_digest(bytes(back), bytes(key))
    if isinstance(back, bytearray):
        back[:] = bytes(len(back))
    return None if same else "it decrypts to a different key"


def plan_new_keys(
    files: EncryptionFiles,
    new_kms: Sequence[KMS],
    key: bytearray,
    *,
    verifying: Callable[[], None] = lambda: None,
) -> KeyPlan:
    """Prove every NEW_KMS whose id is stored (here or earlier in the same statement) against
    the entry CockroachDB would read for it; wrap and round-trip the others. `verifying` is
    called once, before the first decrypt of a new key (progress)."""
    plan = KeyPlan({}, [], [])
    said: list[bool] = []

    def decrypts_to(kms: KMS, blob: bytes) -> str | None:
        if not said:
            said.append(True)
            verifying()
        return _decrypts_to(kms, blob, key)

    owner: dict[bytes, KMS] = {}
    for kms in new_kms:
        hashes = [key_id_hash(i) for i in kms.write_key_ids]
        for key_id, h in zip(kms.write_key_ids, hashes):
            if h in plan.entries:  # the same id twice in one statement
                why = decrypts_to(kms, plan.entries[h])
                if why is not None:
                    raise collision_error(kms, key_id, f"this statement (NEW_KMS '{owner[h].redacted_uri}')", why)
                continue
            stored = files.find_all(h)
            if stored:
                f, blob = stored[0]  # the entry CockroachDB reads for this id
                why = decrypts_to(kms, blob)
                if why is not None:
                    raise collision_error(kms, key_id, f.name, why)
                plan.entries[h], owner[h] = blob, kms
        if all(h in plan.entries for h in hashes):
            if kms not in plan.proven:
                plan.proven.append(kms)
            continue
        try:
            blob = kms.encrypt(bytes(key))
        except RewrapError as e:
            raise RewrapError(
                "failed to encrypt data key when adding new KMS: failed to encrypt data key "
                f"for KMS scheme {kms.scheme}: {e}"
            ) from None
        why = decrypts_to(kms, blob)
        if why == "it decrypts to a different key":
            raise RewrapError(f"NEW_KMS '{kms.redacted_uri}': the new wrapped key decrypts to a different key")
        if why is not None:
            raise RewrapError(f"NEW_KMS '{kms.redacted_uri}': the new wrapped key does not decrypt: {why}")
        for h in hashes:
            plan.entries.setdefault(h, blob)
            owner.setdefault(h, kms)
        plan.wrapped.append(kms)
    return plan


def present_in_one_file(files: EncryptionFiles, plan: KeyPlan) -> str | None:
    """The existing file CockroachDB would read for all of the statement's keys at once, if it
    holds exactly the proven entries for every one of them (so nothing needs writing)."""
    if plan.wrapped:
        return None
    for f, info in files.crdb_infos():
        if all(info.encrypted_data_keys.get(h) == blob for h, blob in plan.entries.items()):
            return f.name
        if all(h in info.encrypted_data_keys for h in plan.entries):
            return None  # CockroachDB would take this file, whose entries were not proven
    return None


def rewrap_backup(
    backup: FullBackup,
    request: RewrapRequest,
    *,
    emit: ProgressSink,
    cancel: CancelToken,
    journal: AuditJournal | None = None,
) -> BackupFinished:
    """Run the steps above for one backup; never raises for a per-backup failure."""
    name = backup.subdir
    started = time.monotonic()
    state: dict[str, Any] = {"old_key": None, "verified": {}}

    def finish(status: Status, **kw: object) -> BackupFinished:
        event = BackupFinished(name, status, elapsed=time.monotonic() - started, **kw)  # type: ignore[arg-type]
        emit(event)
        if journal is not None and status is not Status.CANCELLED:
            _journal(journal, name, emit, 
                {
                    "statement": request.statement,
                    "backup": backup.display_uri,
                    "status": status.value,
                    "file": event.file,
                    "new_keys": list(event.new_keys),
                    "already_present": list(event.present_keys),
                    "old_key": state["old_key"],
                    "verified": state["verified"],
                    "dry_run": request.dry_run,
                    "error": event.error,
                },
            )
        return event

    try:
        cancel.check()
        emit(BackupStarted(name))
        return _run(backup, request, emit, cancel, state, finish)
    except Cancelled:
        return finish(Status.CANCELLED, error="cancelled")
    except RewrapError as e:
        return finish(Status.FAILED, error=str(e))
    except Exception as e:  # noqa: BLE001 - a bug must fail one backup, not the whole run
        return finish(Status.FAILED, error=f"internal error ({type(e).__name__}): {e}")


def _journal(journal: AuditJournal, name: str, emit: ProgressSink, record: dict[str, Any]) -> None:
    """Append to the audit journal; a journal that cannot be written is a warning, because by
    now the key file may already be written and the person must hear about both."""
    try:
        journal.append(record)
    except OSError as e:
        emit(Notice(name, f"audit journal {journal.path} not written: {e.strerror or e}"))


def _run(
    backup: FullBackup,
    request: RewrapRequest,
    emit: ProgressSink,
    cancel: CancelToken,
    state: dict[str, Any],
    finish: Callable[..., BackupFinished],
) -> BackupFinished:
    name = backup.subdir
    emit(StepStarted(name, Step.READING_KEYS))
    if backup.manifest_name is None:
        raise RewrapError(f"{backup.display_uri}: no backup found there (no manifest file)")
    files = read_backup_keys(backup)
    for warning in files.warnings():
        emit(Notice(name, warning))
    mode = files.mode
    if mode is EncryptionMode.NONE:
        raise RewrapError(
            f"{backup.display_uri}: not encrypted (no ENCRYPTION-INFO file): there is no data key "
            "to add a KMS key to"
        )
    if mode is EncryptionMode.UNUSABLE:
        raise RewrapError(
            f"{backup.display_uri}: no ENCRYPTION-INFO file holds a key, so there is no data key "
            f"to add a KMS key to: {files.describe_problems()}"
        )
    if mode is EncryptionMode.PASSPHRASE:
        raise RewrapError(
            f"{backup.display_uri}: encrypted with a passphrase, not KMS: ADD NEW_KMS needs a "
            "KMS-encrypted backup (CockroachDB cannot alter passphrase backups either)"
        )
    if not any(c.kms is not None and match_all(c.kms, files) for c in request.old_kms):
        # No KMS call is made here (nothing matches); this raises CockroachDB's error with the
        # reason for each OLD_KMS.
        unwrap_data_key(files, request.old_kms, headline=NO_MATCH)

    cancel.check()
    emit(StepStarted(name, Step.UNWRAPPING))
    layer = backup.layer()

    def verify(key: DataKey) -> None:
        emit(StepStarted(name, Step.VERIFYING_MANIFEST))
        _check_manifest(layer, key.material)

    unlocked = unwrap_data_key(files, request.old_kms, headline=NO_MATCH, verify=verify)
    for warning in unlocked.warnings:
        emit(Notice(name, warning))
    with unlocked.key as key:
        assert unlocked.kms is not None  # KMS unwrap always names its KMS
        state["old_key"] = key_fingerprint(unlocked.kms)
        state["verified"]["manifest"] = True

        cancel.check()
        emit(StepStarted(name, Step.WRAPPING))
        plan = plan_new_keys(
            files, request.new_kms, key.material,
            verifying=lambda: emit(StepStarted(name, Step.VERIFYING_KEYS)),
        )
        state["verified"]["round_trip"] = True  # every new key decrypted back to the data key

    present = tuple(key_fingerprint(k) for k in plan.proven)
    held_by = present_in_one_file(files, plan)
    if held_by is not None:
        return finish(Status.ALREADY_PRESENT, present_keys=present)
    if plan.proven:
        emit(Notice(name, (
            f"{len(plan.proven)} of the {len(request.new_kms)} new keys are already stored, but no "
            "single ENCRYPTION-INFO file holds them all, which CockroachDB's RESTORE WITH KMS = "
            "(...) needs: the new file holds every key of this statement"
        )))
    data = EncryptionInfo(encrypted_data_keys=plan.entries).to_bytes()
    new = tuple(key_fingerprint(k) for k in request.new_kms)
    if request.dry_run:
        return finish(Status.WOULD_ADD, new_keys=new, present_keys=present)

    cancel.check()
    damaged: list[str] = []
    for _ in range(2):  # a second write only when the first one read back wrong
        emit(StepStarted(name, Step.WRITING))
        written = write_new_file(backup, data, files)
        emit(StepStarted(name, Step.READING_BACK))
        try:
            back = backup.storage.read(written)
        except RewrapError as e:
            raise RewrapError(f"wrote {written}, but could not read it back to check it: {e}") from None
        if back == data:
            state["verified"]["read_back"] = True
            if damaged:
                emit(Notice(name, f"{', '.join(damaged)} read back damaged; wrote {written} instead. "
                            f"{_damaged_advice(backup, damaged)}"))
            return finish(Status.ADDED, file=written, new_keys=new, present_keys=present)
        damaged.append(written)
        files = read_backup_keys(backup, fresh=True)
    raise RewrapError(
        f"wrote {' and '.join(damaged)}, but each read back with different bytes: the storage is "
        f"damaging writes; check it before re-running. {_damaged_advice(backup, damaged)}"
    )


def _check_manifest(layer: BackupLayer, key: bytes | bytearray) -> None:
    """Decrypt and decode the layer's manifest with `key` (checksum-checked when a -CHECKSUM
    file exists), as engine.reader.read_manifest does; here so that ALTER does not import the
    SST reader behind engine.reader (~50 ms of CPU at every start)."""
    name = layer.manifest_name
    shown = f"{layer.display}/{name}"
    stored = layer.storage.read(name)
    try:
        checksum: bytes | None = layer.storage.read(name + CHECKSUM_SUFFIX)
    except NotFound:
        checksum = None
    decode_manifest(
        stored,
        decrypt=lambda data: encrypted_file.decrypt(key, data, name=shown),
        checksum=checksum,
        name=shown,
    )


def _damaged_advice(backup: FullBackup, damaged: Sequence[str]) -> str:
    """What a damaged file means for readers: rewrap skips it, CockroachDB stops at it."""
    unparseable = []
    for name in damaged:
        try:
            EncryptionInfo.from_bytes(backup.storage.read(name), name=name)
        except RewrapError:
            unparseable.append(name)
    if not unparseable:
        return "The old keys still open the backup."
    return (
        f"{', '.join(unparseable)} does not parse: rewrap skips it, but CockroachDB's RESTORE and "
        "SHOW BACKUP stop at an unreadable ENCRYPTION-INFO file, so move it out of the backup "
        "directory by hand (rewrap never deletes)."
    )


def next_file_number(taken: set[int], count: int, where: str, hidden: str = "") -> int:
    """The lowest free n >= 2 for `ENCRYPTION-INFO-<n>`, refused if CockroachDB could land on it.

    CockroachDB's ALTER BACKUP names its file `ENCRYPTION-INFO-<count + 1>`, where count is the
    number of ENCRYPTION-INFO* names its listing returns (readable or not, any suffix), and
    writes it with a plain put that overwrites. rewrap wants that name never to be one it wrote.

    Argument: let rewrap write number m, the lowest free n >= 2 when it looked, so 2..m-1 were
    all taken then. Names are never removed (neither rewrap nor CockroachDB deletes), so from
    then on the listing holds 2..m plus, normally, the plain ENCRYPTION-INFO: count >= m, and
    CockroachDB's next number count + 1 > m, for every later ALTER, ours included. This needs
    m <= count_before + 1 (then count_after >= count_before + 1 >= m); it fails only when the
    names 2..m-1 are all there is, i.e. the plain ENCRYPTION-INFO is missing: then CockroachDB's
    next name is m itself, so rewrap refuses instead of writing a file CockroachDB would
    overwrite. `count` counts every name the listing returns, so it can only be smaller than
    CockroachDB's, which also lists nested ENCRYPTION-INFO* names, never larger (directories are
    not counted: object stores have none), and the argument holds for its count too.
    Filling gaps also means a gap left by a deleted file stops being where CockroachDB's next
    write would land.
    """
    m = 2
    while m in taken:
        m += 1
    if m > count + 1:
        why = (
            "ENCRYPTION-INFO (the backup's original key file) is missing"
            if 1 not in taken
            else f"names exist that the listing does not show as files ({hidden or 'unknown'})"
        )
        raise RewrapError(
            f"{where}: {why}, and {count} ENCRYPTION-INFO file(s) are listed: CockroachDB names "
            f"its next file after that count (ENCRYPTION-INFO-{count + 1}) and overwrites what is "
            f"there, so the file rewrap would write (ENCRYPTION-INFO-{m}) could be overwritten by "
            "CockroachDB's next ALTER BACKUP. Put the original ENCRYPTION-INFO back, or move the "
            "unlisted names out of the backup directory, first. Nothing was written."
        )
    return m


def write_new_file(backup: FullBackup, data: bytes, files: EncryptionFiles) -> str:
    """Create `data` at the lowest free ENCRYPTION-INFO-<n>; on a taken name, list again and
    take the next free one. A name that exists but was not listed as a file (a directory, a
    link the storage hides) is taken but not counted: counting it could make rewrap's count
    larger than CockroachDB's, the one unsafe direction. Returns the name written."""
    taken, count = files.taken_numbers(), files.crdb_count
    hidden = {f.name for f in files.files if f.directory or not f.listed}
    extra: set[int] = set()  # numbers a create found taken although the listing did not show them
    for _ in range(MAX_WRITE_ATTEMPTS):
        unlisted = ", ".join(sorted(hidden | {encryption_info_file_name(n) for n in extra - taken}))
        number = next_file_number(taken | extra, count, backup.display_uri, unlisted)
        name = encryption_info_file_name(number)
        try:
            backup.storage.write_new(name, data)
            return name
        except AlreadyExists:
            try:
                if backup.storage.read(name) == data:
                    return name  # our own write, whose success response was lost and retried
            except RewrapError:
                pass
            fresh = read_backup_keys(backup, fresh=True)
            taken, count = fresh.taken_numbers(), fresh.crdb_count
            hidden = {f.name for f in fresh.files if f.directory or not f.listed}
            extra.add(number)
    raise RewrapError(
        f"{backup.display_uri}: gave up after {MAX_WRITE_ATTEMPTS} attempts to create a new "
        "ENCRYPTION-INFO file (every name was taken by concurrent writers)"
    )
