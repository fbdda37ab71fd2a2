"""ALTER ALL speed-ups that must not cost a guarantee: deadline threads reused but never shared by
a hung call, journal records written at once and durable when the batch (statement) ends."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType

import pytest

import rewrap_support as rs
from engine.collection import Collection, FullBackup
from engine.deadline import DeadlineExceeded, call_with_deadline
from engine.lazy import cached_property
from engine.rewrap.journal import AuditJournal
from engine.storage import DelegatingStorage, ExternalStorage, open_storage
from engine.storage import fdpath
from engine.storage.fdpath import STALE_AFTER_SECONDS


def _records(journal: AuditJournal) -> list[dict[str, object]]:
    """The journal as written: one JSON object a line."""
    return [json.loads(line) for line in journal.path.read_text().splitlines() if line.strip()]


def _call_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "rewrap call")


def test_sequential_calls_reuse_one_thread() -> None:
    for i in range(50):
        assert call_with_deadline(lambda i=i: i * 2, 5.0) == i * 2
    # One idle worker serves every call (plus any left idle by earlier tests in this process).
    before = _call_threads()
    for _ in range(50):
        call_with_deadline(lambda: None, 5.0)
    assert _call_threads() == before


def test_a_hung_call_does_not_hold_up_the_next_one() -> None:
    release = threading.Event()
    with pytest.raises(DeadlineExceeded):
        call_with_deadline(lambda: release.wait(30), 0.2)
    try:
        # Queued behind the abandoned call (still waiting on `release` for 30 s), this would end
        # in DeadlineExceeded after 5 s instead of answering.
        assert call_with_deadline(lambda: "next", 5.0) == "next"
        assert not release.is_set()
    finally:
        release.set()


def test_errors_of_the_call_are_raised_to_the_caller() -> None:
    def boom() -> None:
        raise ValueError("from the SDK")

    with pytest.raises(ValueError, match="from the SDK"):
        call_with_deadline(boom, 5.0)
    assert call_with_deadline(lambda: 7, 5.0) == 7  # the worker survived the error


def test_batched_records_are_written_at_once_and_synced_at_the_end(tmp_path: Path) -> None:
    journal = AuditJournal(tmp_path / "state" / "audit.jsonl")
    journal.begin_batch()
    threads = [threading.Thread(target=journal.append, args=({"n": i},)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # in the file before the batch ends (a reader, or a crash after the fsync, sees whole lines)
    assert sorted(r["n"] for r in _records(journal)) == list(range(20))
    assert journal.end_batch() is None
    journal.append({"n": 20})  # outside a batch: fsynced per append, as before
    assert sorted(r["n"] for r in _records(journal)) == list(range(21))
    assert journal._batch_fd is None  # the batch's descriptor is closed


def test_nested_batches_keep_the_file_open_until_the_last_ends(tmp_path: Path) -> None:
    journal = AuditJournal(tmp_path / "audit.jsonl")
    journal.begin_batch()
    journal.begin_batch()
    journal.append({"a": 1})
    assert journal.end_batch() is None
    journal.append({"a": 2})
    assert journal.end_batch() is None
    assert [r["a"] for r in _records(journal)] == [1, 2]
    assert journal._batch_fd is None


# -- hand-offs without Conditions, listings without a class-wide lock ---------------------------


def _conditions_made(fn: Callable[[], object], times: int) -> int:
    """How many threading.Condition objects `times` calls of fn create, in any thread."""
    made = [0]

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code is threading.Condition.__init__.__code__:
            made[0] += 1

    threading.setprofile(profile)
    sys.setprofile(profile)
    try:
        for _ in range(times):
            fn()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    return made[0]


def test_a_call_hands_over_with_bare_locks() -> None:
    """threading.Event and Semaphore are Conditions (a lock allocated per wait plus one around
    it): at 32 workers and 3 KMS calls a backup that was ~0.5 ms of CPU per backup. A call
    through an idle worker thread now makes none (the worker threads already exist here)."""
    call_with_deadline(lambda: None, 5.0)  # an idle worker, with its profile hook unset
    assert _conditions_made(lambda: call_with_deadline(lambda: 1, 5.0), 20) == 0


class _MeetingStorage(DelegatingStorage):
    """Delegates to a LocalStorage; its listing of a backup directory returns only once `meet`
    (a barrier) has been reached by as many listings as the barrier's size."""

    def __init__(self, inner: ExternalStorage, meet: threading.Barrier, backup: bool = False) -> None:
        super().__init__(inner)
        self.meet = meet
        self.backup = backup  # a backup directory (a child), not the collection

    def list(self, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        keys = list(self.inner.list(prefix, delimiter))
        if self.backup:
            self.meet.wait()  # BrokenBarrierError after its timeout if the listings queue
        return iter(keys)

    def child(self, path: str) -> _MeetingStorage:
        return _MeetingStorage(self.inner.child(path), self.meet, backup=True)


def test_backups_are_listed_at_the_same_time(io_dir: Path) -> None:
    """functools.cached_property (Python 3.11) computes under one lock for every instance of the
    class: ALTER workers listing different backups (FullBackup.top_level_files) queued behind
    each other. Three listings must be able to be in progress at once."""
    meet = threading.Barrier(3, timeout=10)
    coll = Collection(_MeetingStorage(rs.local_storage(io_dir), meet))
    backups = [FullBackup(coll, p) for p in coll.full_backups()]
    assert len(backups) == 3
    with ThreadPoolExecutor(3) as pool:
        names = list(pool.map(lambda b: b.manifest_name, backups))
    assert names == ["BACKUP_MANIFEST"] * 3
    assert not meet.broken
    # cached: a second look lists nothing (a listing now would wait on the barrier alone)
    assert [b.top_level_files for b in backups] == [b.__dict__["top_level_files"] for b in backups]


def test_cached_property_keeps_the_first_value_of_a_race() -> None:
    class Thing:
        computed = 0

        @cached_property
        def value(self) -> int:
            Thing.computed += 1
            return Thing.computed

    t = Thing()
    assert t.value == 1 and t.value == 1 and Thing.computed == 1
    assert isinstance(Thing.__dict__["value"], cached_property)


# -- the write after a listing skips a stale-temporary scan that cannot find any ----------------


def _age(path: Path) -> None:
    old = time.time() - STALE_AFTER_SECONDS - 60
    os.utime(path, (old, old))


def _scans(fn: Callable[[], object]) -> int:
    """How many times fn (in this thread) runs fdpath.remove_stale_temps."""
    code, seen = fdpath.remove_stale_temps.__code__, [0]

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code is code:
            seen[0] += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return seen[0]


def test_a_write_after_a_clean_listing_does_not_scan_for_stale_temporaries(tmp_path: Path) -> None:
    """A temporary that the backup's listing did not see was made after it, so it cannot be
    stale yet: the write right after such a listing (ALTER's, per backup) makes no scan. Shown
    by a temporary aged artificially after the listing: it stays."""
    (tmp_path / "b").mkdir()
    backup = open_storage(f"file://{tmp_path}").child("b")
    assert list(backup.list("", "/")) == []
    late = tmp_path / "b" / ".rewrap-tmp-4242-0123456789ab-ENCRYPTION-INFO-3"
    late.write_bytes(b"x")
    _age(late)
    assert _scans(lambda: backup.write_new("ENCRYPTION-INFO-2", b"new")) == 0
    assert late.exists() and backup.take_warnings() == []
    # a write into a subdirectory, or by a storage that never listed its root, still scans
    assert _scans(lambda: backup.write_new("sub/x", b"1")) == 1
    fresh = open_storage(f"file://{tmp_path}").child("b")
    assert _scans(lambda: fresh.write_new("ENCRYPTION-INFO-4", b"new")) == 1
    assert not late.exists()
    assert any("removed 1 stale temporary file(s)" in w for w in fresh.take_warnings())


def test_a_stale_temporary_the_listing_saw_is_still_removed_by_the_write(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    stale = tmp_path / "b" / ".ENCRYPTION-INFO-2.tmp-4242-0badc0de"
    stale.write_bytes(b"x")
    _age(stale)
    backup = open_storage(f"file://{tmp_path}").child("b")
    assert list(backup.list("", "/")) == []  # hidden from the listing, but seen
    assert _scans(lambda: backup.write_new("ENCRYPTION-INFO-2", b"new")) == 1
    assert not stale.exists()
    assert any("removed 1 stale temporary file(s)" in w for w in backup.take_warnings())
