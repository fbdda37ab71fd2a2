"""Can an old KMS key be disabled? A proof, backup by backup (SHOW KMS RETIREMENT).

Presence of a key id in an ENCRYPTION-INFO file proves nothing: the entry may wrap a wrong key,
the KMS may refuse, a manifest may be damaged. So a full backup is `safe` only when one of the
remaining keys, through its KMS, unwraps a data key that decrypts (AES-GCM, every chunk) the
full backup's manifest and the manifest of every incremental of its chain, and the entry it
unwrapped is the one CockroachDB itself takes for that key.

CockroachDB's choice, looked up in cockroachdb/cockroach pkg/backup/backupencryption/encryption.go
(commit 200d56f7485c02271360970eeb9b4c0477d67e79): ReadEncryptionOptions reads every
ENCRYPTION-INFO* file, lexically last first, and fails the whole read when one cannot be parsed;
GetEncryptionFromBaseStore takes the first file whose map holds the key id
(ValidateKMSURIsAgainstFullBackup) and decrypts that entry, trying no other file. engine/encryption.py
models this (EncryptionFiles.crdb_pick / find_all); this module reuses it. Incrementals keep no
ENCRYPTION-INFO of their own: their manifests are sealed with the full backup's data key.

A backup schedule still on the old key is fixed on the cluster with `ALTER BACKUP SCHEDULE <id>
SET WITH kms = '<new uri>'` (synopsis `ALTER BACKUP SCHEDULE schedule_id SET WITH option`,
cockroachlabs.com/docs/stable/alter-backup-schedule; `kms` is a BACKUP option).

Cost: one KMS decrypt per (ENCRYPTION-INFO file, key) at most, made once for the whole chain;
at most `concurrency` KMS calls at once (a few more threads read ahead, so the calls never wait
for storage); the collection is listed once (engine/storage/snapshot.py); the old key's KMS is
never called.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.collection import BackupLayer, Collection, FullBackup
from engine.encryption import (
    CRDB_CANNOT_READ,
    DataKey,
    EncryptionMode,
    KeyError_,
    match_all,
    read_encryption_files,
)
from engine.errors import RewrapError
from engine.formats.encryption_info import fingerprint, key_id_hash
from engine.kms import KMS, KMSEnv, KMSURI, open_kms, parse_kms_uri
from engine.storage import ExternalStorage
from engine.storage.snapshot import SnapshotStorage
from syntax.uri import redact_uri
from syntax.redact import redact_text

SAFE = "safe"
NEEDS_ALTER = "needs ALTER"
UNREADABLE = "unreadable"
NOT_KMS = "not KMS-encrypted"
VERDICTS = (SAFE, NEEDS_ALTER, UNREADABLE, NOT_KMS)

# Cell states of the key-coverage matrix (per backup and key).
PROVEN, PRESENT, ABSENT, DAMAGED = "proven", "present", "absent", "damaged"

COLUMNS = ["collection", "backup", "incrementals", "verdict", "opened_by", "kms_calls", "detail"]


class RetirementError(RewrapError):
    """Bad input: nothing was checked, nothing written."""


@dataclass
class KeyInfo:
    """A key the statement names: its redacted URI, role and fingerprint (sha256 of its id)."""

    uri: str  # redacted
    role: str  # "old" or "remaining"
    fingerprint: str


@dataclass
class BackupProof:
    """The verdict for one full backup and how it was reached."""

    collection: str  # redacted display URI
    backup: str  # subdir, /2025/...
    incrementals: int
    verdict: str
    opened_by: str | None
    kms_calls: int
    detail: str
    keys: dict[str, list[str]] = field(default_factory=dict)  # file -> fingerprints, CockroachDB order
    cells: dict[str, str] = field(default_factory=dict)  # fingerprint of a named key -> cell state
    after_rotation: bool = False
    checked_at: str = ""
    manifests_proven: list[str] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return self.verdict == SAFE

    @property
    def blocks(self) -> bool:
        """Whether this backup stops the old key's retirement (a backup no KMS key opens is
        not made worse by disabling one)."""
        return self.verdict != SAFE and self.verdict != NOT_KMS

    def row(self) -> tuple[Any, ...]:
        return (self.collection, self.backup, self.incrementals, self.verdict, self.opened_by,
                self.kms_calls, self.detail)


@dataclass
class RetirementReport:
    """Everything SHOW KMS RETIREMENT found, for rows, the report files and the console."""

    old: KeyInfo
    remaining: list[KeyInfo]
    collections: list[str]
    proofs: list[BackupProof]
    started_at: str
    elapsed: float
    concurrency: int
    statement: str = ""

    @property
    def blocking(self) -> list[BackupProof]:
        return [p for p in self.proofs if p.blocks]

    @property
    def retirable(self) -> bool:
        return not self.blocking

    @property
    def kms_calls(self) -> int:
        return sum(p.kms_calls for p in self.proofs)

    def error(self) -> str | None:
        """The statement's error when the key cannot be retired; None when it can."""
        bad = self.blocking
        if not bad:
            return None
        named = ", ".join(p.backup if len(self.collections) == 1 else f"{p.collection}{p.backup}" for p in bad)
        return (
            f"'{self.old.uri}' cannot be retired: {len(bad)} of {len(self.proofs)} backups "
            f"open only with it: {named}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rewrap_version": rewrap_version(),
            "statement": self.statement,
            "started_at": self.started_at,
            "elapsed_seconds": round(self.elapsed, 3),
            "concurrency": self.concurrency,
            "old_key": asdict(self.old),
            "remaining_keys": [asdict(k) for k in self.remaining],
            "collections": self.collections,
            "retirable": self.retirable,
            "kms_calls": self.kms_calls,
            "error": self.error(),
            "backups": [asdict(p) for p in self.proofs],
        }


