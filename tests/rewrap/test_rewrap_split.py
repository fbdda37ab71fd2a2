"""ALTER ALL spread over this process and a helper process (engine/rewrap/split.py): the same
outcomes, files, journal and events as one process; cancel relayed; a helper that dies loses
no backup; runs the helper could not reproduce stay in one process."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import chain_reader as cr
import rewrap_support as rs
from engine.collection import FullBackup
from engine.formats.latest_name import backup_subdir_for
from engine.rewrap.backup import RewrapRequest, rewrap_backup
from engine.rewrap.events import BackupFinished, CancelToken, Event, Notice, Status
from engine.rewrap.journal import AuditJournal
from engine.rewrap.run import open_new_kms, run_rewrap
from engine.rewrap import split
from engine.encryption import close_candidates, open_candidates
from engine.storage import DelegatingStorage

NEW = "testkms:///k-split"


def many(coll_dir: Path, n: int) -> list[str]:
    """n more full backups: the collection's latest one hard-linked under new dated names
    (rewrap only ever adds files, so the links are safe)."""
    source = coll_dir / cr.full_backups(coll_dir)[-1].strip("/")
    start = datetime(2020, 1, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        sub = backup_subdir_for(start + timedelta(minutes=i))
        shutil.copytree(source, coll_dir / sub.strip("/"), copy_function=os.link)
        out.append(sub)
    return out


def files_with_new_key(coll_dir: Path, subdir: str) -> int:
    return cr.key_count(coll_dir / subdir.strip("/"), "k-split")


class Run:
    """A split run driven by hand, so a test can see (and kill) the helper."""

    def __init__(self, io_dir: Path, *, concurrency: int = 4, journal: AuditJournal | None = None) -> None:
        self.backups = rs.backups(rs.local_storage(io_dir))
        self.events: list[Event] = []
        self.lock = threading.Lock()
        self.cancel = CancelToken()
        self.concurrency = concurrency
        self.journal = journal
        job = split.split_job(
            self.backups, new_kms=[NEW], old_kms=[rs.DEMO_KMS], statement="", dry_run=False,
            concurrency=concurrency, env=None, journal=journal, processes=2,
        )
        assert job is not None
        self.helper = split.Helper(job, len(self.backups), self.emit, self.cancel)
        self.on_event = lambda e: None
        self.helper_first = lambda b: self.one(b)  # what this process does per backup

    def emit(self, event: Event) -> None:
        with self.lock:
            self.events.append(event)
            self.on_event(event)

    def run(self) -> list[BackupFinished]:
        new = open_new_kms([NEW])
        old = open_candidates([rs.DEMO_KMS])
        request = RewrapRequest(new, old)
        self.one = lambda b: rewrap_backup(b, request, emit=self.emit, cancel=self.cancel, journal=self.journal)
        self.helper.start()
        try:
            return split.run_split(self.backups, self.helper, lambda b: self.helper_first(b), self.concurrency)
        finally:
            for k in new:
                k.close()
            close_candidates(old)


def test_a_split_run_adds_every_key_once_and_the_helper_does_part_of_it(io_dir: Path, coll_dir: Path) -> None:
    subdirs = [*cr.full_backups(coll_dir), *many(coll_dir, 40)]
    journal = AuditJournal(io_dir.parent / "audit.jsonl")
    journal.begin_batch()
    run = Run(io_dir, journal=journal)
    outcomes = run.run()
    assert journal.end_batch() is None
    assert [o.backup for o in outcomes] == [b.subdir for b in run.backups]  # the order given
    assert all(o.status is Status.ADDED for o in outcomes), [o for o in outcomes if o.status is not Status.ADDED][:2]
    assert run.helper.reported > 0  # the helper ran some of them
    assert run.helper.reported < len(outcomes)  # and this process the others
    assert run.helper.proc is not None and run.helper.proc.returncode == 0
    for s in subdirs:
        assert files_with_new_key(coll_dir, s) == 1
    # one event stream: every backup's finish arrived here, whichever process ran it
    finished = Counter(e.backup for e in run.events if isinstance(e, BackupFinished))
    assert finished == Counter(b.subdir for b in run.backups)
    # the helper's journal records are there too (written by both processes, one line each)
    records = [json.loads(line) for line in journal.path.read_text().splitlines()]
    assert sorted(r["backup"] for r in records) == sorted(b.display_uri for b in run.backups)
    assert {r["status"] for r in records} == {"added"}
    assert not [e for e in run.events if isinstance(e, Notice)]


def test_run_rewrap_splits_when_asked_and_the_result_is_the_same(io_dir: Path, coll_dir: Path) -> None:
    subdirs = [*cr.full_backups(coll_dir), *many(coll_dir, 20)]
    backups = rs.backups(rs.local_storage(io_dir))
    spawned: list[split.Helper] = []
    start = split.Helper.start

    def spy(self: split.Helper) -> None:
        spawned.append(self)
        start(self)

    split.Helper.start = spy  # type: ignore[method-assign]
    try:
        outcomes = run_rewrap(backups, new_kms=[NEW], old_kms=[rs.DEMO_KMS], concurrency=4, processes=2)
    finally:
        split.Helper.start = start  # type: ignore[method-assign]
    assert len(spawned) == 1 and spawned[0].reported > 0
    assert [o.status for o in outcomes] == [Status.ADDED] * len(subdirs)
    again = run_rewrap(rs.backups(rs.local_storage(io_dir)), new_kms=[NEW], old_kms=[rs.DEMO_KMS],
                       concurrency=4, processes=2)
    assert [o.status for o in again] == [Status.ALREADY_PRESENT] * len(subdirs)
    for s in subdirs:
        assert files_with_new_key(coll_dir, s) == 1


def test_a_cancel_reaches_the_helper(io_dir: Path, coll_dir: Path) -> None:
    many(coll_dir, 150)
    run = Run(io_dir, concurrency=2)
    seen = [0]

    def on_event(e: Event) -> None:
        if isinstance(e, BackupFinished):
            seen[0] += 1
            if seen[0] == 6:
                run.cancel.cancel()

    run.on_event = on_event
    outcomes = run.run()
    from engine.deadline import clear_interrupt

    clear_interrupt()
    statuses = Counter(o.status for o in outcomes)
    assert set(statuses) <= {Status.ADDED, Status.CANCELLED}
    assert statuses[Status.CANCELLED] > len(outcomes) // 2
    assert run.helper.proc is not None and run.helper.proc.returncode == 0
    for o, b in zip(outcomes, run.backups):  # a cancelled backup has nothing written
        assert files_with_new_key(coll_dir, b.subdir) == (1 if o.status is Status.ADDED else 0)


def test_a_helper_killed_mid_run_loses_no_backup(io_dir: Path, coll_dir: Path) -> None:
    many(coll_dir, 60)
    run = Run(io_dir)
    killed = threading.Event()
    kill_lock = threading.Lock()
    inner = run.helper_first

    def first(b: FullBackup) -> BackupFinished:
        # this process waits for the helper to have done a few, then kills it mid-run
        with kill_lock:
            if not killed.is_set():
                deadline = time.monotonic() + 60
                while run.helper.reported < 3 and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert run.helper.reported >= 3
                assert run.helper.proc is not None
                os.kill(run.helper.proc.pid, signal.SIGKILL)
                killed.set()
        return inner(b)

    run.helper_first = first
    outcomes = run.run()
    assert killed.is_set()
    assert run.helper.proc is not None and run.helper.proc.returncode == -signal.SIGKILL
    # whatever the helper had not reported was run here: written once, or found already there
    assert {o.status for o in outcomes} <= {Status.ADDED, Status.ALREADY_PRESENT}
    for b in run.backups:
        assert files_with_new_key(coll_dir, b.subdir) == 1
    (notice,) = [e for e in run.events if isinstance(e, Notice)]
    assert "helper process exited" in notice.message and "run in the main process" in notice.message


class Wrapped(DelegatingStorage):
    def child(self, path: str) -> Wrapped:
        return Wrapped(self.inner.child(path))


def test_runs_a_helper_could_not_reproduce_stay_in_one_process(io_dir: Path) -> None:
    backups = rs.backups(rs.local_storage(io_dir))
    kw = dict(new_kms=[NEW], old_kms=[rs.DEMO_KMS], statement="", dry_run=False, env=None, journal=None)
    assert split.split_job(backups, concurrency=4, processes=2, **kw) is not None  # type: ignore[arg-type]
    assert split.split_job(backups, concurrency=4, processes=1, **kw) is None  # type: ignore[arg-type]
    # auto: too few backups for the helper's start-up to pay
    assert split.split_job(backups, concurrency=32, processes=None, **kw) is None  # type: ignore[arg-type]
    # a KMS scheme registered at run time (the tests' counting KMS) does not exist in a new process
    counted = dict(kw, new_kms=["countkms:///k"])
    assert split.split_job(backups, concurrency=4, processes=2, **counted) is None  # type: ignore[arg-type]
    # a storage wrapper (fault injection, counting) lives only here
    wrapped = rs.backups(Wrapped(rs.local_storage(io_dir)))
    assert split.split_job(wrapped, concurrency=4, processes=2, **kw) is None  # type: ignore[arg-type]


def test_auto_split_thresholds(io_dir: Path, coll_dir: Path) -> None:
    many(coll_dir, split.SPLIT_MIN_BACKUPS)
    backups = rs.backups(rs.local_storage(io_dir))
    kw = dict(new_kms=[NEW], old_kms=[rs.DEMO_KMS], statement="", dry_run=False, env=None, journal=None)
    assert split.split_job(backups, concurrency=split.SPLIT_MIN_CONCURRENCY, processes=None, **kw) is not None  # type: ignore[arg-type]
    assert split.split_job(backups, concurrency=split.SPLIT_MIN_CONCURRENCY - 1, processes=None, **kw) is None  # type: ignore[arg-type]
