"""KMS calls are the expensive, audited part: per backup one decrypt with the old key, per new
key one encrypt and one decrypt (the round trip), per key already stored one decrypt (the proof
that it is the same key, not just the same id), nothing else. Counted with `countkms`, a
registered scheme with testkms' bytes."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import chain_reader as cr
import rewrap_support as rs

ALL = (
    f"ALTER BACKUP ALL IN '{rs.COLL_URI}' ADD NEW_KMS = {{new}} "
    "WITH OLD_KMS = ('countkms:///not-this-one', 'countkms:///demo-key')"
)


def per_backup(n: int, *new: str, present: tuple[str, ...] = ()) -> Counter:
    expected = Counter({("decrypt", "demo-key"): n})
    for k in new:
        expected[("encrypt", k)] = n
        expected[("decrypt", k)] = n
    for k in present:
        expected[("decrypt", k)] += n
    return expected


def seen(calls: list[tuple[str, str, str]]) -> Counter:
    assert {scheme for _, scheme, _ in calls} <= {"countkms"}
    return Counter((op, key) for op, _, key in calls)


def test_calls_per_backup_and_per_new_key(io_dir: Path, kms_calls: list) -> None:
    new = "('countkms:///n1', 'countkms:///n2')"
    result = rs.run_sql(io_dir, ALL.format(new=new), concurrency=3)
    assert [r[1] for r in result.rows] == ["added"] * 3
    # the non-matching OLD_KMS listed first is never called: matching compares id hashes only
    assert seen(kms_calls) == per_backup(3, "n1", "n2")

    kms_calls.clear()
    again = rs.run_sql(io_dir, ALL.format(new=new), concurrency=3)
    assert [r[1] for r in again.rows] == ["already present"] * 3
    # presence is proven: the old key unwraps the data key, each stored key decrypts its entry
    assert seen(kms_calls) == per_backup(3, present=("n1", "n2"))


def test_only_missing_keys_are_wrapped(io_dir: Path, kms_calls: list) -> None:
    rs.run_sql(io_dir, ALL.format(new="'countkms:///n1'"))
    kms_calls.clear()
    result = rs.run_sql(io_dir, ALL.format(new="('countkms:///n1', 'countkms:///n3')"))
    assert [r[1:3] for r in result.rows] == [("added", "ENCRYPTION-INFO-3")] * 3
    # n1 is proven (1 decrypt) and copied into the new file beside n3 (encrypt + decrypt)
    assert seen(kms_calls) == per_backup(3, "n3", present=("n1",))


def test_dry_run_wraps_and_verifies_but_writes_nothing(io_dir: Path, coll_dir: Path, kms_calls: list) -> None:
    """--dry-run "checks everything": the old key unwraps, the manifest decrypts, each new key
    round-trips. So it makes the same KMS calls as a real run, and writes nothing."""
    before = cr.snapshot(coll_dir)
    result = rs.run_sql(io_dir, ALL.format(new="'countkms:///n1'"), dry_run=True)
    assert [r[1:3] for r in result.rows] == [("would add", None)] * 3 and result.ok
    assert seen(kms_calls) == per_backup(3, "n1")
    assert cr.snapshot(coll_dir) == before


def test_failed_unwrap_stops_before_any_new_kms_call(io_dir: Path, kms_calls: list) -> None:
    sql = (
        f"ALTER BACKUP ALL IN '{rs.COLL_URI}' ADD NEW_KMS = 'countkms:///n1' "
        "WITH OLD_KMS = 'refusekms:///demo-key'"
    )
    result = rs.run_sql(io_dir, sql)
    assert [r[1] for r in result.rows] == ["failed"] * 3 and not result.ok
    assert Counter((op, s, k) for op, s, k in kms_calls) == Counter({("decrypt", "refusekms", "demo-key"): 3})
