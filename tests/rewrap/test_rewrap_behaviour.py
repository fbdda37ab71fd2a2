"""What ALTER BACKUP says and does in the cases around the happy path: CockroachDB's error texts
plus one line per OLD_KMS URI, targets it must refuse, damaged or oddly numbered ENCRYPTION-INFO
files, verification failures, cancellation, and SHOW BACKUP KEYS before and after."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import chain_reader as cr
import crdb_fixtures as fx
import rewrap_support as rs
from engine.errors import RewrapError
from engine.rewrap.events import BackupFinished, CancelToken, Event, Finished, Notice, Status
from engine.rewrap.journal import AuditJournal
from engine.rewrap.run import run_rewrap


def _records(journal: AuditJournal) -> list[dict[str, object]]:
    """The journal as written: one JSON object a line."""
    return [json.loads(line) for line in journal.path.read_text().splitlines() if line.strip()]


NO_MATCH = "no key in OLD_KMS matches a key that was previously used to encrypt the backup"


def failed_error(io_dir: Path, sql: str) -> str:
    result = rs.run_sql(io_dir, sql)
    ((_, status, file, error),) = result.rows
    assert (status, file, result.ok) == ("failed", None, False)
    return error


def info_with(key_id: str, data_key: bytes = b"\x07" * 32) -> bytes:
    return fx.encryption_info(kms={hashlib.sha256(key_id.encode()).digest(): fx.testkms_wrap(key_id, data_key)})


# -- OLD_KMS that does not unlock -----------------------------------------------------------------


def test_wrong_old_kms_names_every_uri_and_why(io_dir: Path, coll_dir: Path) -> None:
    before = cr.snapshot(coll_dir)
    old = "('invalid_old_kms', 'nosuch:///k', 'testkms:///other?AWS_SECRET_ACCESS_KEY=hunter2')"
    error = failed_error(io_dir, rs.alter_sql("'testkms:///new'", old=old))
    lines = error.splitlines()
    assert lines[0] == NO_MATCH
    assert len(lines) == 4
    assert lines[1].startswith("  'invalid_old_kms': ") and "invalid URI for request" in lines[1]
    assert lines[2].startswith("  'nosuch:///k': ") and "no factory method found for scheme nosuch" in lines[2]
    assert lines[3].startswith("  'testkms:///other?AWS_SECRET_ACCESS_KEY=redacted': ")
    assert "key id 'other' not found in ENCRYPTION-INFO" in lines[3]
    assert "hunter2" not in error
    assert cr.snapshot(coll_dir) == before


def test_old_kms_that_matches_but_is_refused(io_dir: Path) -> None:
    """An id that matches but whose decrypt fails is CockroachDB's `failed to decrypt data key`."""
    old = "('testkms:///other', 'refusekms:///demo-key')"
    lines = failed_error(io_dir, rs.alter_sql("'testkms:///new'", old=old)).splitlines()
    assert lines[0] == "failed to decrypt data key"
    assert "not found" in lines[1]
    assert lines[2].startswith("  'refusekms:///demo-key': KMS refused to decrypt the data key in ENCRYPTION-INFO: ")
    assert "AccessDeniedException" in lines[2]


def test_refused_first_candidate_falls_through_to_a_working_one(io_dir: Path, coll_dir: Path) -> None:
    old = f"('refusekms:///demo-key', '{rs.DEMO_KMS}')"
    result = rs.run_sql(io_dir, rs.alter_sql("'testkms:///new'", old=old))
    assert result.rows[0][1:3] == ("added", "ENCRYPTION-INFO-2")
    assert cr.open_chain(coll_dir, cr.full_backups(coll_dir)[-1], "new") == 4


def test_old_key_that_unwraps_a_different_key_fails_the_manifest_check(io_dir: Path, coll_dir: Path) -> None:
    latest = cr.full_backups(coll_dir)[-1]
    (coll_dir / latest.strip("/") / "ENCRYPTION-INFO-2").write_bytes(info_with("impostor"))
    before = cr.snapshot(coll_dir)
    error = failed_error(io_dir, rs.alter_sql("'testkms:///new'", old="'testkms:///impostor'"))
    assert "the data key unwrapped by 'testkms:///impostor' from ENCRYPTION-INFO-2 does not decrypt" in error
    assert "nothing was written" in error
    assert cr.snapshot(coll_dir) == before


# -- NEW_KMS that does not round-trip ---------------------------------------------------------


