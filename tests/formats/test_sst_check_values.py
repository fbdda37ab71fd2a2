"""check_sst's value checks from prefix bytes only (Table.row_block without values): the same
errors, at the same entry, as reading the values (read_sst), for v4 tables whose in-place value
prefix was rewritten to a value-block handle, a blob handle or an unknown kind; and the fast
roach-key order test refuses what the pairwise comparer refuses."""

from __future__ import annotations

import struct

import pytest

from engine.errors import FormatError
from engine.formats.keys import encode_uvarint_ascending, table_prefix
from engine.formats.mvcc import encode_mvcc_key
from engine.formats.sst import check_sst, read_sst, write_sst
from engine.formats.sst_check import _roach_parts
from engine.formats.sst_format import CHECKSUM_CRC32C, block_checksum
from engine.formats.sst_reader import Table

MARK = b"MARKER-VALUE-7"


def _rows(n: int, marked: int) -> list[tuple[bytes, bytes]]:
    prefix = table_prefix(106) + encode_uvarint_ascending(1)
    rows = []
    for i in range(n):
        key = encode_mvcc_key(prefix + encode_uvarint_ascending(i) + b"\x88", 1_700_000_000 + i, 0)
        rows.append((key, MARK if i == marked else b"value %06d" % i))
    return rows


def _with_prefix(table: bytes, prefix: int) -> bytes:
    """`table` with the marked value's prefix byte set to `prefix`, its block checksum redone."""
    out = bytearray(table)
    at = out.index(b"\x00" + MARK)
    out[at] = prefix
    parsed = Table(bytes(out), "t")
    assert parsed.footer.checksum == CHECKSUM_CRC32C
    for _, (off, n) in parsed.data_handles():
        if off <= at < off + n:
            crc = block_checksum(CHECKSUM_CRC32C, bytes(out[off : off + n + 1]))
            struct.pack_into("<I", out, off + n + 1, crc)
            return bytes(out)
    raise AssertionError("marked value not in a data block")


@pytest.mark.parametrize("marked", [0, 37, 299])
@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        (0x80, "a value refers to a value block but the table has no value index"),
        (0xC0, "unknown value kind 0xc0"),
        (0x40, "is stored in a separate blob file"),
    ],
)
def test_prefix_only_check_fails_like_reading_values(marked: int, prefix: int, message: str) -> None:
    table = write_sst(_rows(300, marked), table_format=4, compression="none", block_size=1024)
    assert check_sst(table) == 300
    bad = _with_prefix(table, prefix)
    with pytest.raises(FormatError) as read_error:
        list(read_sst(bad, name="t"))
    with pytest.raises(FormatError) as check_error:
        check_sst(bad, name="t")
    assert message in str(check_error.value)
    assert str(check_error.value) == str(read_error.value)


def test_prefix_only_check_accepts_every_in_place_value() -> None:
    table = write_sst(_rows(500, -1), table_format=4, block_size=512)
    assert check_sst(table) == 500
    assert len(list(read_sst(table))) == 500


@pytest.mark.parametrize(
    "keys",
    [
        [b"a\x00", b"b\x05"],  # version length past the key
        [b"ab\x00", b"abc\x00", b"x\x09"],
        [b"\x00", b"\xff"],
    ],
)
def test_roach_parts_refuses_malformed_keys(keys: list[bytes]) -> None:
    assert _roach_parts(keys) is None


def test_roach_parts_of_well_formed_keys() -> None:
    keys = [b"a\x00", b"b" + b"12345678" + b"\x08", b"c" + b"123456789abc" + b"\x0c"]
    assert _roach_parts(keys) == [b"a", b"b", b"c"]
    assert _roach_parts([b"a\x00", b""]) is None