def rewrap_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rewrap")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class _Remaining:
    info: KeyInfo
    kms: KMS | None
    error: str | None


def key_info(parsed: KMSURI, role: str) -> KeyInfo:
    return KeyInfo(parsed.redacted_uri, role, fingerprint(key_id_hash(parsed.master_key_id)))


def check_keys(old_uri: str, remaining_uris: list[str]) -> tuple[KMSURI, list[KMSURI]]:
    """Parse every URI (CockroachDB's rules); the old key may not be among the remaining ones
    (by key id: CockroachDB keys entries by the id alone, so another URI with the old key's id
    opens exactly the old key's entries)."""
    try:
        old = parse_kms_uri(old_uri)
    except RewrapError as e:
        raise RetirementError(f"the key to retire, '{redact_uri(old_uri)}': {e}") from None
    if not remaining_uris:
        raise RetirementError("WITH KMS must name at least one key that stays")
    out: list[KMSURI] = []
    old_ids = set(old.key_ids)
    for uri in remaining_uris:
        try:
            k = parse_kms_uri(uri)
        except RewrapError as e:
            raise RetirementError(f"WITH KMS '{redact_uri(uri)}': {e}") from None
        if old_ids & set(k.key_ids):
            raise RetirementError(
                f"WITH KMS '{k.redacted_uri}' is the key to retire ('{old.redacted_uri}', key id "
                f"{old.master_key_id!r}): WITH KMS names the keys that stay, and a key cannot "
                "prove that it may be disabled. Nothing was checked."
            )
        out.append(k)
    return old, out


def open_collections(open_storage: Any, uris: list[str]) -> list[tuple[str, Collection, list[str]]]:
    """(redacted display URI, collection, full backup subdirs) of each; a URI that is not a
    backup collection (nothing listed there) is an error before any KMS call."""
    out = []
    for uri in uris:
        try:
            storage: ExternalStorage = open_storage(uri)
            # one listing of the collection answers every backup's listings (engine/storage/snapshot.py)
            coll = Collection(SnapshotStorage.of(storage))
            subdirs = coll.every_full_backup()
        except RewrapError as e:
            raise RetirementError(f"collection '{redact_uri(uri)}': {e}") from None
        if not subdirs:
            raise RetirementError(
                f"collection '{storage.display_uri}' holds no full backup: not a backup collection "
                "(check the URI). Nothing was checked."
            )
        out.append((storage.display_uri, coll, subdirs))
    return out