def test_new_key_that_does_not_round_trip_is_never_written(io_dir: Path, coll_dir: Path) -> None:
    before = cr.snapshot(coll_dir)
    error = failed_error(io_dir, rs.alter_sql("('testkms:///fine', 'lyingkms:///liar')"))
    assert error == "NEW_KMS 'lyingkms:///liar': the new wrapped key decrypts to a different key"
    assert cr.snapshot(coll_dir) == before  # the good key is not written either


def test_new_kms_encrypt_failure_keeps_cockroachdb_text(io_dir: Path, coll_dir: Path) -> None:
    before = cr.snapshot(coll_dir)
    error = failed_error(io_dir, rs.alter_sql("('testkms:///fine', 'brokenkms:///down')"))
    assert error.startswith(
        "failed to encrypt data key when adding new KMS: failed to encrypt data key for KMS scheme brokenkms: "
    )
    assert cr.snapshot(coll_dir) == before


def test_bad_new_kms_uri_fails_the_statement_before_any_work(io_dir: Path) -> None:
    with pytest.raises(RewrapError, match="^NEW_KMS: no factory method found for scheme nosuch"):
        rs.run_sql(io_dir, rs.alter_sql("'nosuch:///k'"))


# -- targets ALTER refuses ----------------------------------------------------------------------------


@pytest.fixture
def odd_collection(io_dir: Path) -> Path:
    """`odd`: an unencrypted and a passphrase-encrypted full backup (independent writer)."""
    root = io_dir / "odd"
    db, tables = (104, "bank"), [fx.FixtureTable(106, "accounts", 10, 640)]
    plain = fx.Writer(root)
    plain.backup_dir("2024/01/01-000000.00", fx.manifest(start=None, end=fx.utc(2024, 1, 1), db=db, tables=tables))
    salt = b"s" * 16
    pw = fx.Writer(root, data_key=fx.pbkdf2("pw", salt))
    pw.put("2024/01/02-000000.00/ENCRYPTION-INFO", fx.encryption_info(salt=salt))
    pw.backup_dir("2024/01/02-000000.00", fx.manifest(start=None, end=fx.utc(2024, 1, 2), db=db, tables=tables))
    return root


@pytest.mark.parametrize(
    ("target", "text"),
    [
        ("/2024/01/01-000000.00", "not encrypted (no ENCRYPTION-INFO file)"),
        ("/2024/01/02-000000.00", "encrypted with a passphrase, not KMS"),
    ],
)
def test_unencrypted_and_passphrase_targets(io_dir: Path, odd_collection: Path, target: str, text: str) -> None:
    before = cr.snapshot(odd_collection)
    error = failed_error(io_dir, rs.alter_sql("'testkms:///new'", target=f"'{target}'", coll="nodelocal://self/odd"))
    assert text in error and f"nodelocal://self/odd{target}" in error
    assert cr.snapshot(odd_collection) == before


def test_missing_target(io_dir: Path) -> None:
    with pytest.raises(RewrapError, match=r"no backup found at /2020/01/01-000000\.00"):
        rs.run_sql(io_dir, rs.alter_sql("'testkms:///new'", target="'/2020/01/01-000000.00'"))


def test_incremental_target_names_the_full_backup(io_dir: Path, coll_dir: Path) -> None:
    full = cr.full_backups(coll_dir)[0]
    inc = cr.chain_manifests(coll_dir, full)[1].parent.relative_to(coll_dir).as_posix()
    assert inc.startswith("incrementals/")
    for target in (inc, "/" + inc.removeprefix("incrementals/")):  # new and old layout paths
        with pytest.raises(RewrapError) as e:
            rs.run_sql(io_dir, rs.alter_sql("'testkms:///new'", target=f"'{target}'"))
        assert "is an incremental backup" in str(e.value) and f"use {full} " in str(e.value)


def test_several_add_clauses_are_refused(io_dir: Path, coll_dir: Path) -> None:
    before = cr.snapshot(coll_dir)
    sql = rs.alter_sql("'testkms:///a'") + f" ADD NEW_KMS = 'testkms:///b' WITH OLD_KMS = '{rs.DEMO_KMS}'"
    with pytest.raises(RewrapError, match="takes one ADD NEW_KMS = ... WITH OLD_KMS = ... clause; this one has 2"):
        rs.run_sql(io_dir, sql)
    assert cr.snapshot(coll_dir) == before


# -- ENCRYPTION-INFO files: damaged, numbered past 9, with gaps -------------------------------


