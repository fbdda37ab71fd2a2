"""Pebble columnar blocks: data blocks with CockroachDB's key schema, index and key/value blocks.

Layouts from cockroachdb/pebble at f82e3ff74d10b1f33df146eefc5661518f868542:
sstable/colblk/data_block.go (DataBlockEncoder), cockroachkvs/cockroachkvs.go (KeySchema "crdb1",
cockroachKeyWriter), sstable/colblk/index_block.go (IndexBlockWriter),
sstable/colblk/key_value_block.go (KeyValueBlockWriter), sstable/rowblk/rowblk_writer.go.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from engine.formats.colblk_write.columns import (
    DATA_TYPE_BYTES,
    DATA_TYPE_PREFIX_BYTES,
    DATA_TYPE_UINT,
    BitmapBuilder,
    PrefixBytesBuilder,
    RawBytesBuilder,
    UintBuilder,
    encode_block,
    header_size,
)

KEY_SCHEMA_NAME = "crdb1"
DATA_BLOCK_CUSTOM_HEADER_SIZE = 4  # maximum user key length
DATA_BLOCK_FORMAT_COLUMNS = 5  # trailer, prefix changed, value, is-value-external, is-obsolete

# suffix types recorded in the key schema header byte
HAS_MVCC_SUFFIXES = 1
HAS_EMPTY_SUFFIXES = 2
HAS_NON_MVCC_SUFFIXES = 4


def split_engine_key(key: bytes) -> int:
    """Length of the prefix (roach key plus its 0x00 sentinel): cockroachkvs.Split."""
    if not key:
        raise ValueError("empty engine key")
    prefix_len = len(key) - key[-1]
    if prefix_len < 1 or key[prefix_len - 1] != 0:
        raise ValueError(f"malformed engine key {key.hex()} (version length byte {key[-1]})")
    return prefix_len


class CockroachKeyWriter:
    """Four key columns: roach key (prefix bytes, bundles of 16), MVCC wall time, MVCC logical
    time (unset rows read as 0) and any other ("untyped") version bytes."""

    num_columns = 4
    _TYPES = (DATA_TYPE_PREFIX_BYTES, DATA_TYPE_UINT, DATA_TYPE_UINT, DATA_TYPE_BYTES)

    def __init__(self) -> None:
        self.roach_keys = PrefixBytesBuilder(16)
        self.wall_times = UintBuilder()
        self.logical_times = UintBuilder(default_zero=True)
        self.untyped = RawBytesBuilder()
        self.reset()

    def reset(self) -> None:
        self.roach_keys.reset()
        self.wall_times.reset()
        self.logical_times.reset()
        self.untyped.reset()
        self.suffix_types = 0

    def column_type(self, col: int) -> int:
        return self._TYPES[col]

    split = staticmethod(split_engine_key)

    def schema_header(self) -> bytes:
        return bytes([self.suffix_types])

    def prefix_equal(self, key: bytes, prefix_len: int) -> bool:
        """Whether key's prefix equals the previous key's (KeyComparison.PrefixEqual)."""
        rows = self.roach_keys.rows
        return rows > 0 and key[: prefix_len - 1] == self.roach_keys.last()

    def write_key(self, row: int, key: bytes, prefix_len: int) -> None:
        version_len = key[-1]
        self.roach_keys.put(key[: prefix_len - 1])
        wall = 0
        untyped = b""
        if version_len == 0:
            self.suffix_types |= HAS_EMPTY_SUFFIXES
        elif version_len == 9:
            self.suffix_types |= HAS_MVCC_SUFFIXES
            wall = int.from_bytes(key[prefix_len : prefix_len + 8], "big")
        elif version_len in (13, 14):  # 14: with the legacy synthetic bit, which is dropped
            self.suffix_types |= HAS_MVCC_SUFFIXES
            wall = int.from_bytes(key[prefix_len : prefix_len + 8], "big")
            self.logical_times.set(row, int.from_bytes(key[prefix_len + 8 : prefix_len + 12], "big"))
        else:
            self.suffix_types |= HAS_NON_MVCC_SUFFIXES
            untyped = key[prefix_len:-1]
        self.wall_times.set(row, wall)
        self.untyped.put(untyped)

    def size(self, rows: int, offset: int) -> int:
        offset = self.roach_keys.size(rows, offset)
        offset = self.wall_times.size(rows, offset)
        offset = self.logical_times.size(rows, offset)
        return self.untyped.size(rows, offset)

    def finish_column(self, col: int, rows: int, offset: int, buf: bytearray) -> int:
        builder = (self.roach_keys, self.wall_times, self.logical_times, self.untyped)[col]
        return builder.finish(rows, offset, buf)


class DefaultKeyWriter:
    """Pebble's DefaultKeySchema: key prefixes (prefix bytes) and suffixes (raw bytes), the
    prefix as `split` cuts it. The columnar writer uses CockroachKeyWriter; this one exists so
    the shared data-block columns can be checked against Pebble's data_block testdata."""

    num_columns = 2
    _TYPES = (DATA_TYPE_PREFIX_BYTES, DATA_TYPE_BYTES)

    def __init__(self, split: Callable[[bytes], int], bundle_size: int = 16) -> None:
        self.split = split
        self.prefixes = PrefixBytesBuilder(bundle_size)
        self.suffixes = RawBytesBuilder()

    def reset(self) -> None:
        self.prefixes.reset()
        self.suffixes.reset()

    def column_type(self, col: int) -> int:
        return self._TYPES[col]

    def schema_header(self) -> bytes:
        return b""

    def prefix_equal(self, key: bytes, prefix_len: int) -> bool:
        return self.prefixes.rows > 0 and key[:prefix_len] == self.prefixes.last()

    def write_key(self, row: int, key: bytes, prefix_len: int) -> None:
        self.prefixes.put(key[:prefix_len])
        self.suffixes.put(key[prefix_len:])

    def size(self, rows: int, offset: int) -> int:
        return self.suffixes.size(rows, self.prefixes.size(rows, offset))

    def finish_column(self, col: int, rows: int, offset: int, buf: bytearray) -> int:
        return (self.prefixes, self.suffixes)[col].finish(rows, offset, buf)


