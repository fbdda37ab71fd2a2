"""What CockroachDB's ingestion SST writer adds to a table: a bloom filter and MVCC time
intervals as block properties.

CockroachDB writes a backup's uploaded data files with MakeIngestionSSTWriter (pkg/storage/
sst_writer.go), whose DefaultPebbleOptions (pkg/storage/pebble.go) carry a 10-bits-per-key
table bloom filter and the block property collector "MVCCTimeInterval"
(PebbleBlockPropertyCollectors, the same as cockroachdb/pebble cockroachkvs/blockproperties.go).
Layouts from cockroachdb/pebble at f82e3ff74d10b1f33df146eefc5661518f868542 and its release
branches: sstable/tablefilters/bloom/{bloom,bits,hash_collector}.go (25.x: bloom/bloom.go),
sstable/block_property.go (BlockIntervalCollector, encodeBlockInterval, blockPropertiesEncoder),
sstable/colblk_writer.go (when each collector hook runs).
"""

from __future__ import annotations

import struct

from engine.formats.colblk_write.blocks import uvarint as _uvarint

BLOOM_FAMILY = "rocksdb.BuiltinBloomFilter"
BLOOM_BLOCK_NAME = "fullfilter." + BLOOM_FAMILY
BLOOM_BITS_PER_KEY = 10
MVCC_INTERVAL_COLLECTOR = "MVCCTimeInterval"
_CACHE_LINE = 64
_CACHE_LINE_BITS = _CACHE_LINE * 8
_M32 = 0xFFFFFFFF
_PROBES = (0, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6)  # by bits per key, 10 and more: 6


def bloom_hash(data: bytes) -> int:
    """LevelDB's Murmur-like hash; tail bytes are sign-extended, as LevelDB (and so RocksDB
    and Pebble) have always done."""
    m = 0xC6A4A793
    h = (0xBC9F1D34 ^ (len(data) * m)) & _M32
    n4 = len(data) - len(data) % 4
    for i in range(0, n4, 4):
        h = ((h + int.from_bytes(data[i : i + 4], "little")) * m) & _M32
        h ^= h >> 16
    tail = data[n4:]
    if tail:
        for i, byte in enumerate(tail):
            signed = (byte - 256 if byte >= 128 else byte) & _M32
            h = (h + ((signed << (8 * i)) & _M32)) & _M32
        h = (h * m) & _M32
        h ^= h >> 24
    return h


class BloomFilterWriter:
    """A table-level, cache-line-local bloom filter over key prefixes: numLines (odd) cache
    lines of 64 bytes, then the probe count byte and the line count (uint32 little-endian)."""

    def __init__(self, bits_per_key: int = BLOOM_BITS_PER_KEY) -> None:
        self.bits_per_key = bits_per_key
        self.probes = _PROBES[min(bits_per_key, len(_PROBES) - 1)]
        self.hashes: list[int] = []

    def add(self, prefix: bytes) -> None:
        h = bloom_hash(prefix)
        if not self.hashes or self.hashes[-1] != h:  # consecutive duplicates are dropped
            self.hashes.append(h)

    def finish(self) -> bytes:
        """The filter block; 5 zero bytes when no key was added (Pebble 25.x writes that)."""
        if not self.hashes:
            return bytes(5)
        lines = (len(self.hashes) * self.bits_per_key + _CACHE_LINE_BITS - 1) // _CACHE_LINE_BITS
        lines |= 1
        bits = bytearray(lines * _CACHE_LINE)
        for h in self.hashes:
            delta = ((h >> 17) | (h << 15)) & _M32
            base = (h % lines) * _CACHE_LINE
            for _ in range(self.probes):
                bits[base + ((h >> 3) & (_CACHE_LINE - 1))] |= 1 << (h & 7)
                h = (h + delta) & _M32
        return bytes(bits) + bytes([self.probes]) + struct.pack("<I", lines)


def mvcc_wall_time(key: bytes) -> int | None:
    """The MVCC wall time of an engine key, None when it has none (pebbleIntervalMapper)."""
    version_len = key[-1] - 1 if key else -1
    if version_len in (8, 12, 13):
        start = len(key) - 1 - version_len
        return int.from_bytes(key[start : start + 8], "big")
    return None


class Interval:
    """sstable.BlockInterval [lower, upper); empty when lower >= upper."""

    __slots__ = ("lower", "upper")

    def __init__(self) -> None:
        self.lower = self.upper = 0

    def add(self, wall: int) -> None:
        self.union(wall, wall + 1)

    def union(self, lower: int, upper: int) -> None:
        if lower >= upper:
            return
        if self.lower >= self.upper:
            self.lower, self.upper = lower, upper
        else:
            self.lower, self.upper = min(self.lower, lower), max(self.upper, upper)

    def take(self) -> tuple[int, int]:
        out = (self.lower, self.upper)
        self.lower = self.upper = 0
        return out

    def encode(self) -> bytes:
        """encodeBlockInterval: nothing when empty, else uvarint(lower) uvarint(upper-lower)."""
        if self.lower >= self.upper:
            return b""
        return _uvarint(self.lower) + _uvarint(self.upper - self.lower)


def encode_block_props(props: list[tuple[int, bytes]]) -> bytes:
    """blockPropertiesEncoder: per collector with a non-empty value, its id byte, the value's
    uvarint length, the value."""
    return b"".join(bytes([cid]) + _uvarint(len(v)) + v for cid, v in props if v)

