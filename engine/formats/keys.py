"""CockroachDB's order-preserving key encodings (pkg/util/encoding) that backups rely on.

Used for LATEST / checkpoint file names (descending bytes), filelist.sst keys (ascending bytes)
and table ids in span keys (ascending uvarint).
"""

from __future__ import annotations

from engine.errors import FormatError

BYTES_MARKER = 0x12
BYTES_DESC_MARKER = 0x13
_ESCAPE = 0x00
_ESCAPED_TERM = 0x01
_ESCAPED_00 = 0xFF

# Ascending uvarint: one byte for 0..109, else a length marker then big-endian bytes.
INT_MIN = 0x80
INT_MAX = 0xFD
_INT_MAX_WIDTH = 8
INT_ZERO = INT_MIN + _INT_MAX_WIDTH  # 0x88
INT_SMALL = INT_MAX - INT_ZERO - _INT_MAX_WIDTH  # 109

# Multi-tenant keys start with this byte followed by the tenant id (keys.TenantPrefix).
TENANT_PREFIX = 0xFE


def encode_bytes_ascending(value: bytes) -> bytes:
    """EncodeBytesAscending: marker 0x12, 0x00 escaped as 0x00 0xFF, terminator 0x00 0x01."""
    return bytes([BYTES_MARKER]) + value.replace(b"\x00", b"\x00\xff") + b"\x00\x01"


def encode_bytes_descending(value: bytes) -> bytes:
    """EncodeBytesDescending: like ascending with marker 0x13 and every byte after it inverted."""
    body = value.replace(b"\x00", b"\x00\xff") + b"\x00\x01"
    return bytes([BYTES_DESC_MARKER]) + bytes(b ^ 0xFF for b in body)


def _decode_escaped(body: bytes, where: str) -> tuple[bytes, bytes]:
    out = bytearray()
    i = 0
    while True:
        j = body.find(b"\x00", i)
        if j < 0 or j + 1 >= len(body):
            raise FormatError(f"{where}: missing terminator in encoded bytes")
        out += body[i:j]
        nxt = body[j + 1]
        if nxt == _ESCAPED_TERM:
            return bytes(out), body[j + 2 :]
        if nxt != _ESCAPED_00:
            raise FormatError(f"{where}: bad escape 0x00 0x{nxt:02x} in encoded bytes")
        out.append(0)
        i = j + 2


def decode_bytes_ascending(data: bytes) -> tuple[bytes, bytes]:
    """Inverse of encode_bytes_ascending; returns (value, remaining bytes)."""
    if not data or data[0] != BYTES_MARKER:
        raise FormatError("encoded bytes: expected marker 0x12")
    return _decode_escaped(data[1:], "ascending bytes")


def decode_bytes_descending(data: bytes) -> tuple[bytes, bytes]:
    """Inverse of encode_bytes_descending; returns (value, remaining bytes)."""
    if not data or data[0] != BYTES_DESC_MARKER:
        raise FormatError("encoded bytes: expected marker 0x13")
    inverted = bytes(b ^ 0xFF for b in data[1:])
    value, rest = _decode_escaped(inverted, "descending bytes")
    consumed = len(inverted) - len(rest)
    return value, data[1 + consumed :]


def encode_uvarint_ascending(value: int) -> bytes:
    """EncodeUvarintAscending (order-preserving, not protobuf's varint)."""
    if value < 0:
        raise ValueError("uvarint must be >= 0")
    if value <= INT_SMALL:
        return bytes([INT_ZERO + value])
    body = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes([INT_ZERO + INT_SMALL + len(body)]) + body


def decode_uvarint_ascending(data: bytes) -> tuple[int, bytes]:
    """Inverse of encode_uvarint_ascending; returns (value, remaining bytes)."""
    if not data:
        raise FormatError("uvarint: no bytes")
    marker = data[0]
    if INT_ZERO <= marker <= INT_ZERO + INT_SMALL:
        return marker - INT_ZERO, data[1:]
    width = marker - INT_ZERO - INT_SMALL
    if not 1 <= width <= _INT_MAX_WIDTH or len(data) < 1 + width:
        raise FormatError(f"uvarint: bad marker 0x{marker:02x}")
    return int.from_bytes(data[1 : 1 + width], "big"), data[1 + width :]


def table_prefix(table_id: int, tenant_id: int | None = None) -> bytes:
    """The key prefix of a table: /Table/<id> (after /Tenant/<id> for secondary tenants)."""
    prefix = b""
    if tenant_id is not None and tenant_id != 1:
        prefix = bytes([TENANT_PREFIX]) + encode_uvarint_ascending(tenant_id)
    return prefix + encode_uvarint_ascending(table_id)


