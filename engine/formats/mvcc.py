"""CockroachDB MVCC key/value encodings, as found in backup data SSTs.

A backup data SST holds MVCC keys (roachpb key plus HLC timestamp) mapped to roachpb.Value raw
bytes. rewrap writes plausible rows for its demo collection and reads them back when checking
files, so the byte rules live here, each citing the CockroachDB source it follows.
"""

from __future__ import annotations

import struct
import zlib

from engine.errors import FormatError
from engine.formats.keys import INT_MIN, encode_uvarint_ascending, table_prefix

# --- MVCC keys (pkg/storage/mvcc_key.go: EncodeMVCCKey, encodeMVCCTimestampToBuf,
# decodeMVCCTimestamp; pkg/storage/engine_key.go: EngineKeyCompare) -------------------------------
#
#   key ‖ 0x00                                   zero (empty) timestamp: sentinel only
#   key ‖ 0x00 ‖ wall(8, BE) ‖ len=0x09           logical == 0
#   key ‖ 0x00 ‖ wall(8, BE) ‖ logical(4, BE) ‖ len=0x0d
#
# The trailing length byte counts the sentinel plus the timestamp bytes. Versions before v23.1 could
# also append a synthetic flag byte (len=0x0e); decoding ignores it, as CockroachDB now does, and
# encoding never writes it.

_SENTINEL = 0x00
_WALL_LEN = 8
_LOGICAL_LEN = 4
_INT64_MAX = (1 << 63) - 1
_INT32_MAX = (1 << 31) - 1


def encode_mvcc_key(key: bytes, wall_time: int = 0, logical: int = 0) -> bytes:
    """EncodeMVCCKey: the Pebble key of `key` at HLC timestamp (wall_time ns, logical)."""
    if not 0 <= wall_time <= _INT64_MAX:
        raise ValueError("MVCC wall time must be in [0, 2^63)")
    if not 0 <= logical <= _INT32_MAX:
        raise ValueError("MVCC logical time must be in [0, 2^31)")
    if wall_time == 0 and logical == 0:
        return bytes(key) + b"\x00"
    ts = struct.pack(">Q", wall_time)
    if logical:
        ts += struct.pack(">I", logical)
    return bytes(key) + b"\x00" + ts + bytes([len(ts) + 1])


def decode_mvcc_key(data: bytes) -> tuple[bytes, int, int]:
    """DecodeMVCCKey: (roachpb key, wall_time, logical); zero timestamp for unversioned keys."""
    if not data:
        raise FormatError("MVCC key: empty")
    version_len = data[-1]
    key_end = len(data) - 1 - version_len
    if key_end < 0:
        raise FormatError(f"MVCC key: version length {version_len} exceeds key length {len(data)}")
    if version_len == 0:
        return bytes(data[:-1]), 0, 0
    if data[key_end] != _SENTINEL:
        raise FormatError("MVCC key: missing 0x00 sentinel before the timestamp")
    ts = data[key_end + 1 : -1]
    if len(ts) == _WALL_LEN:
        return bytes(data[:key_end]), struct.unpack(">Q", ts)[0], 0
    if len(ts) in (_WALL_LEN + _LOGICAL_LEN, _WALL_LEN + _LOGICAL_LEN + 1):  # +1: synthetic flag
        wall, logical = struct.unpack(">QI", ts[: _WALL_LEN + _LOGICAL_LEN])
        return bytes(data[:key_end]), wall, logical
    raise FormatError(f"MVCC key: bad timestamp length {len(ts)}")


def _normalized_version(version: bytes) -> bytes:
    """normalizeEngineKeyVersionForCompare: drop a synthetic byte and a zero logical part."""
    with_wall = 1 + _WALL_LEN
    with_logical = with_wall + _LOGICAL_LEN
    if len(version) == with_logical + 1:
        version = version[:with_logical]
    if len(version) == with_logical and version[with_wall:] == b"\x00" * _LOGICAL_LEN:
        version = version[:with_wall]
    return version


