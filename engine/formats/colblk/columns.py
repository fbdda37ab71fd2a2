"""Column encodings of Pebble's columnar blocks (table formats v5+), decoded in bulk.

Layouts per cockroachdb/pebble sstable/colblk (commit f82e3ff7): block.go (header), uints.go and
unsafe_uints.go (DataTypeUint), bitmap.go (DataTypeBool), raw_bytes.go (DataTypeBytes),
prefix_bytes.go (DataTypePrefixBytes). Each decoder takes the decompressed block, the column's
start and end offsets, and the logical row count, and checks that the column fills exactly its
page, as Pebble's DecodeColumn asserts. Offsets are absolute within the block: Pebble aligns
column data relative to the (word-aligned) start of the block buffer.

Errors are ColumnError (a ValueError) with what is wrong; the SST reader adds file and block.
"""

from __future__ import annotations

import functools
import operator
import struct
from dataclasses import dataclass

VERSION_1 = 1
TYPE_BOOL = 1
TYPE_UINT = 2
TYPE_BYTES = 3
TYPE_PREFIX_BYTES = 4
TYPE_NAMES = {
    TYPE_BOOL: "bool", TYPE_UINT: "uint", TYPE_BYTES: "bytes", TYPE_PREFIX_BYTES: "prefixbytes"
}

_HEADER_BASE = 7  # version(1) + columns(2) + rows(4)
_COLUMN_HEADER = 5  # type(1) + page start(4)
_DELTA_BIT = 0x80
_UINT_FORMATS = {1: "B", 2: "H", 4: "I", 8: "Q"}


class ColumnError(ValueError):
    """A columnar block that does not decode."""


def _align(offset: int, width: int) -> int:
    return (offset + width - 1) & ~(width - 1)


