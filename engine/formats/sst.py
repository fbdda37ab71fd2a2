"""Pebble SST files as CockroachDB backups hold them (row-based block tables).

Backup data files (`data/<n>.sst`), `filelist.sst` and `descriptorslist.sst` are Pebble sstables.
rewrap writes them for its demo collection and reads them to check a backup and to list the files
of BACKUP_METADATA-only backups. Layout, per cockroachdb/pebble sstable/table.go:

    data blocks ‖ index block ‖ properties block ‖ metaindex block ‖ footer

Every block is followed by a 5-byte trailer: compression indicator byte, then a little-endian
checksum over block ‖ indicator (sstable/block/block.go Checksummer). The checksum is CRC-32C,
masked as ((c >> 15) | (c << 17)) + 0xa282ead8 (internal/crc/crc.go), or xxhash64's low 32 bits.

Written format: Pebble v2 (magic f0 9f aa b3 f0 9f aa b3, version 2, 53-byte footer, CRC-32C).
It is what CockroachDB's MakeBackupSSTWriter writes since v22.2 (pkg/storage/sst_writer.go:
`format := sstable.TableFormatPebblev2`), it is >= TableFormatMinSupported (Pebble v1) so current
Pebble still reads it, and its blocks are plain LevelDB-style row blocks (no value prefix byte).

Read formats: LevelDB, RocksDB v2, Pebble v1-v4 footers; blocks uncompressed, snappy or zstd.
Pebble v5+ (columnar blocks) is refused with a FormatError rather than guessed at.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import cramjam
import google_crc32c

from engine.errors import FormatError
from engine.formats.mvcc import engine_compare

# --- constants (sstable/table.go, sstable/format.go, sstable/block/*.go) -----------------------

LEVELDB_MAGIC = b"\x57\xfb\x80\x8b\x24\x75\x47\xdb"
ROCKSDB_MAGIC = b"\xf7\xcf\xf4\x85\xb7\x41\xe2\x88"
PEBBLE_MAGIC = b"\xf0\x9f\xaa\xb3\xf0\x9f\xaa\xb3"
LEVELDB_FOOTER_LEN = 48
ROCKSDB_FOOTER_LEN = 53  # 1 checksum type + 2 * 20 handle bytes + 4 version + 8 magic
WRITE_VERSION = 2  # Pebble v2
BLOCK_TRAILER_LEN = 5

CHECKSUM_CRC32C = 1
CHECKSUM_XXHASH64 = 3
COMPRESSION_NONE = 0
COMPRESSION_SNAPPY = 1
COMPRESSION_ZSTD = 7
_COMPRESSION_NAMES = {2: "zlib", 3: "bzip2", 4: "lz4", 5: "lz4hc", 6: "xpress", 8: "minlz"}
_MIN_REDUCTION_PERCENT = 12  # keep a compressed block only if it saves at least this much

KIND_DELETE = 0
KIND_SET = 1
KIND_SET_WITH_DELETE = 18
_OBSOLETE_BIT = 0x40  # Pebble v4+ marks obsolete points in the trailer (sstable/format.go)
_TRAILER_LEN = 8  # internal key trailer: little-endian (seqnum << 8) | kind

DATA_RESTART_INTERVAL = 16
METAINDEX_PROPERTIES = b"rocksdb.properties"
_INDEX_TYPE_TWO_LEVEL = 2
_RESTART_MASK = 0x7FFFFFFF  # Pebble v3+ data blocks borrow the top bit of restart offsets

COCKROACH_COMPARATOR = "cockroach_comparator"
BYTEWISE_COMPARATOR = "leveldb.BytewiseComparator"


def _bytewise(a: bytes, b: bytes) -> int:
    return (a > b) - (a < b)


COMPARERS: dict[str, Callable[[bytes, bytes], int]] = {
    COCKROACH_COMPARATOR: engine_compare,
    BYTEWISE_COMPARATOR: _bytewise,
}


@dataclass(frozen=True)
class TableFormat:
    """Where the footer puts us: LevelDB, RocksDB v2 or Pebble v<n>."""

    magic: bytes
    version: int

    def __str__(self) -> str:
        if self.magic == LEVELDB_MAGIC:
            return "(LevelDB)"
        if self.magic == ROCKSDB_MAGIC:
            return f"(RocksDB,v{self.version})"
        return f"(Pebble,v{self.version})"

    @property
    def pebble_version(self) -> int:
        return self.version if self.magic == PEBBLE_MAGIC else 0


# --- small codecs --------------------------------------------------------------------------------


def _put_uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _get_uvarint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """Go binary.Uvarint over buf[pos:end]; raises ValueError on truncation or overflow."""
    value = shift = 0
    while pos < end:
        byte = buf[pos]
        pos += 1
        if shift == 63 and byte > 1:
            break
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            break
    raise ValueError("bad varint")


def masked_crc32c(data: bytes) -> int:
    """Pebble's crc.New(data).Value(): CRC-32C rotated right by 15 plus 0xa282ead8."""
    c = google_crc32c.value(bytes(data))
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _block_checksum(kind: int, block_and_type: bytes) -> int:
    if kind == CHECKSUM_CRC32C:
        return masked_crc32c(block_and_type)
    try:
        import xxhash  # optional: no CockroachDB writer we know of picks xxhash64
    except ImportError:
        raise FormatError("xxhash64 block checksums need the 'xxhash' package") from None
    return xxhash.xxh64_intdigest(block_and_type) & 0xFFFFFFFF