def engine_compare(a: bytes, b: bytes) -> int:
    """EngineKeyCompare, the order of the "cockroach_comparator" Pebble comparer.

    Keys compare by their roachpb part bytewise; for the same key an unversioned entry comes first,
    then versions from newest to oldest. Malformed keys fall back to bytewise, like CockroachDB.
    """
    if not a or not b:
        return (a > b) - (a < b)
    a_sep = len(a) - 1 - a[-1]
    b_sep = len(b) - 1 - b[-1]
    if a_sep == -1 and b_sep == -1:
        a_sep = b_sep = 0
    if a_sep < 0 or b_sep < 0:
        return (a > b) - (a < b)
    ak, bk = a[:a_sep], b[:b_sep]
    if ak != bk:
        return -1 if ak < bk else 1
    av, bv = a[a_sep:-1], b[b_sep:-1]
    if not av or not bv:
        return (len(av) > 0) - (len(bv) > 0)
    av, bv = _normalized_version(av), _normalized_version(bv)
    return (bv > av) - (bv < av)  # newer (larger) timestamps sort first


# --- roachpb.Value (pkg/roachpb/data.go: computeChecksum, setChecksum, ValueType) ---------------
#
#   checksum(4, BE) ‖ tag(1) ‖ payload
#   checksum = CRC-32 (IEEE) of roachpb key ‖ tag ‖ payload; 0 is reserved ("unset"), so a
#   computed 0 is stored as 1. A stored 0 means "no checksum" and is not verified.

TAG_INT = 1
TAG_FLOAT = 2
TAG_BYTES = 3
TAG_TIME = 4
TAG_DECIMAL = 5
TAG_TUPLE = 10  # a row's column family value


def value_checksum(key: bytes, tag_and_payload: bytes) -> int:
    """roachpb computeChecksum over the key and everything after the checksum field."""
    return zlib.crc32(tag_and_payload, zlib.crc32(key)) or 1


def encode_value(key: bytes, payload: bytes, tag: int = TAG_BYTES) -> bytes:
    """roachpb.Value RawBytes with its checksum initialised for `key` (InitChecksum)."""
    if not 0 <= tag <= 0xFF:
        raise ValueError("value tag must fit in one byte")
    body = bytes([tag]) + bytes(payload)
    return struct.pack(">I", value_checksum(key, body)) + body


# --- SQL row keys (pkg/keys/sql.go MakeFamilyKey; pkg/util/encoding EncodeVarintAscending) -------


def encode_varint_ascending(value: int) -> bytes:
    """EncodeVarintAscending: non-negatives as the uvarint; negatives as a marker then the low
    bytes of the two's complement value (marker IntMin+8-n for n bytes)."""
    if value >= 0:
        return encode_uvarint_ascending(value)
    if value < -(1 << 63):
        raise ValueError("varint must fit in int64")
    width = 1
    while value < -((1 << (8 * width)) - 1):
        width += 1
    width = min(width, 8)
    body = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "big")
    return bytes([INT_MIN + 8 - width]) + body


def family_suffix(family_id: int) -> bytes:
    """MakeFamilyKey: family 0 is just uvarint(0); others are uvarint(id) ‖ uvarint(its length)."""
    if family_id == 0:
        return encode_uvarint_ascending(0)
    encoded = encode_uvarint_ascending(family_id)
    return encoded + encode_uvarint_ascending(len(encoded))


def table_row_key(
    table_id: int, index_id: int, pk: int, *, family_id: int = 0, tenant_id: int | None = None
) -> bytes:
    """/Table/<id>/<index>/<pk>/<family>: the key of one row's column family, for an INT key."""
    return (
        table_prefix(table_id, tenant_id)
        + encode_uvarint_ascending(index_id)
        + encode_varint_ascending(pk)
        + family_suffix(family_id)
    )