def _prove_manifests(key: DataKey, layers: list[BackupLayer]) -> list[str]:
    """Decrypt every manifest of the chain whole; raises KeyError_ naming the first that fails."""
    from engine.formats.encrypted_file import appears_encrypted, decrypt

    proven = []
    for layer in layers:
        shown = f"{layer.display}/{layer.manifest_name}"
        try:
            data = layer.storage.read(layer.manifest_name)
        except RewrapError as e:
            raise KeyError_(f"{shown} cannot be read: {e}") from None
        if not appears_encrypted(data[:8]):
            raise KeyError_(f"{shown} is not encrypted")
        try:
            decrypt(key.material, data, name=shown)
        except RewrapError as e:
            raise KeyError_(str(e)) from None
        proven.append(shown)
    return proven


class _Checker:
    """Proves backups one at a time (threads share it; each backup's calls are its own)."""

    def __init__(self, old: KMSURI, remaining: list[_Remaining], cancel: Any = None,
                 kms_slots: int = 1) -> None:
        self.old = old
        self.old_info = key_info(old, "old")
        self.remaining = remaining
        self.cancel = cancel
        # At most `kms_slots` KMS calls at once, whatever the number of threads preparing them.
        self.kms_slots = threading.BoundedSemaphore(max(1, kms_slots))

    def prove(self, shown: str, coll: Collection, subdir: str) -> BackupProof:
        proof = BackupProof(shown, subdir, 0, UNREADABLE, None, 0, "",
                            checked_at=datetime.now(UTC).isoformat())
        if self.cancel is not None and self.cancel.cancelled:
            proof.detail = "not checked: cancelled"
            return proof
        try:
            self._prove(proof, coll.full_backup(subdir))
        except RewrapError as e:  # storage trouble listing the chain, reading a file
            proof.verdict = UNREADABLE
            proof.detail = f"could not be checked: {redact_text(str(e))}"
        return proof

    def _prove(self, proof: BackupProof, backup: FullBackup) -> None:
        files = read_encryption_files(backup.storage, backup.top_level_files)
        layers = backup.chain()
        proof.incrementals = len(layers) - 1
        proof.keys = {f.name: [fingerprint(h) for h in info.encrypted_data_keys]
                      for f, info in files.crdb_infos()}
        named = [self.old_info, *(r.info for r in self.remaining)]
        old_present = bool(files.holders(self.old.key_ids))
        for k in named:
            proof.cells[k.fingerprint] = ABSENT
        if self.old_info.fingerprint in proof.cells and old_present:
            proof.cells[self.old_info.fingerprint] = PRESENT
        mode = files.mode
        if mode is EncryptionMode.NONE or mode is EncryptionMode.PASSPHRASE:
            proof.verdict = NOT_KMS
            proof.detail = ("not encrypted" if mode is EncryptionMode.NONE else
                            "passphrase-encrypted") + ": no KMS key is needed to open it"
            return
        listed_bad = [f for f in files.unreadable if f.listed]
        if listed_bad:
            f = listed_bad[0]
            fix = (f"move {f.name} out of {backup.subdir} (or restore a good copy); rewrap never "
                   "deletes. Then run this check again")
            proof.verdict = UNREADABLE
            proof.detail = f"{f.name}: {f.error}. " + CRDB_CANNOT_READ.format(name=f.name, fix=fix)
            return
        if mode is EncryptionMode.UNUSABLE:
            proof.verdict = UNREADABLE
            proof.detail = f"no ENCRYPTION-INFO file holds a key: {files.describe_problems()}"
            return
        reasons: list[str] = []
        tried: set[tuple[str, str]] = set()  # (ENCRYPTION-INFO file, key id) decrypted already
        trouble = False  # a KMS or manifest failure (not merely an absent key)
        for r in self.remaining:
            fp = r.info.fingerprint
            if r.kms is None:
                reasons.append(f"'{r.info.uri}': {r.error}")
                trouble = True
                continue
            pick = files.crdb_pick([r.kms.key_ids])
            if pick is None:
                reasons.append(f"'{r.info.uri}' ({fp}): not in any ENCRYPTION-INFO file")
                continue
            proof.cells[fp] = PRESENT
            wrapped = next(w for f, w in match_all(r.kms, files) if f.name == pick.name)
            if (pick.name, r.kms.master_key_id) in tried:  # the same key named twice: one call
                continue
            tried.add((pick.name, r.kms.master_key_id))
            proof.kms_calls += 1
            try:
                with self.kms_slots:
                    plain = r.kms.decrypt(wrapped)
                key = DataKey(plain)
            except RewrapError as e:
                proof.cells[fp] = DAMAGED
                trouble = True
                reasons.append(f"'{r.info.uri}' ({fp}): {pick.name}'s entry (the one CockroachDB "
                               f"uses) could not be unwrapped: {e}")
                continue
            try:
                with key:
                    proof.manifests_proven = _prove_manifests(key, layers)
            except KeyError_ as e:
                proof.cells[fp] = DAMAGED
                trouble = True
                reasons.append(
                    f"'{r.info.uri}' ({fp}): the data key unwrapped from {pick.name} (the entry "
                    f"CockroachDB uses, and it tries no other) does not decrypt the chain: {e}. "
                    f"CockroachDB would fail with this key: if {pick.name} wraps another backup's "
                    "key, move it out of the backup directory (rewrap never deletes); if a "
                    "manifest is damaged, restore it from a copy"
                )
                continue
            proof.cells[fp] = PROVEN
            proof.verdict = SAFE
            proof.opened_by = f"{r.info.uri} ({fp})"
            proof.detail = (
                f"{r.info.uri} unwrapped {pick.name}'s entry (CockroachDB's choice) to a data key "
                f"that decrypts {len(layers)} manifest{'s' if len(layers) != 1 else ''}"
                + (f" (full + {len(layers) - 1} incrementals)" if len(layers) > 1 else "")
            )
            return
        proof.verdict = UNREADABLE if trouble else NEEDS_ALTER
        only_old = "opens only with the old key" if old_present else "the old key is not in it either"
        proof.detail = f"{only_old}; " + "; ".join(reasons)
        if old_present and not trouble:
            proof.detail += f". Fix: {fix_statement(proof, self, self.remaining[0].info.uri)}"


