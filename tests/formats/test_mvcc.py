"""MVCC key/value encodings: known answers computed by hand from pkg/storage and pkg/roachpb."""

from __future__ import annotations

import binascii
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import FormatError
from engine.formats.mvcc import (
    decode_mvcc_key,
    encode_mvcc_key,
    encode_value,
    encode_varint_ascending,
    engine_compare,
    family_suffix,
    table_row_key,
)

WALL = 1_700_000_000_123_456_789


def test_zero_timestamp_is_the_sentinel_only() -> None:
    assert encode_mvcc_key(b"abc") == b"abc\x00"
    assert decode_mvcc_key(b"abc\x00") == (b"abc", 0, 0)


def test_wall_only_and_wall_logical_forms() -> None:
    wall = struct.pack(">Q", WALL)
    assert encode_mvcc_key(b"k", WALL) == b"k\x00" + wall + b"\x09"
    assert encode_mvcc_key(b"k", WALL, 3) == b"k\x00" + wall + b"\x00\x00\x00\x03" + b"\x0d"
    assert encode_mvcc_key(b"k", 0, 1) == b"k\x00" + b"\0" * 8 + b"\0\0\0\x01\x0d"
    assert decode_mvcc_key(b"k\x00" + wall + b"\x09") == (b"k", WALL, 0)


def test_legacy_synthetic_byte_is_accepted_and_ignored() -> None:
    legacy = b"k\x00" + struct.pack(">QI", WALL, 2) + b"\x01" + b"\x0e"
    assert decode_mvcc_key(legacy) == (b"k", WALL, 2)


@pytest.mark.parametrize(
    "bad", [b"", b"\x05", b"k\x01" + b"\0" * 8 + b"\x09", b"k\x00\x01\x02\x03\x05"]
)
def test_malformed_keys_raise_format_error(bad: bytes) -> None:
    with pytest.raises(FormatError):
        decode_mvcc_key(bad)


def test_out_of_range_timestamps_are_rejected() -> None:
    with pytest.raises(ValueError):
        encode_mvcc_key(b"k", -1)
    with pytest.raises(ValueError):
        encode_mvcc_key(b"k", 1, 1 << 31)


@given(st.binary(max_size=30), st.integers(0, (1 << 63) - 1), st.integers(0, (1 << 31) - 1))
def test_key_round_trip(key: bytes, wall: int, logical: int) -> None:
    assert decode_mvcc_key(encode_mvcc_key(key, wall, logical)) == (key, wall, logical)


def test_engine_order_unversioned_then_newest_first() -> None:
    unversioned = encode_mvcc_key(b"a")
    new, old = encode_mvcc_key(b"a", 20), encode_mvcc_key(b"a", 10)
    assert engine_compare(unversioned, new) < 0
    assert engine_compare(new, old) < 0
    assert engine_compare(old, encode_mvcc_key(b"b", 99)) < 0
    # a zero logical part is the same version as none (normalizeEngineKeyVersionForCompare)
    padded = b"a\x00" + struct.pack(">QI", 20, 0) + b"\x0d"
    assert engine_compare(padded, new) == 0
    # roachpb key "a" sorts before "a\x00" although its encoded bytes do not
    assert engine_compare(encode_mvcc_key(b"a", WALL), encode_mvcc_key(b"a\x00", WALL)) < 0


def test_value_known_answer() -> None:
    key, payload = b"/Table/104/1/1/0", b"hello"
    crc = binascii.crc32(key + bytes([3]) + payload)
    assert encode_value(key, payload) == struct.pack(">I", crc) + b"\x03hello"


def test_signed_varint_ascending() -> None:
    assert encode_varint_ascending(7) == b"\x8f"
    assert encode_varint_ascending(1000) == b"\xf7\x03\xe8"
    assert encode_varint_ascending(-1) == b"\x87\xff"
    assert encode_varint_ascending(-255) == b"\x87\x01"
    assert encode_varint_ascending(-256) == b"\x86\xff\x00"
    assert encode_varint_ascending(-(1 << 63)) == b"\x80" + b"\x80" + b"\0" * 7


def test_row_keys() -> None:
    assert table_row_key(104, 1, 7) == b"\xf0\x89\x8f\x88"
    assert table_row_key(110, 2, 1000) == b"\xf6\x6e\x8a\xf7\x03\xe8\x88"
    assert family_suffix(3) == b"\x8b\x89"
    assert table_row_key(104, 1, 7, family_id=3) == b"\xf0\x89\x8f\x8b\x89"
    assert table_row_key(104, 1, 7, tenant_id=5) == b"\xfe\x8d\xf0\x89\x8f\x88"
