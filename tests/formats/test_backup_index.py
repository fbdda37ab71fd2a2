"""metadata/index/ names (engine/formats/backup_index.py) against CockroachDB's rules, encoded
independently by tests/crdb_fixtures.py.

Looked up: cockroachdb/cockroach pkg/backup/backupinfo/backup_index.go (commit 3e9ada9d708b):
`convertSubdirToIndexSubdir`, `convertIndexSubdirToSubdir` (errors "invalid index subdir format",
"could not be decoded", "mismatched timestamps", as TestConvertIndexSubdirToSubdir checks),
`getBackupIndexFileName`, `parseIndexBasename`, `ParseBackupFilePathFromIndexFileName`;
pkg/backup/backuputils EncodeDescendingTS = hex(EncodeUvarintDescending(UnixMilli));
pkg/util/encoding EncodeUvarintDescending.
"""

from __future__ import annotations

import pytest

import crdb_fixtures as fx
from engine.errors import FormatError
from engine.formats import backup_index as bi


@pytest.mark.parametrize("v", [0, 1, 0xFF, 0x100, 0xFFFF, 0x1_0000, 2**40, 1_764_896_523_450, 2**64 - 1])
def test_uvarint_descending_matches_the_independent_encoder(v: int) -> None:
    assert bi.encode_uvarint_descending(v) == fx.uvarint_desc(v)
    assert bi.decode_uvarint_descending(fx.uvarint_desc(v)) == v


def test_descending_order_is_reverse_chronological() -> None:
    times = [fx.utc(2025, 12, 5, h, 0, 0, 10000 * h) for h in range(1, 10)]
    names = [bi.encode_descending_ts(t) for t in times]
    assert sorted(names) == names[::-1]


def test_chain_dir_round_trip() -> None:
    t = fx.utc(2025, 12, 5)
    sub = fx.subdir(t)
    assert bi.chain_dir(sub) == fx.index_chain_dir(t)
    assert bi.subdir_of_chain_dir(fx.index_chain_dir(t).rsplit("/", 1)[1]) == sub == "/2025/12/05-000000.00"


@pytest.mark.parametrize(
    "name, error",
    [
        (bi.encode_descending_ts(fx.utc(2025, 12, 5)), "invalid index subdir format"),
        (bi.encode_descending_ts(fx.utc(2025, 12, 5)) + "_20251205-000000.00_extra", "invalid index subdir format"),
        ("invalid_20251205-000000.00", "not hexadecimal"),
        (bi.encode_descending_ts(fx.utc(2025, 12, 5)) + "_invalid", "not a 20060102-150405.00 time"),
        (bi.encode_descending_ts(fx.utc(2025, 12, 5)) + "_20251205-000001.00", "mismatched timestamps"),
    ],
)
def test_bad_chain_dirs_are_refused(name: str, error: str) -> None:
    with pytest.raises(FormatError, match=error):
        bi.subdir_of_chain_dir(name)


def test_index_file_names() -> None:
    start, end = fx.utc(2025, 12, 5), fx.utc(2025, 12, 5, 1, 2, 3, 456789)
    assert bi.index_file_name(None, start) == fx.index_file(None, start)
    assert bi.index_file_name(start, end) == fx.index_file(start, end)
    assert bi.parse_index_file_name(fx.index_file(None, start)) == (None, start)
    assert bi.parse_index_file_name(fx.index_file(start, end)) == (start, fx.utc(2025, 12, 5, 1, 2, 3, 450000))
    assert bi.incremental_dir(start, end) == fx.inc_dir_with_start(start, end) == "/20251205/010203.45-20251205-000000.00"
    for bad in ("x_0_20251205-000000.00.pb", "a_b_metadata.pb", "x_0_2025_metadata.pb"):
        with pytest.raises(FormatError, match="invalid index filename format|not a 20060102"):
            bi.parse_index_file_name(bad)
