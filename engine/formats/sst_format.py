"""Pebble sstable framing shared by the SST reader and writer: footers, block trailers,
checksums, compression, varints.

Per cockroachdb/pebble at f82e3ff7: sstable/table.go (footer layouts, parseFooter),
sstable/format.go (TableFormat <-> (magic, version)), sstable/block/block.go (5-byte block
trailer: compression indicator, then a little-endian checksum over block ‖ indicator),
sstable/block/compression.go (indicators), internal/crc/crc.go (masked CRC-32C).

Footers, by format:
    LevelDB (48)        metaindex handle ‖ index handle ‖ padding to 40 ‖ magic
    RocksDB v2, Pebble v1-v5 (53)
                        checksum type ‖ handles padded to 40 ‖ version(4) ‖ magic
    Pebble v6 (57)      ... handles ‖ footer checksum(4) ‖ version ‖ magic
    Pebble v7 (61)      ... handles ‖ attributes(4) ‖ footer checksum(4) ‖ version ‖ magic
The v6+ footer checksum is the masked CRC-32C of the footer without the checksum field.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cramjam
import google_crc32c

from engine.errors import FormatError
from engine.formats.minlz import MinLZError, decode_block as minlz_decode

LEVELDB_MAGIC = b"\x57\xfb\x80\x8b\x24\x75\x47\xdb"
ROCKSDB_MAGIC = b"\xf7\xcf\xf4\x85\xb7\x41\xe2\x88"
PEBBLE_MAGIC = b"\xf0\x9f\xaa\xb3\xf0\x9f\xaa\xb3"
LEVELDB_FOOTER_LEN = 48
ROCKSDB_FOOTER_LEN = 53  # 1 checksum type + 2 * 20 handle bytes + 4 version + 8 magic
CHECKED_FOOTER_LEN = ROCKSDB_FOOTER_LEN + 4  # Pebble v6
V7_FOOTER_LEN = CHECKED_FOOTER_LEN + 4  # Pebble v7: + attributes
MAX_PEBBLE_VERSION = 7  # v8 adds tiering columns to data blocks: not read
BLOCK_TRAILER_LEN = 5

CHECKSUM_CRC32C = 1
CHECKSUM_XXHASH64 = 3
COMPRESSION_NONE = 0
COMPRESSION_SNAPPY = 1
COMPRESSION_ZSTD = 7
COMPRESSION_MINLZ = 8
_COMPRESSION_NAMES = {2: "zlib", 3: "bzip2", 4: "lz4", 5: "lz4hc", 6: "xpress"}

# Footer attributes (sstable/attributes.go), checked against the properties in v7.
ATTR_VALUE_BLOCKS = 1 << 0
ATTR_RANGE_KEY_SETS = 1 << 1
ATTR_RANGE_KEY_UNSETS = 1 << 2
ATTR_RANGE_KEY_DELS = 1 << 3
ATTR_RANGE_DELS = 1 << 4
ATTR_TWO_LEVEL_INDEX = 1 << 5
ATTR_BLOB_VALUES = 1 << 6
ATTR_POINT_KEYS = 1 << 7


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

    @property
    def columnar(self) -> bool:
        return self.pebble_version >= 5


@dataclass(frozen=True)
class Footer:
    format: TableFormat
    checksum: int
    metaindex: tuple[int, int]
    index: tuple[int, int]
    end: int  # where the footer starts: no block may reach past it
    attributes: int | None  # Pebble v7+


def put_uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def get_uvarint(buf: bytes | bytearray | memoryview, pos: int, end: int) -> tuple[int, int]:
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
    c: int = google_crc32c.value(bytes(data))
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def block_checksum(kind: int, block_and_type: bytes) -> int:
    """The stored block checksum: masked CRC-32C, or xxhash64's low 32 bits (block.go)."""
    if kind == CHECKSUM_CRC32C:
        return masked_crc32c(block_and_type)
    import xxhash  # only xxhash64 tables need it

    return xxhash.xxh64_intdigest(block_and_type) & 0xFFFFFFFF


