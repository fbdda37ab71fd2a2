"""Storage faults around the one write ALTER makes: the chain stays readable with the old key,
no partial ENCRYPTION-INFO* is ever visible, the outcome says what failed, and a re-run (with
healthy storage) completes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import chain_reader as cr
import rewrap_support as rs
from engine.rewrap.events import Event, Notice, Status
from engine.rewrap.run import run_rewrap
from engine.storage.local import LocalStorage

NEW = "testkms:///k-new"

# kind -> (text the failure must contain, status of the healthy re-run, file it reports)
CASES = {
    "fail_before_write": ("ENCRYPTION-INFO-2: injected failure before the write", Status.ADDED, "ENCRYPTION-INFO-2"),
    "fail_after_write": ("ENCRYPTION-INFO-2: injected failure after the write", Status.ALREADY_PRESENT, None),
    "partial_temp": ("ENCRYPTION-INFO-2: injected crash during the write", Status.ADDED, "ENCRYPTION-INFO-2"),
    "fail_read_back": ("wrote ENCRYPTION-INFO-2, but could not read it back", Status.ALREADY_PRESENT, None),
}


def test_damaged_read_back_writes_the_keys_again(io_dir: Path, coll_dir: Path) -> None:
    """A read-back that differs from what was written: the keys are written again under the next
    number and verified there; a notice names the damaged file; a re-run finds them present."""
    latest = cr.full_backups(coll_dir)[-1]
    events: list[Event] = []
    out = _alter(rs.FaultyStorage(rs.local_storage(io_dir), rs.Faults("corrupt_read_back")), events)
    assert (out.status, out.file) == (Status.ADDED, "ENCRYPTION-INFO-3"), out
    assert any(isinstance(e, Notice) and "ENCRYPTION-INFO-2 read back damaged" in e.message for e in events)
    assert cr.open_chain(coll_dir, latest, "k-new") == 4
    assert cr.open_chain(coll_dir, latest, "demo-key") == 4
    again = _alter(rs.local_storage(io_dir))
    assert again.status is Status.ALREADY_PRESENT


def test_storage_that_damages_every_write_fails_clearly(io_dir: Path, coll_dir: Path) -> None:
    latest = cr.full_backups(coll_dir)[-1]
    out = _alter(rs.FaultyStorage(rs.local_storage(io_dir), rs.Faults("corrupt_read_back", times=5)))
    assert out.status is Status.FAILED
    assert "wrote ENCRYPTION-INFO-2 and ENCRYPTION-INFO-3, but each read back with different bytes" in (out.error or "")
    assert cr.open_chain(coll_dir, latest, "demo-key") == 4


def _alter(storage, events: list[Event] | None = None):  # type: ignore[no-untyped-def]
    sink = events.append if events is not None else (lambda e: None)
    (out,) = run_rewrap(rs.backups(storage, "LATEST"), new_kms=[NEW], old_kms=[rs.DEMO_KMS], progress=sink)
    return out


@pytest.mark.parametrize("kind", sorted(CASES))
def test_fault_then_rerun(kind: str, io_dir: Path, coll_dir: Path) -> None:
    latest = cr.full_backups(coll_dir)[-1]
    backup_dir = coll_dir / latest.strip("/")
    faults = rs.Faults(kind)
    out = _alter(rs.FaultyStorage(rs.local_storage(io_dir), faults))
    text, rerun_status, rerun_file = CASES[kind]
    assert faults.fired == 1
    assert out.status is Status.FAILED and text in (out.error or ""), out
    assert "Traceback" not in out.error
    # the chain still opens with the old key; every visible ENCRYPTION-INFO* parses whole
    assert cr.open_chain(coll_dir, latest, "demo-key") == 4
    cr.all_entries(backup_dir)
    if kind == "partial_temp":
        temps = [p.name for p in backup_dir.iterdir() if ".tmp-" in p.name]
        assert len(temps) == 1 and temps[0].startswith(".ENCRYPTION-INFO-2.tmp-")
        assert sorted(cr.encryption_files(backup_dir)) == ["ENCRYPTION-INFO"]
    again = _alter(rs.local_storage(io_dir))
    assert (again.status, again.file) == (rerun_status, rerun_file), again
    assert cr.open_chain(coll_dir, latest, "k-new") == 4
    assert cr.key_count(backup_dir, "k-new") == 1


def test_local_storage_crash_leaves_no_name_before_link(tmp_path: Path) -> None:
    """LocalStorage's guarantee the faults above rely on: until linkat(2) the new file has no
    name on disk at all (O_TMPFILE), so nothing any ENCRYPTION-INFO* prefix match (ours or
    CockroachDB's) selects. A failing link stands in for the crash; the SIGKILL tests kill the
    process at that point."""
    storage = LocalStorage(tmp_path, f"file://{tmp_path}")
    seen: list[list[str]] = []
    real_link = os.link

    def failing_link(src, dst, *a, **k):  # type: ignore[no-untyped-def]
        seen.append(sorted(os.listdir(tmp_path)))
        raise OSError(5, "Input/output error")

    os.link = failing_link
    try:
        with pytest.raises(rs.StorageError, match="ENCRYPTION-INFO-2: cannot write"):
            storage.write_new("ENCRYPTION-INFO-2", b"x" * 100)
    finally:
        os.link = real_link
    (before_link,) = seen
    assert before_link == []
    assert os.listdir(tmp_path) == []  # the temp file is cleaned up on an ordinary failure
    assert list(storage.list("", "/")) == []


def test_truncating_storage_is_detected_and_the_rerun_skips_the_damaged_file(io_dir: Path, coll_dir: Path) -> None:
    """Storage that persists wrong bytes (beyond the contract): read-back catches it and the keys
    are written again under the next number; the damaged file does not parse, so later runs name
    and skip it."""
    latest = cr.full_backups(coll_dir)[-1]
    first: list[Event] = []
    out = _alter(rs.FaultyStorage(rs.local_storage(io_dir), rs.Faults("truncate_write")), first)
    assert (out.status, out.file) == (Status.ADDED, "ENCRYPTION-INFO-3"), out
    assert any(isinstance(e, Notice) and "ENCRYPTION-INFO-2 read back damaged" in e.message for e in first)
    events: list[Event] = []
    again = _alter(rs.local_storage(io_dir), events)
    assert again.status is Status.ALREADY_PRESENT
    warnings = [e.message for e in events if isinstance(e, Notice)]
    assert len(warnings) == 1 and "ENCRYPTION-INFO-2" in warnings[0]
    damaged = ("ENCRYPTION-INFO-2",)
    assert cr.open_chain(coll_dir, latest, "k-new", skip=damaged) == 4
    assert cr.open_chain(coll_dir, latest, "demo-key", skip=damaged) == 4


def test_corrupted_entry_that_still_parses_is_rewritten_and_skipped_by_readers(
    io_dir: Path, coll_dir: Path
) -> None:
    """Wrong bytes that still parse: the read-back catches them and the engine writes the keys
    again under the next number; readers try every file holding the id, newest first."""
    latest = cr.full_backups(coll_dir)[-1]
    out = _alter(rs.FaultyStorage(rs.local_storage(io_dir), rs.Faults("corrupt_write")))
    assert out.status is Status.ADDED and out.file == "ENCRYPTION-INFO-3", out.error
    again = _alter(rs.local_storage(io_dir))
    assert again.status is Status.ALREADY_PRESENT
    # CockroachDB reads newest first and takes the first file holding the id: ENCRYPTION-INFO-3
    assert cr.open_chain(coll_dir, latest, "k-new", skip=("ENCRYPTION-INFO-2",)) == 4
    # SHOW BACKUP with the new key works although ENCRYPTION-INFO-2 holds a damaged entry for it
    from engine.execute import Executor
    from engine.storage import StorageSettings
    from syntax import parse

    ex = Executor(StorageSettings(external_io_dir=io_dir))
    stmt = parse(f"SHOW BACKUP LATEST IN 'nodelocal://self/{coll_dir.name}' WITH KMS = 'testkms:///k-new'")[0]
    assert ex.run(stmt).rows