@dataclass(frozen=True)
class BlockHeader:
    """The columnar block header: rows, and per column its type and [start, end) page."""

    rows: int
    types: tuple[int, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def page(self, col: int, want_type: int) -> tuple[int, int]:
        if col >= len(self.types):
            raise ColumnError(f"column {col} is missing ({len(self.types)} columns)")
        if self.types[col] != want_type:
            got = TYPE_NAMES.get(self.types[col], f"#{self.types[col]}")
            raise ColumnError(f"column {col} is {got}, expected {TYPE_NAMES[want_type]}")
        return self.starts[col], self.ends[col]


def decode_header(buf: bytes, custom_header: int = 0) -> BlockHeader:
    """block.go DecodeHeader: version 1, column count, row count, then (type, page start) per
    column after `custom_header` bytes; the last column ends before the trailing padding byte."""
    base = custom_header
    if len(buf) < base + _HEADER_BASE + 1:
        raise ColumnError(f"block of {len(buf)} bytes is too short for a columnar header")
    version = buf[base]
    if version != VERSION_1:
        raise ColumnError(f"unknown columnar block version {version}")
    n_cols, rows = struct.unpack_from("<HI", buf, base + 1)
    header_end = base + _HEADER_BASE + _COLUMN_HEADER * n_cols
    if header_end >= len(buf):
        raise ColumnError(f"header of {n_cols} columns runs past the {len(buf)}-byte block")
    # (type byte, uint32 page start) per column, unpacked in one call
    fields = _column_headers(n_cols).unpack_from(buf, base + _HEADER_BASE)
    types = fields[0::2]
    starts = fields[1::2]
    ends = starts[1:] + (len(buf) - 1,)
    if not (all(map(operator.le, (header_end, *starts), starts + (len(buf),)))
            and all(map(operator.le, starts, ends)) and set(types) <= _TYPES):
        prev = header_end
        for i, (start, end) in enumerate(zip(starts, ends)):
            if start < prev or end < start:
                raise ColumnError(f"column {i} page [{start}, {end}) is out of order or overlaps")
            if types[i] not in TYPE_NAMES:
                raise ColumnError(f"column {i} has unknown data type {types[i]}")
            prev = start
    return BlockHeader(rows, types, starts, ends)


_TYPES = frozenset(TYPE_NAMES)


@functools.lru_cache(maxsize=64)
def _column_headers(n_cols: int) -> struct.Struct:
    return struct.Struct("<" + "BI" * n_cols)


def _expect_end(got: int, end: int, what: str) -> None:
    if got != end:
        raise ColumnError(f"{what} column decodes to offset {got}, its page ends at {end}")


def decode_uints(buf: bytes, off: int, end: int, rows: int, what: str = "uint") -> list[int]:
    """uints.go: encoding byte (width 0/1/2/4/8, 0x80 = delta from a uint64 base), the base,
    alignment to the width, then `rows` little-endian values. Zero rows encode nothing."""
    values, stop = _uints(buf, off, end, rows, what)
    _expect_end(stop, end, what)
    return values


def _uints(buf: bytes, off: int, end: int, rows: int, what: str) -> tuple[list[int], int]:
    if rows == 0:
        return [], off
    if off >= end:
        raise ColumnError(f"{what} column is empty")
    enc = buf[off]
    off += 1
    width = enc & ~_DELTA_BIT
    delta = bool(enc & _DELTA_BIT)
    if width not in (0, 1, 2, 4, 8) or (delta and width == 8):
        raise ColumnError(f"{what} column has invalid encoding 0x{enc:02x}")
    base = 0
    if delta:
        if off + 8 > end:
            raise ColumnError(f"{what} column is truncated in its delta base")
        (base,) = struct.unpack_from("<Q", buf, off)
        off += 8
    if width == 0:
        return [base] * rows, off
    off = _align(off, width)
    stop = off + rows * width
    if stop > end:
        raise ColumnError(f"{what} column of {rows} {width}-byte values runs past its page")
    values = list(struct.unpack_from(f"<{rows}{_UINT_FORMATS[width]}", buf, off))
    if base:
        values = [v + base for v in values]
    return values, stop


def decode_bitmap(buf: bytes, off: int, end: int, rows: int, what: str = "bool") -> int:
    """bitmap.go: encoding byte (0 = words follow, 1 = all zero); words are 64-bit aligned,
    ceil(rows/64) bitmap words then ceil(words/64) summary words. Returns bit i as (x >> i) & 1,
    after checking the summary words and that no bit past `rows` is set."""
    if off >= end:
        raise ColumnError(f"{what} column is empty")
    enc = buf[off]
    off += 1
    if enc == 1:
        _expect_end(off, end, what)
        return 0
    if enc != 0:
        raise ColumnError(f"{what} column has unknown bitmap encoding {enc}")
    off = _align(off, 8)
    n_words = (rows + 63) >> 6
    n_summary = (n_words + 63) >> 6
    stop = off + 8 * (n_words + n_summary)
    _expect_end(stop, end, what)
    bits = int.from_bytes(buf[off : off + 8 * n_words], "little")
    if bits >> rows:
        raise ColumnError(f"{what} column sets bits past its {rows} rows")
    summary = int.from_bytes(buf[off + 8 * n_words : stop], "little")
    words = struct.unpack_from(f"<{n_words}Q", buf, off)
    expected = sum(1 << i for i, w in enumerate(words) if w)
    if summary != expected:
        raise ColumnError(f"{what} column summary words disagree with its bitmap")
    return bits


@dataclass(frozen=True)
class RawBytes:
    """raw_bytes.go: n slices as n+1 offsets (a uint column, no delta base) into a data section."""

    buf: bytes
    data: int  # absolute offset of the data section
    offsets: list[int]

    def __len__(self) -> int:
        return max(len(self.offsets) - 1, 0)

    def at(self, i: int) -> bytes:
        return self.buf[self.data + self.offsets[i] : self.data + self.offsets[i + 1]]

    def all(self) -> list[bytes]:
        buf, d, offs = self.buf, self.data, self.offsets
        return [buf[d + a : d + b] for a, b in zip(offs, offs[1:])]

    def all_empty(self) -> bool:
        return not self.offsets or self.offsets[-1] == self.offsets[0]


def _raw_bytes(buf: bytes, off: int, end: int, count: int, what: str) -> tuple[RawBytes, int]:
    if count == 0:
        return RawBytes(buf, off, []), off
    if off < end and buf[off] & _DELTA_BIT and buf[off] & ~_DELTA_BIT:
        raise ColumnError(f"{what} column offsets use a delta encoding")
    offsets, data = _uints(buf, off, end, count + 1, what + " offsets")
    if offsets[0] > offsets[-1] or not all(map(operator.le, offsets, offsets[1:])):
        raise ColumnError(f"{what} column offsets are not increasing")
    stop = data + offsets[-1]
    if stop > end:
        raise ColumnError(f"{what} column data runs past its page")
    return RawBytes(buf, data, offsets), stop


def decode_raw_bytes(buf: bytes, off: int, end: int, count: int, what: str = "bytes") -> RawBytes:
    raw, stop = _raw_bytes(buf, off, end, count, what)
    _expect_end(stop, end, what)
    return raw


def decode_prefix_bytes(
    buf: bytes, off: int, end: int, rows: int, what: str = "prefixbytes"
) -> list[bytes]:
    """prefix_bytes.go, materialized: a log2(bundle size) byte, then RawBytes-style offsets over
    1 block prefix + one prefix per bundle + one suffix per row. Slice k spans
    data[o[k-1]:o[k]] (the block prefix is data[0:o[0]]). A row's key is block prefix ‖ its
    bundle's prefix ‖ its suffix, where an empty suffix repeats the previous row of the bundle."""
    if rows == 0:
        raise ColumnError(f"{what} column with no rows")
    if off >= end:
        raise ColumnError(f"{what} column is empty")
    shift = buf[off]
    if shift > 16:
        raise ColumnError(f"{what} column has an implausible bundle size 2^{shift}")
    size = 1 << shift
    n_bundles = 1 + ((rows - 1) >> shift)
    total = rows + n_bundles
    offsets, data = _uints(buf, off + 1, end, total + 1, what + " offsets")
    if not all(map(operator.le, offsets, offsets[1:])):
        raise ColumnError(f"{what} column offsets are not increasing")
    stop = data + offsets[-1]
    _expect_end(stop, end, what)
    blob = bytes(buf[data:stop])
    shared = blob[: offsets[0]]
    o = offsets
    starts = [b * (size + 1) for b in range(n_bundles)]  # offset index of each bundle prefix
    prefixes = [shared + blob[o[j] : o[j + 1]] for j in starts]
    rows_at = [1 + (r >> shift) + r for r in range(rows)]  # offset index of each row suffix
    suffixes = [blob[o[i] : o[i + 1]] for i in rows_at]
    if not all(suffixes):
        # An empty suffix repeats the previous row of its bundle (or is the bundle prefix).
        for r, suffix in enumerate(suffixes):
            if not suffix and r & (size - 1):
                suffixes[r] = suffixes[r - 1]
    keys = [prefixes[r >> shift] + suffix for r, suffix in enumerate(suffixes)]
    return keys