def fix_statement(proof: BackupProof, checker: _Checker, new_uri: str) -> str:
    """The rewrap statement that adds a remaining key to this backup (secrets left redacted)."""
    return (
        f"ALTER BACKUP '{proof.backup}' IN '{proof.collection}' ADD NEW_KMS = '{new_uri}' "
        f"WITH OLD_KMS = '{checker.old_info.uri}'"
    )


def _call_out_after_rotation(proofs: list[BackupProof], checker: _Checker) -> None:
    """Per collection, the rotation point is the newest full backup already holding a remaining
    key (proofs are in chronological order); a backup newer than it that holds the old key but
    no remaining key was written after the rotation by something still using the old key."""
    newest: dict[str, str] = {}
    remaining = {r.info.fingerprint for r in checker.remaining}
    for p in proofs:
        if any(p.cells.get(fp) in (PROVEN, PRESENT, DAMAGED) for fp in remaining):
            newest[p.collection] = p.backup
    new_uri = checker.remaining[0].info.uri
    for p in proofs:
        point = newest.get(p.collection)
        if (p.verdict == NEEDS_ALTER and point is not None and p.backup.encode() > point.encode()
                and p.cells.get(checker.old_info.fingerprint) == PRESENT):
            p.after_rotation = True
            p.detail = (
                f"written after the rotation (newer than {point}, the newest backup holding a "
                f"remaining key) with the old key only: a backup schedule still uses "
                f"'{checker.old_info.uri}'. On the cluster run ALTER BACKUP SCHEDULE <id> SET WITH "
                f"kms = '{new_uri}' (the id from SHOW SCHEDULES), then fix the backups already "
                f"written: {fix_statement(p, checker, new_uri)}"
            )