# --- writing -------------------------------------------------------------------------------------


class _BlockBuilder:
    """A LevelDB/Pebble row block: prefix-compressed entries, then restart offsets and count."""

    def __init__(self, restart_interval: int) -> None:
        self.interval = restart_interval
        self.buf = bytearray()
        self.restarts: list[int] = []
        self.count = 0
        self.last_key = b""

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.count % self.interval == 0:
            self.restarts.append(len(self.buf))
        else:
            limit = min(len(key), len(self.last_key))
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
) -> bytes:
    """A Pebble v2 table of point SETs, in the order CockroachDB's backup SST writer produces.

    Keys must be strictly increasing under `comparer` (ValueError otherwise). With the default
    "cockroach_comparator" that is EngineKeyCompare, which equals bytewise order for MVCC-encoded
    keys with one version each; pass BYTEWISE_COMPARATOR for arbitrary keys. `compression` is
    "snappy" (CockroachDB's default) or "none"; snappy is kept only for blocks it shrinks.
    """
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
        prev = key
        block.add(key + _set_trailer(), value)
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
    footer += struct.pack("<I", WRITE_VERSION) + PEBBLE_MAGIC
    return bytes(out.out) + footer


# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Footer:
    format: TableFormat
    checksum: int
    metaindex: tuple[int, int]
    index: tuple[int, int]
    end: int  # where the footer starts: no block may reach past it


