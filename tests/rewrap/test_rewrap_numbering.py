"""The numbering argument of engine.rewrap.backup.next_file_number, checked by simulation:
CockroachDB's ALTER BACKUP writes `ENCRYPTION-INFO-<count + 1>` with a plain put
(cockroachdb/cockroach pkg/backup/backupencryption/encryption.go WriteNewEncryptionInfoToBackup,
commit 200d56f7; pkg/backup/alter_backup_planning.go alterBackupPlanHook passes len(opts) from
ReadEncryptionOptions), count = every listed ENCRYPTION-INFO* name. Whatever the starting names (gaps, odd suffixes, the plain file missing) and however the
two writers interleave, CockroachDB must never land on a name rewrap wrote; where that cannot be
guaranteed rewrap refuses."""

from __future__ import annotations

import random

import pytest

from engine.encryption import crdb_order
from engine.errors import RewrapError
from engine.rewrap.backup import next_file_number


def test_cockroachdb_reading_order_is_lexically_last_first() -> None:
    names = ["ENCRYPTION-INFO", "ENCRYPTION-INFO-2", "ENCRYPTION-INFO-10", "ENCRYPTION-INFO-9"]
    assert crdb_order(names) == ["ENCRYPTION-INFO-9", "ENCRYPTION-INFO-2", "ENCRYPTION-INFO-10", "ENCRYPTION-INFO"]


def test_lowest_free_number() -> None:
    assert next_file_number({1}, 1, "b") == 2
    assert next_file_number({1, 3}, 2, "b") == 2
    assert next_file_number({1, 2, 4}, 3, "b") == 3
    assert next_file_number({1, 9, 10}, 3, "b") == 2
    with pytest.raises(RewrapError, match="original key file\\) is missing"):
        next_file_number({2}, 1, "b")  # CockroachDB's next name would be ENCRYPTION-INFO-2+1 = ours


def test_cockroachdb_never_overwrites_a_file_rewrap_wrote() -> None:
    rng = random.Random(10)
    refused = landed = 0
    for _ in range(3000):
        taken = {n for n in range(1, 14) if rng.random() < 0.4}
        odd = rng.randrange(3)  # names like ENCRYPTION-INFO-old: counted by CockroachDB, no number
        ours: set[int] = set()
        for _ in range(rng.randrange(1, 12)):
            count = len(taken) + odd
            if rng.random() < 0.5:
                try:
                    m = next_file_number(taken, count, "b")
                except RewrapError:
                    refused += 1
                    assert 1 not in taken
                    continue
                assert m not in taken
                taken.add(m)
                ours.add(m)
            else:
                n = count + 1  # CockroachDB: plain put, overwrites whatever is there
                assert n not in ours, (sorted(taken), odd, sorted(ours))
                taken.add(n)
                landed += 1
    assert refused and landed  # both paths were exercised