def parse_footer(data: bytes | bytearray | memoryview, name: str) -> Footer:
    if len(data) < LEVELDB_FOOTER_LEN:
        raise FormatError(f"{name}: {len(data)} bytes is too short for an SST footer")
    magic = bytes(data[-8:])
    attributes = None
    if magic == LEVELDB_MAGIC:
        footer_len, fmt, checksum, pos = LEVELDB_FOOTER_LEN, TableFormat(magic, 0), 1, 0
    elif magic in (ROCKSDB_MAGIC, PEBBLE_MAGIC):
        (version,) = struct.unpack("<I", data[-12:-8])
        fmt = TableFormat(magic, version)
        if magic == ROCKSDB_MAGIC and version != 2:
            raise FormatError(f"{name}: SST table format {fmt} is not supported")
        if magic == PEBBLE_MAGIC and not 1 <= version <= MAX_PEBBLE_VERSION:
            raise FormatError(f"{name}: SST table format {fmt} is not supported")
        footer_len = ROCKSDB_FOOTER_LEN
        if fmt.pebble_version >= 7:
            footer_len = V7_FOOTER_LEN
        elif fmt.pebble_version == 6:
            footer_len = CHECKED_FOOTER_LEN
        if len(data) < footer_len:
            raise FormatError(f"{name}: {len(data)} bytes is too short for a {fmt} footer")
        pos = 1
        foot = bytes(data[-footer_len:])
        checksum = foot[0]
        if checksum not in (CHECKSUM_CRC32C, CHECKSUM_XXHASH64):
            raise FormatError(f"{name}: unsupported SST checksum type {checksum}")
        if fmt.pebble_version >= 6:
            at = footer_len - 16  # before checksum(4) ‖ version(4) ‖ magic(8)
            (stored,) = struct.unpack_from("<I", foot, at)
            if masked_crc32c(foot[:at] + foot[at + 4 :]) != stored:
                raise FormatError(f"{name}: SST footer checksum mismatch")
            if fmt.pebble_version >= 7:
                (attributes,) = struct.unpack_from("<I", foot, at - 4)
    else:
        raise FormatError(f"{name}: not an SST (bad footer magic {magic.hex()})")
    foot = bytes(data[-footer_len:])
    end = len(data) - footer_len
    limit = pos + 40  # the handles' 40-byte field
    try:
        mo, pos = get_uvarint(foot, pos, limit)
        ml, pos = get_uvarint(foot, pos, limit)
        io, pos = get_uvarint(foot, pos, limit)
        il, pos = get_uvarint(foot, pos, limit)
    except ValueError:
        raise FormatError(f"{name}: corrupt SST footer block handles") from None
    for what, (off, length) in (("metaindex", (mo, ml)), ("index", (io, il))):
        if off + length + BLOCK_TRAILER_LEN > end:
            raise FormatError(f"{name}: SST {what} block handle points past the end of the file")
    return Footer(fmt, checksum, (mo, ml), (io, il), end, attributes)


def decompress(block: bytes | memoryview, indicator: int, name: str, where: str) -> bytes:
    """A block's payload per its compression indicator (sstable/block/compression.go), as
    bytes whatever `block` is (a view saves the caller a copy of compressed input)."""
    if indicator == COMPRESSION_NONE:
        return bytes(block)
    try:
        if indicator == COMPRESSION_SNAPPY:
            return bytes(cramjam.snappy.decompress_raw(block))
        if indicator == COMPRESSION_ZSTD:
            # Pebble prefixes the zstd frame with a uvarint of the decoded length.
            size, pos = get_uvarint(block, 0, len(block))
            out = bytes(cramjam.zstd.decompress(block[pos:]))
            if len(out) != size:
                raise ValueError("decoded length mismatch")
            return out
        if indicator == COMPRESSION_MINLZ:
            return minlz_decode(bytes(block))
    except (ValueError, MinLZError, cramjam.DecompressionError) as exc:
        raise FormatError(f"{name}: {where}: cannot decompress ({exc})") from None
    algo = _COMPRESSION_NAMES.get(indicator, f"#{indicator}")
    raise FormatError(f"{name}: {where}: {algo} block compression is not supported")
