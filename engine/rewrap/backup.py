"""ALTER BACKUP ... ADD NEW_KMS ... WITH OLD_KMS ... on one full backup, done safely.

CockroachDB's steps (spec alter-backup-kms-grammar.md §0), with its weak points fixed:
1. read every ENCRYPTION-INFO* file, in numeric order; an unreadable extra file is skipped and
   named instead of failing the backup;
2. idempotence: new keys whose id is already in a file are reported `already present` (no KMS
   call, nothing written), so re-running after a crash or a partial bulk run is safe;
3. find an OLD_KMS whose id is in a file (no KMS call), unwrap the data key (one decrypt), and
   prove it is the right key by decrypting the backup's manifest;
4. wrap the key under each missing NEW_KMS (one encrypt each) and round-trip it (one decrypt each)
   before anything is written;
5. write only the new entries to `ENCRYPTION-INFO-<max n + 1>` with a create-only write; if the
   name was taken meanwhile, re-read and take the next number, so concurrent runs all land;
6. read the file back and compare it byte for byte.
Nothing is ever overwritten or deleted; the plaintext key is wiped when the backup is done.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass

from engine.collection import FullBackup
from engine.encryption import (
    NO_MATCH,
    EncryptionFiles,
    EncryptionMode,
    KMSCandidate,
    match_all,
    read_encryption_files,
    unwrap_data_key,
)
from engine.errors import RewrapError
from engine.formats.encryption_info import (
    EncryptionInfo,
    encryption_info_file_name,
    fingerprint,
    key_id_hash,
)
from engine.kms import KMS
from engine.reader import read_manifest
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
from engine.storage import AlreadyExists

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


def missing_keys(new_kms: Sequence[KMS], files: EncryptionFiles) -> list[KMS]:
    """The new keys not yet stored under every id CockroachDB's reader would look up for them
    (their write ids; a replica id that happens to match does not count)."""
    return [
        k
        for k in new_kms
        if not all(files.find_all(key_id_hash(i)) for i in k.write_key_ids)
    ]


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
    state: dict = {"old_key": None, "verified": {}}

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


def _journal(journal: AuditJournal, name: str, emit: ProgressSink, record: dict) -> None:
    """Append to the audit journal; a journal that cannot be written is a warning, because by
    now the key file may already be written and the person must hear about both."""
    try:
        journal.append(record)
    except OSError as e:
        emit(Notice(name, f"audit journal {journal.path} not written: {e.strerror or e}"))


def _run(backup, request, emit, cancel, state, finish) -> BackupFinished:  # type: ignore[no-untyped-def]
    name = backup.subdir
    emit(StepStarted(name, Step.READING_KEYS))
    if backup.manifest_name is None:
        raise RewrapError(f"{backup.display_uri}: no backup found there (no manifest file)")
    files = read_encryption_files(backup.storage, backup.top_level_files)
    for warning in files.warnings():
        emit(Notice(name, warning))
    mode = files.mode
    if mode is EncryptionMode.NONE:
        raise RewrapError(
            f"{backup.display_uri}: not encrypted (no ENCRYPTION-INFO file): there is no data key "
            "to add a KMS key to"
        )
    if mode is EncryptionMode.PASSPHRASE:
        raise RewrapError(
            f"{backup.display_uri}: encrypted with a passphrase, not KMS: ADD NEW_KMS needs a "
            "KMS-encrypted backup (CockroachDB cannot alter passphrase backups either)"
        )
    if not any(c.kms is not None and match_all(c.kms, files) for c in request.old_kms):
        # No KMS call is made here (nothing matches); this raises CockroachDB's error with the
        # reason for each OLD_KMS, even when the new keys are already present.
        unwrap_data_key(files, request.old_kms, headline=NO_MATCH)
    todo = missing_keys(request.new_kms, files)
    present = tuple(key_fingerprint(k) for k in request.new_kms if k not in todo)
    if not todo:
        return finish(Status.ALREADY_PRESENT, present_keys=present)

    cancel.check()
    emit(StepStarted(name, Step.UNWRAPPING))
    unlocked = unwrap_data_key(files, request.old_kms, headline=NO_MATCH)
    with unlocked.key as key:
        assert unlocked.kms is not None  # KMS unwrap always names its KMS
        state["old_key"] = key_fingerprint(unlocked.kms)

        cancel.check()
        emit(StepStarted(name, Step.VERIFYING_MANIFEST))
        try:
            read_manifest(backup.layer(), key)
        except RewrapError as e:
            raise RewrapError(
                f"the data key unwrapped by '{unlocked.kms_uri}' from {unlocked.file} does not "
                f"decrypt the backup's manifest, so nothing was written: {e}"
            ) from None
        state["verified"]["manifest"] = True

        cancel.check()
        emit(StepStarted(name, Step.WRAPPING))
        wrapped: list[tuple[KMS, bytes]] = []
        for kms in todo:
            try:
                wrapped.append((kms, kms.encrypt(bytes(key.material))))
            except RewrapError as e:
                raise RewrapError(
                    "failed to encrypt data key when adding new KMS: failed to encrypt data key "
                    f"for KMS scheme {kms.scheme}: {e}"
                ) from None

        cancel.check()
        emit(StepStarted(name, Step.VERIFYING_KEYS))
        for kms, blob in wrapped:
            try:
                back = kms.decrypt(blob)
            except RewrapError as e:
                raise RewrapError(f"NEW_KMS '{kms.redacted_uri}': the new wrapped key does not decrypt: {e}") from None
            same = hmac.compare_digest(back, key.material)
            if isinstance(back, bytearray):
                back[:] = bytes(len(back))
            if not same:
                raise RewrapError(
                    f"NEW_KMS '{kms.redacted_uri}': the new wrapped key decrypts to a different key"
                )
        state["verified"]["round_trip"] = True

    info = EncryptionInfo(
        encrypted_data_keys={key_id_hash(i): blob for kms, blob in wrapped for i in kms.write_key_ids}
    )
    data = info.to_bytes()
    new = tuple(key_fingerprint(k) for k in todo)
    if request.dry_run:
        return finish(Status.WOULD_ADD, new_keys=new, present_keys=present)

    cancel.check()
    damaged: list[str] = []
    for _ in range(2):  # a second write only when the first one read back wrong
        emit(StepStarted(name, Step.WRITING))
        written = _write_next(backup, data, files, todo, trust_present=not damaged)
        if written is None:  # a concurrent run added the same keys meanwhile
            return finish(Status.ALREADY_PRESENT, present_keys=present + new)
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
        files = read_encryption_files(backup.storage, backup.list_top_level())
    raise RewrapError(
        f"wrote {' and '.join(damaged)}, but each read back with different bytes: the storage is "
        f"damaging writes; check it before re-running. {_damaged_advice(backup, damaged)}"
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


def _write_next(
    backup: FullBackup,
    data: bytes,
    files: EncryptionFiles,
    todo: Sequence[KMS],
    *,
    trust_present: bool = True,
) -> str | None:
    """Create ENCRYPTION-INFO-<max n + 1>; on a lost race re-read and take the next number.

    Returns the name written, or None if a concurrent writer added all of `todo` meanwhile
    (not trusted when rewriting after a damaged read-back: that entry is ours and bad).
    """
    number = max(files.max_number(), 1) + 1
    for _ in range(MAX_WRITE_ATTEMPTS):
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
            names = backup.list_top_level()
            fresh = read_encryption_files(backup.storage, names)
            if trust_present and not missing_keys(todo, fresh):
                return None
            number = max(fresh.max_number() + 1, number + 1)
    raise RewrapError(
        f"{backup.display_uri}: gave up after {MAX_WRITE_ATTEMPTS} attempts to create a new "
        "ENCRYPTION-INFO file (every name was taken by concurrent writers)"
    )