def _parse_footer(data: bytes, name: str) -> _Footer:
    if len(data) < LEVELDB_FOOTER_LEN:
        raise FormatError(f"{name}: {len(data)} bytes is too short for an SST footer")
    magic = data[-8:]
    if magic == LEVELDB_MAGIC:
        footer_len, fmt, checksum, pos = LEVELDB_FOOTER_LEN, TableFormat(magic, 0), 1, 0
    elif magic in (ROCKSDB_MAGIC, PEBBLE_MAGIC):
        if len(data) < ROCKSDB_FOOTER_LEN:
            raise FormatError(f"{name}: {len(data)} bytes is too short for an SST footer")
        (version,) = struct.unpack("<I", data[-12:-8])
        fmt = TableFormat(magic, version)
        if magic == ROCKSDB_MAGIC and version != 2:
            raise FormatError(f"{name}: SST table format {fmt} is not supported")
        if magic == PEBBLE_MAGIC and not 1 <= version <= 4:
            raise FormatError(f"{name}: SST table format {fmt} is not supported")
        footer_len, pos = ROCKSDB_FOOTER_LEN, 1
        checksum = data[-footer_len]
        if checksum not in (CHECKSUM_CRC32C, CHECKSUM_XXHASH64):
            raise FormatError(f"{name}: unsupported SST checksum type {checksum}")
    else:
        raise FormatError(f"{name}: not an SST (bad footer magic {magic.hex()})")
    foot = data[-footer_len:]
    end = len(data) - footer_len
    try:
        mo, pos = _get_uvarint(foot, pos, len(foot) - 8)
        ml, pos = _get_uvarint(foot, pos, len(foot) - 8)
        io, pos = _get_uvarint(foot, pos, len(foot) - 8)
        il, pos = _get_uvarint(foot, pos, len(foot) - 8)
    except ValueError:
        raise FormatError(f"{name}: corrupt SST footer block handles") from None
    for what, (off, length) in (("metaindex", (mo, ml)), ("index", (io, il))):
        if off + length + BLOCK_TRAILER_LEN > end:
            raise FormatError(f"{name}: SST {what} block handle points past the end of the file")
    return _Footer(fmt, checksum, (mo, ml), (io, il), end)