def check_retirement(
    open_storage: Any,
    old_uri: str,
    collection_uris: list[str],
    remaining_uris: list[str],
    *,
    env: KMSEnv | None = None,
    concurrency: int = 8,
    statement: str = "",
    cancel: Any = None,
) -> RetirementReport:
    """Prove every full backup of every collection (see the module docstring)."""
    old, remaining_parsed = check_keys(old_uri, remaining_uris)
    colls = open_collections(open_storage, collection_uris)
    started = time.monotonic()
    started_at = datetime.now(UTC).isoformat()
    remaining: list[_Remaining] = []
    for uri, parsed in zip(remaining_uris, remaining_parsed):
        info = key_info(parsed, "remaining")
        try:
            remaining.append(_Remaining(info, open_kms(uri, env=env), None))
        except RewrapError as e:
            remaining.append(_Remaining(info, None, f"could not be opened: {e}"))
    checker = _Checker(old, remaining, cancel, kms_slots=concurrency)
    try:
        # full_backup() lists the directory: done in the workers, not up front
        jobs = [(shown, coll, sub) for shown, coll, subdirs in colls for sub in subdirs]
        if concurrency <= 1 or len(jobs) <= 1:
            proofs = [checker.prove(*j) for j in jobs]
        else:
            # A few more threads than KMS slots: while one thread reads files and decrypts
            # manifests, another waits at a slot with its KMS call ready, so `concurrency` calls
            # stay in flight (the KMS wait is the cost; storage reads run a few backups ahead).
            threads = min(concurrency + max(1, concurrency // 4), len(jobs))
            with ThreadPoolExecutor(max_workers=threads) as pool:
                proofs = list(pool.map(lambda j: checker.prove(*j), jobs))
        _call_out_after_rotation(proofs, checker)
    finally:
        for r in remaining:
            if r.kms is not None:
                r.kms.close()
    return RetirementReport(
        old=checker.old_info,
        remaining=[r.info for r in remaining],
        collections=[c[0] for c in colls],
        proofs=proofs,
        started_at=started_at,
        elapsed=time.monotonic() - started,
        concurrency=concurrency,
        statement=statement,
    )


def _md_cell(text: object) -> str:
    return str("" if text is None else text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: RetirementReport) -> str:
    """The retirement report for people: verdict, keys by fingerprint, then one section per
    backup (what was proven, when). URIs are redacted already; no data key is ever held here."""
    d = report.to_dict()
    verdict = ("**The old key can be retired**: every backup opens with a remaining key."
               if report.retirable else f"**The old key cannot be retired.** {report.error()}")
    lines = [
        "# KMS key retirement report",
        "",
        verdict,
        "",
        f"- rewrap {d['rewrap_version']}, checked {report.started_at} in {report.elapsed:.2f} s, "
        f"concurrency {report.concurrency}, {report.kms_calls} KMS decrypt calls",
        f"- statement: `{report.statement}`" if report.statement else "",
        f"- key to retire: `{report.old.uri}` (fingerprint {report.old.fingerprint})",
        *[f"- remaining key: `{k.uri}` (fingerprint {k.fingerprint})" for k in report.remaining],
        *[f"- collection: `{c}`" for c in report.collections],
        "",
        "Safe means: a remaining key unwrapped, through its KMS, the ENCRYPTION-INFO entry "
        "CockroachDB itself would use, and the data key decrypted the full backup's manifest and "
        "every incremental's manifest.",
        "",
        "| collection | backup | incrementals | verdict | opened by | KMS calls | "
        + " | ".join(f"{k.role} {k.fingerprint}" for k in [report.old, *report.remaining]) + " |",
        "|" + "---|" * (6 + 1 + len(report.remaining)),
    ]
    for p in report.proofs:
        cells = [p.cells.get(k.fingerprint, "") for k in [report.old, *report.remaining]]
        lines.append("| " + " | ".join(_md_cell(x) for x in (
            p.collection, p.backup, p.incrementals, p.verdict, p.opened_by, p.kms_calls, *cells)) + " |")
    lines += ["", "## Backups", ""]
    for p in report.proofs:
        lines += [f"### {p.collection}{p.backup}: {p.verdict}", "",
                  f"- checked {p.checked_at}; {p.kms_calls} KMS calls; {p.incrementals} incrementals",
                  f"- {p.detail}"]
        for name, fps in p.keys.items():
            lines.append(f"- {name}: keys {', '.join(fps) or '(none)'}")
        if p.manifests_proven:
            lines.append(f"- manifests decrypted: {', '.join(p.manifests_proven)}")
        lines.append("")
    return redact_text("\n".join(line for line in lines if line is not None)) + "\n"


def write_report(report: RetirementReport, base: str) -> tuple[str, str]:
    """Write `<base>.md` and `<base>.json` (a .md/.json suffix on `base` is dropped), each whole
    or not at all (written aside, then renamed). Returns the two paths."""
    import json
    import os

    for suffix in (".md", ".json"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    paths = (base + ".md", base + ".json")
    texts = (to_markdown(report), redact_text(json.dumps(report.to_dict(), indent=2)) + "\n")
    for path, text in zip(paths, texts):
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    return paths
