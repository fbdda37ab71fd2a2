"""ALTER ALL speed-ups that must not cost a guarantee: deadline threads reused but never shared by
a hung call, journal records written at once and durable when the batch (statement) ends."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from engine.deadline import DeadlineExceeded, call_with_deadline
from engine.rewrap.journal import AuditJournal


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