class _Table:
    """One parsed table: footer, properties, and checksum-verified block access."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data = memoryview(data)
        self.name = name
        self.footer = _parse_footer(data, name)
        meta = self.read_block(self.footer.metaindex, "metaindex")
        self.meta: dict[bytes, tuple[int, int]] = {}
        for key, value in _iter_block(meta, name, "metaindex", False):
            self.meta[key] = self.decode_handle(value, f"metaindex entry {key!r}")
        self.properties: dict[bytes, bytes] = {}
        if METAINDEX_PROPERTIES in self.meta:
            props = self.read_block(self.meta[METAINDEX_PROPERTIES], "properties")
            self.properties = dict(_iter_block(props, name, "properties", False))

    def fail(self, what: str) -> FormatError:
        return FormatError(f"{self.name}: {what}")

    def decode_handle(self, value: bytes, where: str) -> tuple[int, int]:
        """offset, length varints; trailing bytes (Pebble v1+ block properties) are ignored."""
        try:
            offset, pos = _get_uvarint(value, 0, len(value))
            length, _ = _get_uvarint(value, pos, len(value))
        except ValueError:
            raise self.fail(f"corrupt block handle in {where}") from None
        if offset + length + BLOCK_TRAILER_LEN > self.footer.end:
            raise self.fail(f"block handle in {where} points past the end of the file")
        return offset, length

    def read_block(self, handle: tuple[int, int], what: str) -> bytes:
        offset, length = handle
        end = offset + length
        if end + BLOCK_TRAILER_LEN > self.footer.end:
            raise self.fail(f"{what} block at offset {offset} runs past the end of the file")
        typed = bytes(self.data[offset : end + 1])
        (stored,) = struct.unpack("<I", self.data[end + 1 : end + BLOCK_TRAILER_LEN])
        if _block_checksum(self.footer.checksum, typed) != stored:
            raise self.fail(f"{what} block at offset {offset}: checksum mismatch")
        return _decompress(typed[:-1], typed[-1], self.name, f"{what} block at offset {offset}")

    def int_property(self, name: bytes) -> int | None:
        raw = self.properties.get(name)
        if raw is None:
            return None
        try:
            return _get_uvarint(raw, 0, len(raw))[0]
        except ValueError:
            raise self.fail(f"corrupt property {name.decode()}") from None

    def data_handles(self) -> Iterator[tuple[bytes, tuple[int, int]]]:
        """(separator internal key, data block handle) from a one- or two-level index."""
        index = self.read_block(self.footer.index, "index")
        raw_type = self.properties.get(b"rocksdb.block.based.table.index.type", b"\0\0\0\0")
        index_type = struct.unpack("<I", raw_type[:4].ljust(4, b"\0"))[0]
        for sep, value in _iter_block(index, self.name, "index", False):
            handle = self.decode_handle(value, "index block")
            if index_type != _INDEX_TYPE_TWO_LEVEL:
                yield sep, handle
                continue
            lower = self.read_block(handle, "second-level index")
            for sep2, value2 in _iter_block(lower, self.name, "second-level index", False):
                yield sep2, self.decode_handle(value2, "second-level index block")


def _decompress(block: bytes, indicator: int, name: str, where: str) -> bytes:
    if indicator == COMPRESSION_NONE:
        return block
    try:
        if indicator == COMPRESSION_SNAPPY:
            return bytes(cramjam.snappy.decompress_raw(block))
        if indicator == COMPRESSION_ZSTD:
            # Pebble prefixes the zstd frame with a uvarint of the decoded length.
            size, pos = _get_uvarint(block, 0, len(block))
            out = bytes(cramjam.zstd.decompress(block[pos:]))
            if len(out) != size:
                raise ValueError("decoded length mismatch")
            return out
    except (ValueError, cramjam.DecompressionError) as exc:
        raise FormatError(f"{name}: {where}: cannot decompress ({exc})") from None
    algo = _COMPRESSION_NAMES.get(indicator, f"#{indicator}")
    raise FormatError(f"{name}: {where}: {algo} block compression is not supported")


def _iter_block(
    block: bytes, name: str, what: str, data_block: bool
) -> Iterator[tuple[bytes, bytes]]:
    """Entries of a row block, checking every length and restart offset against the block."""
    if len(block) < 4:
        raise FormatError(f"{name}: {what} block is too short")
    (n_restarts,) = struct.unpack("<I", block[-4:])
    limit = len(block) - 4 - 4 * n_restarts
    if n_restarts == 0 or limit < 0:
        raise FormatError(f"{name}: {what} block has a bad restart count {n_restarts}")
    restarts = struct.unpack(f"<{n_restarts}I", block[limit:-4])
    mask = _RESTART_MASK if data_block else 0xFFFFFFFF
    starts = set()
    for r in restarts:
        if (r & mask) >= max(limit, 1):
            raise FormatError(f"{name}: {what} block has a restart offset out of range")
        starts.add(r & mask)
    pos = 0
    key = b""
    try:
        while pos < limit:
            at = pos
            shared, pos = _get_uvarint(block, pos, limit)
            unshared, pos = _get_uvarint(block, pos, limit)
            vlen, pos = _get_uvarint(block, pos, limit)
            if shared > len(key) or pos + unshared + vlen > limit or (at in starts and shared):
                raise ValueError("entry out of bounds")
            key = key[:shared] + block[pos : pos + unshared]
            pos += unshared
            yield key, block[pos : pos + vlen]
            pos += vlen
    except ValueError:
        raise FormatError(f"{name}: {what} block has a corrupt entry at offset {pos}") from None


_CORRUPTION = (ValueError, IndexError, KeyError, struct.error, OverflowError)


def _point_entries(
    table: _Table, on_block: Callable[[bytes, bytes | None], None] | None = None
) -> Iterator[tuple[bytes, bytes]]:
    """(internal key, value) of every point SET, block by block; the trailer has its obsolete
    bit cleared. `on_block(separator, last key)` runs after each data block."""
    pebble = table.footer.format.pebble_version
    for sep, handle in table.data_handles():
        block = table.read_block(handle, "data")
        last: bytes | None = None
        for ikey, value in _iter_block(block, table.name, "data", pebble >= 3):
            if len(ikey) < _TRAILER_LEN:
                raise table.fail("data block holds a key shorter than its 8-byte trailer")
            (trailer,) = struct.unpack("<Q", ikey[-_TRAILER_LEN:])
            if pebble >= 4:
                trailer &= ~_OBSOLETE_BIT
            kind = trailer & 0xFF
            if kind not in (KIND_SET, KIND_SET_WITH_DELETE):
                raise table.fail(f"point key kind {kind} is not supported (backups hold SETs)")
            if pebble >= 3 and kind == KIND_SET:
                # Pebble v3+ prefixes SET values with a value-kind byte (sstable/block/kv.go).
                if not value or value[0] & 0xC0:
                    raise table.fail("value stored out of line (value/blob block) is not supported")
                value = value[1:]
            last = ikey[:-_TRAILER_LEN] + struct.pack("<Q", trailer)
            yield last, value
        if on_block is not None:
            on_block(sep, last)


def read_sst(data: bytes, *, name: str = "sst") -> Iterator[tuple[bytes, bytes]]:
    """(user key, value) of every point SET, verifying each block's checksum as it is read.

    Range deletions and range keys live in their own meta blocks and are not returned.
    """
    try:
        table = _Table(data, name)
        for ikey, value in _point_entries(table):
            yield ikey[:-_TRAILER_LEN], value
    except _CORRUPTION as exc:
        raise FormatError(f"{name}: corrupt SST ({type(exc).__name__})") from None


def table_format(data: bytes, *, name: str = "sst") -> str:
    """The table format named by the footer, e.g. "(Pebble,v2)"."""
    return str(_parse_footer(data, name).format)


def sst_properties(data: bytes, *, name: str = "sst") -> dict[str, bytes]:
    """The raw properties block (e.g. "rocksdb.comparator" -> b"cockroach_comparator")."""
    try:
        return {k.decode("utf-8", "replace"): v for k, v in _Table(data, name).properties.items()}
    except _CORRUPTION as exc:
        raise FormatError(f"{name}: corrupt SST ({type(exc).__name__})") from None


def check_sst(data: bytes, *, name: str = "sst") -> int:
    """Entry count, after verifying every block checksum, key order, index separators and the
    entry-count property."""
    try:
        return _check(_Table(data, name))
    except _CORRUPTION as exc:
        raise FormatError(f"{name}: corrupt SST ({type(exc).__name__})") from None


def _check(table: _Table) -> int:
    comparer = table.properties.get(b"rocksdb.comparator", b"").decode("utf-8", "replace")
    compare = COMPARERS.get(comparer or BYTEWISE_COMPARATOR)
    if compare is None:
        raise table.fail(f"cannot check key order: unknown comparer {comparer!r}")
    icmp = functools.partial(_internal_compare, compare)

    def check_separator(sep: bytes, last: bytes | None) -> None:
        if last is not None and (len(sep) < _TRAILER_LEN or icmp(last, sep) > 0):
            raise table.fail("index separator sorts before the last key of its data block")

    prev: bytes | None = None
    count = 0
    for ikey, _ in _point_entries(table, check_separator):
        if prev is not None and icmp(prev, ikey) >= 0:
            raise table.fail(f"keys out of order at entry {count}")
        prev = ikey
        count += 1
    for meta_name, handle in table.meta.items():
        if meta_name != METAINDEX_PROPERTIES:
            table.read_block(handle, meta_name.decode("utf-8", "replace"))
    expected = table.int_property(b"rocksdb.num.entries")
    range_dels = table.int_property(b"rocksdb.num.range-deletions") or 0
    if expected is not None and expected - range_dels != count:
        raise table.fail(f"holds {count} point entries, its properties say {expected}")
    return count


def _internal_compare(compare: Callable[[bytes, bytes], int], a: bytes, b: bytes) -> int:
    """Pebble InternalCompare: user keys ascending, then trailers (seqnum, kind) descending."""
    c = compare(a[:-_TRAILER_LEN], b[:-_TRAILER_LEN])
    if c:
        return c
    ta = struct.unpack("<Q", a[-_TRAILER_LEN:])[0]
    tb = struct.unpack("<Q", b[-_TRAILER_LEN:])[0]
    return (tb > ta) - (tb < ta)
