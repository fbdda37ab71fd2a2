"""Pebble columnar column encoders: uints, bitmaps, raw bytes and prefix-compressed bytes.

Each builder lays its column out exactly as cockroachdb/pebble's sstable/colblk does at commit
f82e3ff74d10b1f33df146eefc5661518f868542 (uints.go, bitmap.go, raw_bytes.go, prefix_bytes.go,
block.go); the layouts were read there, the code is our own. Offsets passed to size()/finish()
are absolute within the block, because alignment padding is relative to the block start.

Two details matter for byte equality and are kept on purpose:
- UintBuilder picks its encoding from running min/max statistics that are updated as values are
  set (and re-evaluated for the first 8 rows), so finishing a block without its last row can
  still use a delta base contributed by that row, as Pebble does.
- A block may be finished with one row fewer than was added (Pebble adds a key, then decides the
  block is full and finishes it without that key).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any, Literal, overload

DATA_TYPE_BOOL = 1
DATA_TYPE_UINT = 2
DATA_TYPE_BYTES = 3
DATA_TYPE_PREFIX_BYTES = 4

_DELTA_BIT = 0x80
_ROW_THRESHOLD = 8  # UintEncodingRowThreshold
_U64 = (1 << 64) - 1
_PACK = {1: "B", 2: "H", 4: "I", 8: "Q"}
BLOCK_HEADER_BASE_SIZE = 7  # version(1) columns(2) rows(4)
COLUMN_HEADER_SIZE = 5  # data type(1) page offset(4)


def align(offset: int, width: int) -> int:
    return (offset + width - 1) & ~(width - 1)


def byte_width(value: int) -> int:
    """Bytes needed for value, rounded up to 0, 1, 2, 4 or 8."""
    bits = value.bit_length()
    if bits == 0:
        return 0
    if bits <= 8:
        return 1
    if bits <= 16:
        return 2
    if bits <= 32:
        return 4
    return 8


def determine_uint_encoding(minimum: int, maximum: int, rows: int) -> int:
    """Width (low 7 bits) and delta flag (0x80) for values in [minimum, maximum]."""
    width = byte_width((maximum - minimum) & _U64)
    if width == 8:
        return 8
    delta = maximum >= (1 << (width * 8))
    if delta and rows < _ROW_THRESHOLD:
        plain = byte_width(maximum)
        if rows * (plain - width) < 8:  # a delta base costs 8 bytes: not worth it for few rows
            width, delta = plain, False
    return width | (_DELTA_BIT if delta else 0)


def uint_column_size(rows: int, offset: int, encoding: int) -> int:
    offset += 1
    if encoding & _DELTA_BIT:
        offset += 8
    width = encoding & 0x7F
    if width:
        offset = align(offset, width)
    return offset + rows * width


def write_uints(
    buf: bytearray, offset: int, encoding: int, base: int, values: list[int], rows: int
) -> int:
    """Encoding byte, optional 8-byte delta base, padding, then rows values (missing ones 0)."""
    buf[offset] = encoding
    offset += 1
    if encoding & _DELTA_BIT:
        struct.pack_into("<Q", buf, offset, base)
        offset += 8
    else:
        base = 0
    width = encoding & 0x7F
    if not width:
        return offset
    offset = align(offset, width)  # the buffer starts zeroed, so padding is already zero
    vals = [v - base for v in values[:rows]]
    vals.extend([0] * (rows - len(vals)))
    struct.pack_into(f"<{rows}{_PACK[width]}", buf, offset, *vals)
    return offset + rows * width


class UintBuilder:
    """A column of unsigned integers (colblk.UintBuilder), optionally defaulting unset rows to 0."""

    data_type = DATA_TYPE_UINT
    num_columns = 1

    def __init__(self, default_zero: bool = False) -> None:
        self.default_zero = default_zero
        self.elems: list[int] = []
        self.reset()

    def reset(self) -> None:
        self.elems = []
        self.minimum = 0 if self.default_zero else _U64
        self.maximum = 0
        self.encoding = 0
        self.encoding_row = 0

    def get(self, row: int) -> int:
        return self.elems[row] if row < len(self.elems) else 0

    def set(self, row: int, value: int) -> None:
        if row >= len(self.elems):
            self.elems.extend([0] * (row + 1 - len(self.elems)))
        if self.minimum > value or self.maximum < value or row < _ROW_THRESHOLD:
            self.minimum = min(value, self.minimum)
            self.maximum = max(value, self.maximum)
            enc = determine_uint_encoding(self.minimum, self.maximum, row + 1)
            if enc != self.encoding:
                self.encoding = enc
                self.encoding_row = row
        self.elems[row] = value

    def _encoding(self, rows: int) -> tuple[int, int]:
        if self.encoding_row < rows:
            return self.encoding, self.minimum
        values = self.elems[:rows]
        values += [0] * (rows - len(values))
        lo = 0 if self.default_zero else min(values)
        return determine_uint_encoding(lo, max(values), rows), lo

    def size(self, rows: int, offset: int) -> int:
        if rows == 0:
            return offset
        return uint_column_size(rows, offset, self._encoding(rows)[0])

    def finish(self, rows: int, offset: int, buf: bytearray) -> int:
        if rows == 0:
            return offset
        enc, base = self._encoding(rows)
        return write_uints(buf, offset, enc, base, self.elems, rows)


class BitmapBuilder:
    """A column of booleans (colblk.BitmapBuilder): 64-bit words plus summary words."""

    data_type = DATA_TYPE_BOOL
    num_columns = 1

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.words: list[int] = []
        self.min_nonzero_rows = 0

    def _is_zero(self, rows: int) -> bool:
        return self.min_nonzero_rows == 0 or rows < self.min_nonzero_rows

    def set(self, i: int) -> None:
        if self._is_zero(i + 1):
            self.min_nonzero_rows = i + 1
        w = i >> 6
        if w >= len(self.words):
            self.words.extend([0] * (w + 1 - len(self.words)))
        self.words[w] |= 1 << (i & 63)

    def invert(self, rows: int) -> None:
        self.min_nonzero_rows = 1
        n = (rows + 63) >> 6
        self.words = (self.words + [0] * n)[:n]
        self.words = [~w & _U64 for w in self.words]

    @staticmethod
    def _required(rows: int) -> int:
        words = (rows + 63) >> 6
        return (words + ((words + 63) >> 6)) << 3

    def size(self, rows: int, offset: int) -> int:
        offset += 1
        if self._is_zero(rows):
            return offset
        return align(offset, 8) + self._required(rows)

    def inverted_size(self, rows: int, offset: int) -> int:
        return align(offset + 1, 8) + self._required(rows)

    def finish(self, rows: int, offset: int, buf: bytearray) -> int:
        if self._is_zero(rows):
            buf[offset] = 1  # zero bitmap encoding
            return offset + 1
        buf[offset] = 0  # default bitmap encoding
        offset = align(offset + 1, 8)
        n = (rows + 63) >> 6
        words = (self.words[:n] + [0] * n)[:n]
        if rows % 64:
            words[n - 1] &= (1 << (rows % 64)) - 1
        summary = []
        for s in range((n + 63) >> 6):
            word = 0
            for j, w in enumerate(words[s * 64 : s * 64 + 64]):
                if w:
                    word |= 1 << j
            summary.append(word)
        struct.pack_into(f"<{n + len(summary)}Q", buf, offset, *words, *summary)
        return offset + 8 * (n + len(summary))


class RawBytesBuilder:
    """A column of byte strings (colblk.RawBytesBuilder): rows+1 end offsets, then the data."""

    data_type = DATA_TYPE_BYTES
    num_columns = 1

    def __init__(self) -> None:
        self.offsets = UintBuilder()
        self.reset()

    def reset(self) -> None:
        self.rows = 0
        self.data = bytearray()
        self.offsets.reset()
        self.offsets.set(0, 0)

    def put(self, value: bytes) -> None:
        self.data += value
        self.rows += 1
        self.offsets.set(self.rows, len(self.data))

    def get(self, i: int) -> bytes:
        return bytes(self.data[self.offsets.get(i) : self.offsets.get(i + 1)])

    def size(self, rows: int, offset: int) -> int:
        if rows == 0:
            return offset
        return self.offsets.size(rows + 1, offset) + self.offsets.get(rows)

    def finish(self, rows: int, offset: int, buf: bytearray) -> int:
        if rows == 0:
            return offset
        end = self.offsets.get(rows)
        offset = self.offsets.finish(rows + 1, offset, buf)
        buf[offset : offset + end] = self.data[:end]
        return offset + end


def _common_prefix(a: bytes, b: bytes) -> int:
    """Length of the common prefix: the xor of the big-endian integers has its top set bit in
    the first differing byte (done in C, not byte by byte in Python)."""
    n = min(len(a), len(b))
    x = int.from_bytes(a[:n], "big") ^ int.from_bytes(b[:n], "big")
    return n - ((x.bit_length() + 7) >> 3)


class PrefixBytesBuilder:
    """Sorted byte strings with block- and bundle-level prefix compression (colblk.PrefixBytes).

    Layout: log2(bundle size) byte; a uint offsets column (never delta) of 1 + bundles + rows end
    offsets; then the data: block prefix, and per bundle its prefix (minus the block prefix)
    followed by each row's suffix after the bundle prefix; a row equal to the previous one in
    its bundle is an empty slice.
    """

    data_type = DATA_TYPE_PREFIX_BYTES
    num_columns = 1
    _MAX_SHARED = (1 << 16) - 1

    def __init__(self, bundle_size: int = 16) -> None:
        if bundle_size <= 0 or bundle_size & (bundle_size - 1):
            raise ValueError(f"bundle size {bundle_size} is not a power of 2")
        self.bundle_size = bundle_size
        self.shift = bundle_size.bit_length() - 1
        self.reset()

    def reset(self) -> None:
        self.keys: list[bytes] = []
        self._plans: dict[int, tuple[int, bytes, list[int]]] = {}
        # Running sizes after each of the last two puts, as Pebble keeps them (prefixBytesSizing):
        # (offset count, encoded data length, block prefix length, current bundle's prefix
        # length, its distinct keys' total length, its distinct key count, completed bundles'
        # encoded length). Size() of all rows or all but the last is then O(1).
        self._sizes: dict[int, tuple[int, int, int, int, int, int, int]] = {}

    def put(self, key: bytes) -> None:
        key = bytes(key)
        n = len(self.keys)
        if n and key < self.keys[-1]:
            raise ValueError("prefix-compressed keys must be added in order")
        cap = self._MAX_SHARED
        if n == 0:
            state = (3, len(key), min(len(key), cap), min(len(key), cap), len(key), 1, 0)
        else:
            count, _, block_len, bundle_len, distinct_len, distinct, done = self._sizes[n]
            shared = _common_prefix(self.keys[-1], key)
            bundles = 1 + (n >> self.shift)  # bundle count once this key is in
            if n & (self.bundle_size - 1) == 0:  # key starts a new bundle
                done += distinct_len - (distinct - 1) * bundle_len
                block_len = min(block_len, shared)
                bundle_len, distinct_len, distinct = min(len(key), cap), len(key), 1
                count += 2
                data_len = done + len(key) - (bundles - 1) * block_len
            elif shared == len(key):  # a duplicate of the previous key
                count += 1
                data_len = self._sizes[n][1]
            else:
                block_len = min(block_len, shared)
                bundle_len = min(bundle_len, shared)
                distinct_len += len(key)
                distinct += 1
                count += 1
                data_len = done + distinct_len - (distinct - 1) * bundle_len
                data_len -= (bundles - 1) * block_len
            state = (count, data_len, block_len, bundle_len, distinct_len, distinct, done)
        self._sizes = {k: v for k, v in self._sizes.items() if k == n}
        self._sizes[n + 1] = state
        self.keys.append(key)
        self._plans.clear()

    @property
    def rows(self) -> int:
        return len(self.keys)

    def last(self) -> bytes:
        return self.keys[-1]

    def _plan(self, rows: int) -> tuple[int, bytes, list[int]]:
        """(offset encoding, string data, end offsets) for the first rows keys."""
        if rows in self._plans:
            return self._plans[rows]
        keys = self.keys[:rows]
        if rows == 1:
            n = len(keys[0])
            plan = (byte_width(n), keys[0], [n, n, n])
            self._plans[rows] = plan
            return plan
        block_len = min(len(keys[0]), self._MAX_SHARED)
        for prev, key in zip(keys, keys[1:]):
            block_len = min(block_len, _common_prefix(prev, key))
        data = bytearray(keys[0][:block_len])
        offsets = [len(data)]
        for start in range(0, rows, self.bundle_size):
            bundle = keys[start : start + self.bundle_size]
            bundle_len = min(len(bundle[0]), self._MAX_SHARED)
            for prev, key in zip(bundle, bundle[1:]):
                if key != prev:
                    bundle_len = min(bundle_len, _common_prefix(prev, key))
            data += bundle[0][block_len:bundle_len]
            offsets.append(len(data))
            for i, key in enumerate(bundle):
                if i and key == bundle[i - 1]:
                    offsets.append(len(data))
                    continue
                data += key[bundle_len:]
                offsets.append(len(data))
        width = byte_width(len(data))
        if width == 0:
            raise ValueError("a prefix-compressed column cannot hold only empty keys")
        plan = (width, bytes(data), offsets)
        self._plans[rows] = plan
        return plan

    def size(self, rows: int, offset: int) -> int:
        if rows == 0:
            return offset
        if rows in self._sizes:
            count, data_len = self._sizes[rows][:2]
        else:
            _, data, offsets = self._plan(rows)
            count, data_len = len(offsets), len(data)
        return uint_column_size(count, offset + 1, byte_width(data_len)) + data_len

    def finish(self, rows: int, offset: int, buf: bytearray) -> int:
        if rows == 0:
            return offset
        width, data, offsets = self._plan(rows)
        if rows in self._sizes and self._sizes[rows][:2] != (len(offsets), len(data)):
            raise AssertionError("prefix-bytes sizing disagrees with the encoding")
        buf[offset] = self.shift
        offset = write_uints(buf, offset + 1, width, 0, offsets, len(offsets))
        buf[offset : offset + len(data)] = data
        return offset + len(data)


def header_size(columns: int, custom_header_size: int = 0) -> int:
    return BLOCK_HEADER_BASE_SIZE + columns * COLUMN_HEADER_SIZE + custom_header_size


@overload
def encode_block(
    rows: int, writers: Sequence[Any], custom_header: bytes = ..., sizes_only: Literal[False] = ...
) -> bytes: ...
@overload
def encode_block(
    rows: int, writers: Sequence[Any], custom_header: bytes = ..., *, sizes_only: Literal[True]
) -> int: ...
def encode_block(
    rows: int, writers: Sequence[Any], custom_header: bytes = b"", sizes_only: bool = False
) -> bytes | int:
    """A columnar block: [custom header] version 1, column count, row count, per column its type
    and page offset, the column pages, and a trailing zero byte (colblk.BlockEncoder).

    `writers` are duck-typed: a column builder (num_columns 1: data_type, size, finish) or a
    key writer (num_columns > 1: column_type, size, finish_column)."""
    columns = sum(w.num_columns for w in writers)
    size = header_size(columns, len(custom_header))
    for w in writers:
        size = w.size(rows, size)
    size += 1
    if sizes_only:
        return size
    buf = bytearray(size)
    buf[: len(custom_header)] = custom_header
    at = len(custom_header)
    buf[at] = 1  # colblk Version1
    struct.pack_into("<HI", buf, at + 1, columns, rows)
    head = at + BLOCK_HEADER_BASE_SIZE
    page = header_size(columns, len(custom_header))
    for w in writers:
        for col in range(w.num_columns):
            multi = w.num_columns > 1
            buf[head] = w.column_type(col) if multi else w.data_type
            struct.pack_into("<I", buf, head + 1, page)
            head += COLUMN_HEADER_SIZE
            page = w.finish_column(col, rows, page, buf) if multi else w.finish(rows, page, buf)
    if page != size - 1:
        raise AssertionError(f"columnar block encoded {page + 1} bytes, sized {size}")
    return bytes(buf)