def test_unreadable_extra_file_is_skipped_with_a_warning(io_dir: Path, coll_dir: Path) -> None:
    latest = cr.full_backups(coll_dir)[-1]
    (coll_dir / latest.strip("/") / "ENCRYPTION-INFO-2").write_bytes(b"\xff\xff\xff\xff garbage")
    events: list[Event] = []
    result = rs.run_sql(io_dir, rs.alter_sql("'testkms:///new'"), progress=events.append)
    assert result.rows[0][1:3] == ("added", "ENCRYPTION-INFO-3")
    (warning,) = [e for e in events if isinstance(e, Notice)]
    assert warning.backup == latest and "skipped unreadable ENCRYPTION-INFO-2" in warning.message
    assert cr.open_chain(coll_dir, latest, "new", skip=("ENCRYPTION-INFO-2",)) == 4


@pytest.mark.parametrize(
    ("existing", "expected"),
    [((9, 10), "ENCRYPTION-INFO-2"), ((2, 4), "ENCRYPTION-INFO-3"), ((3,), "ENCRYPTION-INFO-2")],
    ids=["9-and-10", "gap-at-3", "gap-at-2"],
)
def test_numbering_fills_the_lowest_gap_and_never_overwrites(
    io_dir: Path, coll_dir: Path, existing: tuple[int, ...], expected: str
) -> None:
    latest = cr.full_backups(coll_dir)[-1]
    backup_dir = coll_dir / latest.strip("/")
    data_key = cr.data_key(coll_dir, latest, "demo-key")
    for n in existing:
        (backup_dir / f"ENCRYPTION-INFO-{n}").write_bytes(info_with(f"old{n}", data_key))
    before = cr.snapshot(coll_dir)
    # unlock with the key in the highest-numbered file: numeric order finds it too
    result = rs.run_sql(io_dir, rs.alter_sql("'testkms:///new'", old=f"'testkms:///old{existing[-1]}'"))
    assert result.rows[0][1:3] == ("added", expected)
    after = cr.snapshot(coll_dir)
    assert set(after) - set(before) == {f"{latest.strip('/')}/{expected}"}
    assert all(after[k] == v for k, v in before.items())
    assert cr.open_chain(coll_dir, latest, "new") == 4


# -- cancellation ----------------------------------------------------------------------------


def test_cancel_after_the_first_backup(io_dir: Path, coll_dir: Path, tmp_path: Path) -> None:
    token = CancelToken()
    events: list[Event] = []
    journal = AuditJournal(tmp_path / "audit.jsonl")

    def sink(event: Event) -> None:
        events.append(event)
        if isinstance(event, BackupFinished):
            token.cancel()

    outcomes = run_rewrap(
        rs.backups(rs.local_storage(io_dir)), new_kms=["testkms:///new"], old_kms=[rs.DEMO_KMS],
        concurrency=1, cancel=token, progress=sink, journal=journal,
    )
    assert [o.status for o in outcomes] == [Status.ADDED, Status.CANCELLED, Status.CANCELLED]
    assert isinstance(events[-1], Finished) and events[-1].cancelled
    assert events[-1].counts == {"added": 1, "cancelled": 2}
    subdirs = cr.full_backups(coll_dir)
    for s in subdirs:
        assert cr.open_chain(coll_dir, s, "demo-key") == 4
    assert cr.open_chain(coll_dir, subdirs[0], "new") == 4
    assert [cr.key_count(coll_dir / s.strip("/"), "new") for s in subdirs] == [1, 0, 0]
    assert [r["status"] for r in _records(journal)] == ["added"]  # cancelled = nothing happened


# -- SHOW BACKUP KEYS ---------------------------------------------------------------------------


def test_show_backup_keys_before_and_after(io_dir: Path) -> None:
    show = f"SHOW BACKUP KEYS FROM LATEST IN '{rs.COLL_URI}' WITH KMS = ('testkms:///new', '{rs.DEMO_KMS}')"
    fp = {k: hashlib.sha256(k.encode()).hexdigest()[:8] for k in ("demo-key", "new")}
    before = rs.run_sql(io_dir, show)
    assert before.columns == ["file", "key_fingerprint", "unlocked_by", "note"]
    assert before.rows == [("ENCRYPTION-INFO", fp["demo-key"], rs.DEMO_KMS, None)]
    rs.run_sql(io_dir, rs.alter_sql("'testkms:///new'"))
    after = rs.run_sql(io_dir, show)
    assert after.rows == [
        ("ENCRYPTION-INFO", fp["demo-key"], rs.DEMO_KMS, None),
        ("ENCRYPTION-INFO-2", fp["new"], "testkms:///new", None),
    ]
    unmatched = rs.run_sql(io_dir, f"SHOW BACKUP KEYS FROM LATEST IN '{rs.COLL_URI}'")
    assert [r[2] for r in unmatched.rows] == [None, None]