class DataBlockEncoder:
    """A columnar data block of point keys: key-schema header, max key length, the key
    schema's columns, then trailer, prefix-changed, value, is-value-external, is-obsolete."""

    def __init__(self, key_writer: CockroachKeyWriter | DefaultKeyWriter | None = None) -> None:
        self.keys = key_writer if key_writer is not None else CockroachKeyWriter()
        self.trailers = UintBuilder()
        self.prefix_same = BitmapBuilder()
        self.values = RawBytesBuilder()
        self.value_external = BitmapBuilder()
        self.obsolete = BitmapBuilder()
        self.reset()

    def reset(self) -> None:
        self.keys.reset()
        self.trailers.reset()
        self.prefix_same.reset()
        self.values.reset()
        self.value_external.reset()
        self.obsolete.reset()
        self.rows = 0
        self.max_key_len = 0
        self.user_keys: list[bytes] = []

    def add(
        self,
        user_key: bytes,
        trailer: int,
        value: bytes,
        obsolete: bool = False,
        external: bool = False,
        prefix_equal: bool | None = None,
    ) -> None:
        """One point key. An in-place value is stored as is (columnar blocks write no value
        prefix for it); `external` marks a value that is a value-block or blob handle, which
        the caller passes already prefixed with its ValuePrefix byte.

        `prefix_equal` is whether the key's prefix equals the previous key's. Pebble's writer
        compares with the previous key of the table, also when that key ended the previous
        block, so a block's first row can be marked "prefix unchanged"; by default the
        comparison is with the previous row of this block."""
        prefix_len = self.keys.split(user_key)
        if prefix_equal is None:
            prefix_equal = self.keys.prefix_equal(user_key, prefix_len)
        if prefix_equal:
            self.prefix_same.set(self.rows)
        self.keys.write_key(self.rows, user_key, prefix_len)
        if obsolete:
            self.obsolete.set(self.rows)
        self.trailers.set(self.rows, trailer)
        if external:
            self.value_external.set(self.rows)
        self.values.put(value)
        self.max_key_len = max(self.max_key_len, len(user_key))
        self.user_keys.append(user_key)
        self.rows += 1

    def size(self) -> int:
        off = header_size(
            self.keys.num_columns + DATA_BLOCK_FORMAT_COLUMNS,
            DATA_BLOCK_CUSTOM_HEADER_SIZE + len(self.keys.schema_header()),
        )
        off = self.keys.size(self.rows, off)
        off = self.trailers.size(self.rows, off)
        off = self.prefix_same.inverted_size(self.rows, off)
        off = self.values.size(self.rows, off)
        off = self.value_external.size(self.rows, off)
        off = self.obsolete.size(self.rows, off)
        return off + 1

    def finish(self, rows: int) -> tuple[bytes, bytes, int]:
        """(block, last user key, last trailer) for the first rows rows (all, or all but one).

        As in Pebble, the maximum key length and suffix types in the header cover every row
        added, including one left out."""
        if rows not in (self.rows, self.rows - 1) or rows <= 0:
            raise ValueError(f"data block has {self.rows} rows; asked to finish {rows}")
        self.prefix_same.invert(rows)
        header = self.keys.schema_header() + struct.pack("<I", self.max_key_len)
        block = encode_block(
            rows,
            [self.keys, self.trailers, _Inverted(self.prefix_same), self.values,
             self.value_external, self.obsolete],
            custom_header=header,
        )
        return block, self.user_keys[rows - 1], self.trailers.get(rows - 1)


