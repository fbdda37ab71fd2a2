"""Pebble SST files as CockroachDB backups hold them: the public read/check API and the writer.

Backup data files (`data/<n>.sst`), `filelist.sst` and `descriptorslist.sst` are Pebble sstables.
rewrap writes them for its demo collection and reads them to check a backup and to list the files
of BACKUP_METADATA-only backups. Layout, per cockroachdb/pebble sstable/table.go:

    data blocks ‖ index block ‖ [range del, range key, value blocks, value index] ‖
    properties block ‖ metaindex block ‖ footer

Every block is followed by a 5-byte trailer: compression indicator byte, then a little-endian
checksum over block ‖ indicator (sstable/block/block.go Checksummer). The checksum is CRC-32C,
masked as ((c >> 15) | (c << 17)) + 0xa282ead8 (internal/crc/crc.go), or xxhash64's low 32 bits.

Read formats (engine.formats.sst_reader): LevelDB, RocksDB v2, Pebble v1-v4 (row blocks) and
Pebble v5-v7 (columnar blocks, engine.formats.colblk); blocks uncompressed, snappy, zstd or
MinLZ; values in place, in value blocks, but not in blob files (value separation), which is a
FormatError. Pebble v8 (tiering columns) is refused.

Written formats: Pebble v2 (the default: what CockroachDB's MakeBackupSSTWriter writes since
v22.2, pkg/storage/sst_writer.go `format := sstable.TableFormatPebblev2`) and Pebble v4 with
value blocks disabled (what CockroachDB 24.1-24.3 writes, cockroach PR #118340): v3+ row blocks
give each SET value a 1-byte value prefix, mark restart points whose keys all share the previous
key's prefix with the top bit, and share at most the previous key's prefix (Split); v4 adds
Pebble's own "obsolete-key" block property collector. Columnar writing lives elsewhere.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator

import cramjam

from engine.errors import FormatError
from engine.formats.sst_format import (
    BLOCK_TRAILER_LEN,
    CHECKSUM_CRC32C,
    CHECKSUM_XXHASH64,
    COMPRESSION_MINLZ,
    COMPRESSION_NONE,
    COMPRESSION_SNAPPY,
    COMPRESSION_ZSTD,
    LEVELDB_FOOTER_LEN,
    LEVELDB_MAGIC,
    PEBBLE_MAGIC,
    ROCKSDB_FOOTER_LEN,
    ROCKSDB_MAGIC,
    TableFormat,
    masked_crc32c,
    parse_footer,
    put_uvarint as _put_uvarint,
)
from engine.formats.sst_reader import (
    BYTEWISE_COMPARATOR,
    COCKROACH_COMPARATOR,
    COMPARERS,
    CORRUPTION,
    KIND_NAMES,
    KIND_SET,
    KIND_SET_WITH_DELETE,
    META_PROPERTIES as METAINDEX_PROPERTIES,
    TRAILER_LEN as _TRAILER_LEN,
    Span,
    Table,
)
from engine.formats.sst_check import check_table

__all__ = [
    "BLOCK_TRAILER_LEN", "BYTEWISE_COMPARATOR", "CHECKSUM_CRC32C", "CHECKSUM_XXHASH64",
    "COCKROACH_COMPARATOR", "COMPARERS", "COMPRESSION_MINLZ", "COMPRESSION_NONE",
    "COMPRESSION_SNAPPY", "COMPRESSION_ZSTD", "KIND_SET", "KIND_SET_WITH_DELETE",
    "LEVELDB_FOOTER_LEN", "LEVELDB_MAGIC", "METAINDEX_PROPERTIES", "PEBBLE_MAGIC",
    "ROCKSDB_FOOTER_LEN", "ROCKSDB_MAGIC", "Span", "TableFormat", "check_sst", "masked_crc32c",
    "read_sst", "sst_points", "sst_properties", "sst_spans", "table_format", "write_sst",
]  # fmt: skip

WRITE_VERSION = 2  # Pebble v2, the default written format
WRITE_VERSIONS = (2, 4)
_MIN_REDUCTION_PERCENT = 12  # keep a compressed block only if it saves at least this much
DATA_RESTART_INTERVAL = 16
_RESTART_SAME_PREFIX = 1 << 31  # rowblk setHasSameKeyPrefixRestartMask
_VALUE_PREFIX_IN_PLACE = 0x00
_VALUE_PREFIX_SAME_KEY_PREFIX = 0x20  # block.ValuePrefix setHasSameKeyPrefixMask
OBSOLETE_KEY_COLLECTOR = b"obsolete-key"  # sstable/block_property_obsolete.go


def _split(comparer: str) -> Callable[[bytes], int]:
    """Comparer.Split: the length of a key's prefix (cockroachkvs.Split: the key less its
    version; bytewise: the whole key)."""
    if comparer == COCKROACH_COMPARATOR:
        return lambda key: len(key) - key[-1] if key else 0
    return len


# --- writing -------------------------------------------------------------------------------------


class _BlockBuilder:
    """A LevelDB/Pebble row block: prefix-compressed entries, then restart offsets and count."""

    def __init__(self, restart_interval: int) -> None:
        self.interval = restart_interval
        self.buf = bytearray()
        self.restarts: list[int] = []
        self.count = 0
        self.last_key = b""
        self.same_since_restart = False

    def add(
        self, key: bytes, value: bytes, max_shared: int | None = None, same_prefix: bool = False
    ) -> None:
        """Append an entry. `max_shared` caps the shared key prefix (v3+: the previous key's
        Split prefix); `same_prefix` feeds the v3+ restart flag, which marks a restart point
        whose entries since the previous restart all had the same key prefix as their
        predecessors (rowblk Writer.storeWithOptionalValuePrefix)."""
        shared = 0
        if not same_prefix:
            self.same_since_restart = False
        if self.count % self.interval == 0:
            flag = _RESTART_SAME_PREFIX if self.same_since_restart else 0
            self.restarts.append(len(self.buf) | flag)
            self.same_since_restart = True
        else:
            limit = min(len(key), len(self.last_key))
            if max_shared is not None:
                limit = min(limit, max_shared)
            while shared < limit and key[shared] == self.last_key[shared]:
                shared += 1
        self.buf += _put_uvarint(shared) + _put_uvarint(len(key) - shared)
        self.buf += _put_uvarint(len(value)) + key[shared:] + value
        self.last_key = key
        self.count += 1

    def size(self) -> int:
        return len(self.buf) + 4 * (len(self.restarts) + 1)

    def finish(self) -> bytes:
        restarts = self.restarts or [0]  # every block has at least one restart point
        tail = struct.pack(f"<{len(restarts)}I", *restarts) + struct.pack("<I", len(restarts))
        return bytes(self.buf) + tail


class _FileBuilder:
    def __init__(self, compression: str) -> None:
        self.out = bytearray()
        self.compression = compression

    def write_block(self, block: bytes, compress: bool = False) -> tuple[int, int]:
        indicator = COMPRESSION_NONE
        if compress and self.compression == "snappy":
            packed = bytes(cramjam.snappy.compress_raw(block))
            if len(packed) * 100 <= len(block) * (100 - _MIN_REDUCTION_PERCENT):
                block, indicator = packed, COMPRESSION_SNAPPY
        handle = (len(self.out), len(block))
        typed = block + bytes([indicator])
        self.out += typed + struct.pack("<I", masked_crc32c(typed))
        return handle


def _handle(offset: int, length: int) -> bytes:
    return _put_uvarint(offset) + _put_uvarint(length)


def _set_trailer() -> bytes:
    return struct.pack("<Q", KIND_SET)  # seqnum 0, kind SET, as CockroachDB's SST writers emit


def write_sst(
    entries: Iterable[tuple[bytes, bytes]],
    *,
    block_size: int = 32768,
    comparer: str = COCKROACH_COMPARATOR,
    compression: str = "snappy",
    table_format: int = WRITE_VERSION,
) -> bytes:
    """A Pebble v2 (or, with table_format=4, v4) table of point SETs, in the order CockroachDB's
    backup SST writer produces.

    Keys must be strictly increasing under `comparer` (ValueError otherwise). With the default
    "cockroach_comparator" that is EngineKeyCompare, which equals bytewise order for MVCC-encoded
    keys with one version each; pass BYTEWISE_COMPARATOR for arbitrary keys. `compression` is
    "snappy" (CockroachDB's default) or "none"; snappy is kept only for blocks it shrinks.
    v4 tables keep every value in place (value blocks disabled, as CockroachDB's backups do).
    """
    if table_format not in WRITE_VERSIONS:
        raise ValueError(f"table_format must be one of {WRITE_VERSIONS}, not {table_format!r}")
    if comparer not in COMPARERS:
        raise ValueError(f"unknown comparer {comparer!r}")
    if compression not in ("snappy", "none"):
        raise ValueError(f"unknown compression {compression!r}")
    if block_size < 1:
        raise ValueError("block_size must be positive")
    compare = COMPARERS[comparer]
    out = _FileBuilder(compression)
    index = _BlockBuilder(1)
    block = _BlockBuilder(DATA_RESTART_INTERVAL)
    prev: bytes | None = None
    n_entries = raw_key = raw_value = n_blocks = 0
    v3 = table_format >= 3
    split = _split(comparer)
    prev_prefix_len = 0

    def flush() -> None:
        nonlocal n_blocks
        offset, length = out.write_block(block.finish(), compress=True)
        index.add(block.last_key, _handle(offset, length))
        n_blocks += 1

    for key, value in entries:
        key, value = bytes(key), bytes(value)
        if prev is not None and compare(prev, key) >= 0:
            raise ValueError(
                f"SST keys must be strictly increasing ({comparer}): entry {n_entries}"
            )
        if v3:
            # Pebble v3+: the value prefix byte says "in place", and whether this SET shares
            # its key prefix with the previous SET (makeAddPointDecisionV3).
            prefix_len = split(key)
            same = prev is not None and prev[:prev_prefix_len] == key[:prefix_len]
            prefix = _VALUE_PREFIX_SAME_KEY_PREFIX if same else _VALUE_PREFIX_IN_PLACE
            block.add(key + _set_trailer(), bytes([prefix]) + value, prev_prefix_len, same)
            prev_prefix_len = prefix_len
        else:
            block.add(key + _set_trailer(), value)
        prev = key
        n_entries += 1
        raw_key += len(key) + _TRAILER_LEN
        raw_value += len(value)
        if block.size() >= block_size:
            flush()
            block = _BlockBuilder(DATA_RESTART_INTERVAL)
    if block.count or n_blocks == 0:
        # Pebble forces one (possibly empty) data block; its index key is then the empty key.
        if not block.count:
            block.last_key = b"\x00" * _TRAILER_LEN
        flush()
    data_size = len(out.out)
    index_block = index.finish()
    index_handle = out.write_block(index_block)
    props = {
        b"rocksdb.block.based.table.index.type": struct.pack("<I", 0),
        b"rocksdb.comparator": comparer.encode(),
        b"rocksdb.compression": b"Snappy" if compression == "snappy" else b"NoCompression",
        b"rocksdb.data.size": _put_uvarint(data_size),
        b"rocksdb.deleted.keys": _put_uvarint(0),
        b"rocksdb.filter.size": _put_uvarint(0),
        b"rocksdb.index.size": _put_uvarint(len(index_block) + BLOCK_TRAILER_LEN),
        b"rocksdb.merge.operator": b"nullptr",
        b"rocksdb.merge.operands": _put_uvarint(0),
        b"rocksdb.num.data.blocks": _put_uvarint(n_blocks),
        b"rocksdb.num.entries": _put_uvarint(n_entries),
        b"rocksdb.num.range-deletions": _put_uvarint(0),
        b"rocksdb.property.collectors": b"[]",
        b"rocksdb.raw.key.size": _put_uvarint(raw_key),
        b"rocksdb.raw.value.size": _put_uvarint(raw_value),
    }
    if table_format >= 4:
        # Pebble's own obsolete-key collector: shortID 0, empty (non-obsolete) table property.
        props[OBSOLETE_KEY_COLLECTOR] = b"\x00"
        props[b"rocksdb.property.collectors"] = b"[" + OBSOLETE_KEY_COLLECTOR + b"]"
    # The properties block has a single restart point (restart interval MaxInt32, properties.go).
    props_block = _BlockBuilder(1 << 31)
    for name in sorted(props):
        props_block.add(name, props[name])
    props_handle = out.write_block(props_block.finish())
    meta = _BlockBuilder(1)
    meta.add(METAINDEX_PROPERTIES, _handle(*props_handle))
    meta_handle = out.write_block(meta.finish())
    handles = _handle(*meta_handle) + _handle(*index_handle)
    footer = bytes([CHECKSUM_CRC32C]) + handles.ljust(40, b"\x00")
    footer += struct.pack("<I", table_format) + PEBBLE_MAGIC
    return bytes(out.out) + footer


# --- reading (engine.formats.sst_reader) ---------------------------------------------------------


def read_sst(data: bytes | bytearray, *, name: str = "sst") -> Iterator[tuple[bytes, bytes]]:
    """(user key, value) of every point SET, verifying each block's checksum as it is read.

    Range deletions and range keys live in their own meta blocks: see sst_spans.
    """
    try:
        table = Table(data, name)
        for key, _, value in table.points():
            yield key, value
    except CORRUPTION as exc:
        raise FormatError(f"{name}: corrupt SST ({type(exc).__name__})") from None


def sst_points(data: bytes, *, name: str = "sst") -> Iterator[tuple[bytes, int, str, bytes]]:
    """(user key, seqnum, kind, value) of every point key, DEL and MERGE included: for
    inspecting tables that are not backup data (read_sst and check_sst accept SETs only)."""
    try:
        for key, trailer, value in Table(data, name).points(all_kinds=True):
            yield key, trailer >> 8, KIND_NAMES.get(trailer & 0xFF, f"#{trailer & 0xFF}"), value
    except CORRUPTION as exc:
        raise FormatError(f"{name}: corrupt SST ({type(exc).__name__})") from None


def sst_spans(data: bytes, *, name: str = "sst") -> list[Span]:
    """Range deletions and range keys, as (kind, start, end, seqnum, suffix, value) fragments."""
    try:
        return Table(data, name).spans()
    except CORRUPTION as exc:
        raise FormatError(f"{name}: corrupt SST ({type(exc).__name__})") from None


def table_format(data: bytes, *, name: str = "sst") -> str:
    """The table format named by the footer, e.g. "(Pebble,v2)"."""
    return str(parse_footer(data, name).format)


def sst_properties(data: bytes, *, name: str = "sst") -> dict[str, bytes]:
    """The raw properties block (e.g. "rocksdb.comparator" -> b"cockroach_comparator")."""
    try:
        return {k.decode("utf-8", "replace"): v for k, v in Table(data, name).properties.items()}
    except CORRUPTION as exc:
        raise FormatError(f"{name}: corrupt SST ({type(exc).__name__})") from None


def check_sst(data: bytes | bytearray | memoryview, *, name: str = "sst") -> int:
    """Point entry count, after verifying every block checksum (data, index, meta, value and
    keyspan blocks, the v6+ footer), key order under the table's comparer, index separators,
    structural sanity of every block, and the entry counts and v7 attributes the properties
    promise. Raises FormatError naming `name` and what is wrong."""
    try:
        return check_table(Table(data, name))
    except CORRUPTION as exc:
        raise FormatError(f"{name}: corrupt SST ({type(exc).__name__})") from None