class _Inverted:
    """The prefix-changed bitmap, sized as Pebble sizes an inverted bitmap."""

    num_columns = 1

    def __init__(self, bitmap: BitmapBuilder) -> None:
        self.bitmap = bitmap
        self.data_type = bitmap.data_type

    def size(self, rows: int, offset: int) -> int:
        return self.bitmap.inverted_size(rows, offset)

    def finish(self, rows: int, offset: int, buf: bytearray) -> int:
        return self.bitmap.finish(rows, offset, buf)


class IndexBlockWriter:
    """Separators (raw bytes), block offsets, block lengths, block properties (raw bytes)."""

    def __init__(self) -> None:
        self.separators = RawBytesBuilder()
        self.offsets = UintBuilder()
        self.lengths = UintBuilder()
        self.props = RawBytesBuilder()
        self.reset()

    def reset(self) -> None:
        for b in (self.separators, self.offsets, self.lengths, self.props):
            b.reset()
        self.rows = 0

    def add(self, separator: bytes, offset: int, length: int, props: bytes = b"") -> int:
        row = self.rows
        self.separators.put(separator)
        self.offsets.set(row, offset)
        self.lengths.set(row, length)
        self.props.put(props)
        self.rows += 1
        return row

    def _writers(self) -> list[RawBytesBuilder | UintBuilder]:
        return [self.separators, self.offsets, self.lengths, self.props]

    def size(self, rows: int | None = None) -> int:
        rows = self.rows if rows is None else rows
        return encode_block(rows, self._writers(), sizes_only=True)

    def finish(self, rows: int | None = None) -> bytes:
        return encode_block(self.rows if rows is None else rows, self._writers())


class KeyValueBlockWriter:
    """Two raw-bytes columns (keys, values): Pebble v6+ metaindex and v7+ properties."""

    def __init__(self) -> None:
        self.keys = RawBytesBuilder()
        self.values = RawBytesBuilder()
        self.rows = 0

    def add(self, key: bytes, value: bytes) -> None:
        self.keys.put(key)
        self.values.put(value)
        self.rows += 1

    def finish(self) -> bytes:
        return encode_block(self.rows, [self.keys, self.values])


def uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def row_block(entries: list[tuple[bytes, bytes]], restart_interval: int) -> bytes:
    """A LevelDB-style row block (rowblk.Writer): shared/unshared/value-length varints, key
    suffix, value; then the restart offsets and their count."""
    buf = bytearray()
    restarts: list[int] = []
    prev = b""
    for i, (key, value) in enumerate(entries):
        shared = 0
        if i % restart_interval == 0:
            restarts.append(len(buf))
        else:
            n = min(len(key), len(prev))
            while shared < n and key[shared] == prev[shared]:
                shared += 1
        buf += uvarint(shared) + uvarint(len(key) - shared) + uvarint(len(value))
        buf += key[shared:] + value
        prev = key
    restarts = restarts or [0]
    return bytes(buf) + struct.pack(f"<{len(restarts) + 1}I", *restarts, len(restarts))
