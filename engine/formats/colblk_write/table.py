"""Whole Pebble columnar tables (v5, v6, v7) as CockroachDB's backup SST writers produce them.

Layout and rules from cockroachdb/pebble at f82e3ff74d10b1f33df146eefc5661518f868542:
sstable/colblk_writer.go (RawColumnWriter: add-then-flush, separators, index partitions,
properties), sstable/layout.go (block order, metaindex), sstable/table.go (footer),
sstable/format.go (what each version adds), sstable/block/{compressor,physical,flush_governor}.go.

    data blocks ‖ index block(s) ‖ [bloom filter] ‖ properties ‖ metaindex ‖ footer

Writer options follow CockroachDB's pkg/storage/sst_writer.go (`writer`):
- "ingestion" (MakeIngestionSSTWriter, which writes the data files a backup uploads):
  DefaultPebbleOptions' 32 KiB blocks and 256 KiB index blocks, a 10-bits-per-key bloom filter
  over key prefixes ("fullfilter.rocksdb.BuiltinBloomFilter"), the "MVCCTimeInterval" block
  property collector before Pebble's own "obsolete-key", value blocks off (backups disable
  them), merger "nullptr". See ingest.py.
- "transport" (MakeTransportSSTWriter / MakeBackupSSTWriter): no filter, no collector besides
  "obsolete-key", 128 KiB blocks (pass block_size), merger "nullptr".

Per CockroachDB release (`crdb_release`), as the Pebble branch it vendors writes
(crl-release-25.1 ... crl-release-25.4 in cockroachdb/pebble; master f82e3ff for newer):
- 25.1, 25.2: properties also hold "rocksdb.compression_options"; no compression stats;
  a compressed block is kept only if smaller than 7/8 of the original (block.CompressAndChecksum).
- 25.3: "rocksdb.compression_options" and "pebble.compression_stats" (settings in first-seen
  order, e.g. "Snappy:c/u,NoCompression:n/n"); compressed blocks kept at <= 88% (12% rule).
- 25.4 and later (the default): "pebble.compression_stats" as "None:n,Snappy:c/u", no
  compression options; the 12% rule.
Formats a release can write: 25.1 v5; 25.2 v5, v6; 25.3+ v5, v6, v7.

Per version:
- v5: columnar data and index blocks; row-format metaindex and properties (uncompressed);
  53-byte footer as in v1-v4.
- v6: columnar (key/value) metaindex; 57-byte footer with a masked CRC-32C of the footer.
- v7: columnar (key/value) properties block, compressed like other blocks; 61-byte footer that
  also holds the table attributes bitmask.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import cramjam
import google_crc32c

from engine.formats.colblk_write.blocks import (
    KEY_SCHEMA_NAME,
    DataBlockEncoder,
    DefaultKeyWriter,
    IndexBlockWriter,
    KeyValueBlockWriter,
    row_block,
    split_engine_key,
    uvarint,
)
from engine.formats.colblk_write.ingest import (
    BLOOM_BLOCK_NAME,
    BLOOM_FAMILY,
    MVCC_INTERVAL_COLLECTOR,
    BloomFilterWriter,
    Interval,
    encode_block_props,
    mvcc_wall_time,
)
from engine.formats.mvcc import engine_compare

COCKROACH_COMPARATOR = "cockroach_comparator"
BYTEWISE_COMPARATOR = "leveldb.BytewiseComparator"
BYTEWISE_KEY_SCHEMA = f"DefaultKeySchema({BYTEWISE_COMPARATOR},16)"  # colblk.DefaultKeySchema
PEBBLE_MAGIC = b"\xf0\x9f\xaa\xb3\xf0\x9f\xaa\xb3"
TABLE_FORMATS = {"pebble,v5": 5, "pebble,v6": 6, "pebble,v7": 7}
FOOTER_LEN = {5: 53, 6: 57, 7: 61}
CHECKSUM_CRC32C = 1
TRAILER_LEN = 5
SET_TRAILER = 1  # seqnum 0, kind SET: what CockroachDB's SST writers emit
_MIN_REDUCTION_PERCENT = 12  # Pebble's simple compression profiles (block/compression.go)
_BLOCK_SIZE_THRESHOLD = 90  # percent: Pebble's default BlockSizeThreshold
_PROPERTIES_RESTART_INTERVAL = (1 << 31) - 1

# table attributes (sstable/attributes.go), written in the v7 footer
ATTR_TWO_LEVEL_INDEX = 1 << 5
ATTR_POINT_KEYS = 1 << 7


def parse_table_format(table_format: str | int) -> int:
    """5, 6 or 7 from "pebble,v7", "(Pebble,v7)" or 7."""
    if isinstance(table_format, int) and not isinstance(table_format, bool):
        version = table_format if table_format in (5, 6, 7) else None
    else:
        version = TABLE_FORMATS.get(str(table_format).lower().replace(" ", "").strip("()"))
    if version is None:
        raise ValueError(
            f"unknown columnar table format {table_format!r} (use pebble,v5, pebble,v6 or pebble,v7)"
        )
    return version


# CockroachDB's Options.AllocatorSizeClasses (pkg/storage/pebble.go DefaultPebbleOptions: jemalloc
# size classes from 16 KiB to 128 KiB), which MakeWriterOptions hands to every SST writer.
CRDB_SIZE_CLASSES = (
    16384, 20480, 24576, 28672, 32768, 40960, 49152, 57344, 65536, 81920, 98304, 114688, 131072,
)
_ALLOCATION_OVERHEAD = 384  # block.AllocationOverheadAllowance
_SIZE_CLASS_AWARE_THRESHOLD = 60  # percent: base.SizeClassAwareBlockSizeThreshold


class FlushGovernor:
    """block.FlushGovernor: when a block is full. With allocator size classes (and a target
    not at either end of them) blocks aim at the size class nearest the target."""

    def __init__(
        self,
        target: int,
        threshold: int = _BLOCK_SIZE_THRESHOLD,
        size_class_threshold: int = _SIZE_CLASS_AWARE_THRESHOLD,
        size_classes: tuple[int, ...] = (),
    ) -> None:
        self.low = (target * threshold + 99) // 100
        self.high = self.boundary = target
        if size_classes:
            i = _closest_class(size_classes, target + _ALLOCATION_OVERHEAD)
            if 0 < i < len(size_classes) - 1:
                self.boundary = size_classes[i] - _ALLOCATION_OVERHEAD
                self.high = size_classes[i + 1] - _ALLOCATION_OVERHEAD
                self.low = min((target * size_class_threshold + 99) // 100, self.boundary)

    def should_flush(self, before: int, after: int) -> bool:
        if before >= after or before < self.low:
            return False
        if after > self.high:
            return True
        return after > self.boundary and before <= self.boundary and (
            self.high - after > self.boundary - before
        )

    def should_flush_without_latest(self, with_kv: int, without_kv: int, rows_without: int) -> bool:
        """shouldFlushWithoutLatestKV: finish the block before the row just added?"""
        if rows_without == 0 or without_kv < self.low:
            return False
        return self.should_flush(without_kv, with_kv)


def _closest_class(classes: tuple[int, ...], target: int) -> int:
    i = next((j for j, c in enumerate(classes) if c >= target), len(classes))
    if i == len(classes) or (i > 0 and target - classes[i - 1] < classes[i] - target):
        i -= 1
    return i


def _separator(a: bytes, b: bytes) -> bytes:
    """cockroachkvs Comparer.Separator: a short key in [a, b) over the roach-key parts."""
    a_key, b_key = _roach_part(a), _roach_part(b)
    if a_key is None or b_key is None or a_key == b_key or not a_key or not b_key:
        return a
    sep = _bytewise_separator(a_key, b_key)
    return a if sep == a_key else sep + b"\x00"


def _successor(a: bytes) -> bytes:
    """cockroachkvs Comparer.Successor."""
    if not a:
        return b"\x00"
    a_key = _roach_part(a)
    if a_key is None:
        return a
    for i, byte in enumerate(a_key):
        if byte != 0xFF:
            succ = a_key[:i] + bytes([byte + 1])
            return a if succ == a_key else succ + b"\x00"
    return a


def _roach_part(key: bytes) -> bytes | None:
    end = len(key) - 1 - key[-1]
    if end < 0 or key[end] != 0:
        return None
    return key[:end]


def _bytewise_successor(a: bytes) -> bytes:
    """base.DefaultComparer.Successor."""
    for i, byte in enumerate(a):
        if byte != 0xFF:
            return a[:i] + bytes([byte + 1])
    return a


def _bytewise_separator(a: bytes, b: bytes) -> bytes:
    """base.DefaultComparer.Separator."""
    i = 0
    n = min(len(a), len(b))
    while i < n and a[i] == b[i]:
        i += 1
    if i == len(a) or i == len(b) or a[i] >= b[i]:
        return a
    if i < len(b) - 1 or a[i] + 1 < b[i]:
        return a[:i] + bytes([a[i] + 1])
    for j in range(i + 1, len(a)):
        if a[j] != 0xFF:
            return a[:j] + bytes([a[j] + 1])
    return a


CRDB_RELEASES = ("25.1", "25.2", "25.3", "25.4")
NEWEST_RELEASE = "25.4"  # and later: what Pebble master (f82e3ff) writes
_FORMATS_BY_RELEASE = {"25.1": (5,), "25.2": (5, 6), "25.3": (5, 6, 7), "25.4": (5, 6, 7)}
_ROCKSDB_COMPRESSION_OPTIONS = (
    b"window_bits=-14; level=32767; strategy=0; max_dict_bytes=0; zstd_max_train_bytes=0; "
    b"enabled=0; "
)


def parse_crdb_release(release: str | None) -> str:
    """"25.1" ... "25.4"; None or any later release (e.g. "26.1") means the newest layout."""
    if release is None:
        return NEWEST_RELEASE
    try:
        major, minor = (int(x) for x in str(release).strip().lstrip("v").split(".")[:2])
    except ValueError:
        raise ValueError(f"bad CockroachDB release {release!r} (expected e.g. 25.3)") from None
    if (major, minor) < (25, 1):
        raise ValueError(f"CockroachDB {release} does not write columnar SSTs (25.1 is the first)")
    if (major, minor) >= (25, 4):
        return NEWEST_RELEASE
    return f"{major}.{minor}"


class _Layout:
    """Appends blocks with their 5-byte trailers, compressing as Pebble's compressor does in
    the given release, and keeps the compression stats it records."""

    def __init__(self, compression: str, release: str = NEWEST_RELEASE) -> None:
        self.out = bytearray()
        self.compression = compression
        self.release = release
        self.seen: dict[str, list[int]] = {}  # setting -> [compressed, uncompressed], first-seen order

    def _keep(self, packed: int, raw: int) -> bool:
        if self.release in ("25.1", "25.2"):
            return packed < raw - raw // 8
        return packed * 100 <= raw * (100 - _MIN_REDUCTION_PERCENT)

    def _count(self, setting: str, stored: int, raw: int) -> None:
        entry = self.seen.setdefault(setting, [0, 0])
        entry[0] += stored
        entry[1] += raw

    def write(self, block: bytes, compress: bool) -> tuple[int, int]:
        indicator = 0
        raw = len(block)
        if compress and self.compression == "snappy":
            packed = bytes(cramjam.snappy.compress_raw(block))
            if self._keep(len(packed), raw):
                block, indicator = packed, 1
        self._count("Snappy" if indicator else "None", len(block), raw)
        handle = (len(self.out), len(block))
        typed = block + bytes([indicator])
        self.out += typed + struct.pack("<I", masked_crc32c(typed))
        return handle

    def stats(self) -> str:
        """The pebble.compression_stats property of the release (block.CompressionStats)."""
        if self.release in ("25.1", "25.2"):
            return ""
        if self.release == "25.3":  # every setting in first-seen order, "name:compressed/raw"
            names = {"None": "NoCompression", "Snappy": "Snappy"}
            return ",".join(f"{names[k]}:{c}/{u}" for k, (c, u) in self.seen.items())
        parts = []
        if "None" in self.seen:
            parts.append(f"None:{self.seen['None'][1]}")
        if "Snappy" in self.seen:
            c, u = self.seen["Snappy"]
            parts.append(f"Snappy:{c}/{u}")
        return ",".join(parts)


def masked_crc32c(data: bytes) -> int:
    """Pebble's crc.New(data).Value(): CRC-32C rotated right by 15 plus 0xa282ead8."""
    c: int = google_crc32c.value(bytes(data))
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _handle(offset: int, length: int) -> bytes:
    return uvarint(offset) + uvarint(length)


def write_columnar_sst(
    entries: Iterable[tuple[bytes, bytes]],
    *,
    table_format: str | int = "pebble,v7",
    block_size: int = 32 << 10,
    index_block_size: int = 256 << 10,
    comparer: str = COCKROACH_COMPARATOR,
    compression: str = "snappy",
    crdb_release: str | None = None,
    writer: str | None = None,
) -> bytes:
    """A Pebble columnar table of point SETs (seqnum 0) with CockroachDB's key schema.

    Takes the entries engine.formats.sst.write_sst takes: (engine key, value) pairs, keys
    MVCC/engine-encoded and strictly increasing under EngineKeyCompare (ValueError otherwise,
    naming the entry). With comparer "leveldb.BytewiseComparator" keys are arbitrary bytes in
    bytewise order and Pebble's default key schema is used. `table_format` is "pebble,v5",
    "pebble,v6" or "pebble,v7" (or 5, 6, 7);
    `compression` "snappy" (kept per block only when it saves >= 12%) or "none". When the index
    outgrows `index_block_size` it is split into a two-level index, as Pebble does.
    `crdb_release` ("25.1" ... ; default: the newest) picks the properties and compression
    rule of the Pebble that CockroachDB release vendors; it must be able to write the format.
    `writer` is the CockroachDB SST writer imitated: "ingestion" (MakeIngestionSSTWriter, which
    writes a backup's data files: bloom filter, MVCCTimeInterval block properties; the default
    with cockroach_comparator) or "transport" (MakeTransportSSTWriter: neither).
    """
    version = parse_table_format(table_format)
    release = parse_crdb_release(crdb_release)
    if version not in _FORMATS_BY_RELEASE[release]:
        raise ValueError(
            f"CockroachDB {release} does not write Pebble v{version} tables "
            f"(it writes {', '.join(f'v{v}' for v in _FORMATS_BY_RELEASE[release])})"
        )
    if comparer not in (COCKROACH_COMPARATOR, BYTEWISE_COMPARATOR):
        raise ValueError(f"unknown comparer {comparer!r}")
    crdb = comparer == COCKROACH_COMPARATOR
    writer = writer or ("ingestion" if crdb else "transport")
    if writer not in ("ingestion", "transport"):
        raise ValueError(f"unknown writer {writer!r} (use ingestion or transport)")
    ingestion = writer == "ingestion"
    if ingestion and not crdb:
        raise ValueError("the ingestion writer's MVCC properties need cockroach_comparator keys")
    if compression not in ("snappy", "none"):
        raise ValueError(f"unknown compression {compression!r}")
    if block_size < 1 or index_block_size < 1:
        raise ValueError("block_size and index_block_size must be positive")
    out = _Layout(compression, release)
    data_flush = FlushGovernor(block_size, size_classes=CRDB_SIZE_CLASSES)
    index_flush = FlushGovernor(index_block_size, size_classes=CRDB_SIZE_CLASSES)
    data = DataBlockEncoder(None if crdb else DefaultKeyWriter(len))
    separator, successor = (_separator, _successor) if crdb else (_bytewise_separator, _bytewise_successor)
    index = IndexBlockWriter()
    partitions: list[tuple[bytes, bytes, int, bytes]] = []  # separator, block, blocks, props
    state = {"pending": 0, "index_size": 0}
    # MVCCTimeInterval collector (id 0 when present): the current data block's, the current
    # index partition's and the table's wall-time intervals; Pebble's obsolete-key collector
    # comes after it and contributes nothing for live keys.
    block_iv, index_iv, table_iv = Interval(), Interval(), Interval()
    bloom = BloomFilterWriter() if ingestion else None
    n_entries = raw_key = raw_value = 0
    prev: bytes | None = None

    def finish_index(rows: int) -> None:
        props = encode_block_props([(0, index_iv.encode())]) if ingestion else b""
        index_iv.take()
        sep = index.separators.get(rows - 1) if rows else b""
        partitions.append((sep, index.finish(rows), rows, props))
        index.reset()

    def enqueue(block: bytes, separator: bytes) -> None:
        offset, length = out.write(block, compress=True)
        props = encode_block_props([(0, block_iv.encode())]) if ingestion else b""
        table_iv.union(block_iv.lower, block_iv.upper)
        row = index.add(separator, offset, length, props)
        size = index.size()
        if index_flush.should_flush_without_latest(size, state["index_size"], row):
            finish_index(index.rows - 1)  # the partition ends before this block
            index.add(separator, offset, length, props)
            state["index_size"] = index.size()
        else:
            state["index_size"] = size
        index_iv.union(*block_iv.take())

    def flush(rows: int, next_key: bytes | None) -> None:
        block, last_key, _ = data.finish(rows)
        enqueue(block, separator(last_key, next_key) if next_key is not None else successor(last_key))
        data.reset()
        state["pending"] = 0

    for key, value in entries:
        key, value = bytes(key), bytes(value)
        if crdb:
            try:
                prefix_len = split_engine_key(key)
            except ValueError as exc:
                raise ValueError(f"SST entry {n_entries}: {exc}") from None
            ordered = prev is None or engine_compare(prev, key) < 0
            same_prefix = prev is not None and prev[: len(prev) - prev[-1]] == key[:prefix_len]
        else:
            if not key:
                raise ValueError(f"SST entry {n_entries}: empty key")
            ordered = prev is None or prev < key
            same_prefix = False  # the whole key is the prefix, and keys are distinct
        if not ordered:
            raise ValueError(
                f"SST keys must be strictly increasing ({comparer}): entry {n_entries}"
            )
        prev = key
        rows_before = data.rows
        data.add(key, SET_TRAILER, value, prefix_equal=same_prefix)
        size = data.size()
        if data_flush.should_flush_without_latest(size, state["pending"], rows_before):
            flush(rows_before, key)
            data.add(key, SET_TRAILER, value, prefix_equal=same_prefix)
            state["pending"] = data.size()
        else:
            state["pending"] = size
        if ingestion:  # collectors and filter see the key after the flush decision
            wall = mvcc_wall_time(key)
            if wall is not None:
                block_iv.add(wall)
            bloom.add(key[:prefix_len])  # type: ignore[union-attr]
        n_entries += 1
        raw_key += len(key) + 8
        raw_value += len(value)
    if data.rows:
        flush(data.rows, None)
    data_size = len(out.out)

    if index.rows or not partitions:
        finish_index(index.rows)
    n_blocks = sum(p[2] for p in partitions)
    props: dict[str, bytes] = {}
    if len(partitions) == 1:
        index_handle = out.write(partitions[0][1], compress=True)
        index_size, index_type = len(partitions[0][1]), 0
    else:
        top = IndexBlockWriter()
        index_size = 0
        for sep, block, _, part_props in partitions:
            top.add(sep, *out.write(block, compress=True), part_props)
            index_size += len(block)
        top_block = top.finish()
        index_handle = out.write(top_block, compress=True)
        index_size += len(top_block)
        index_type = 2
        props["rocksdb.index.partitions"] = uvarint(len(partitions))
        props["rocksdb.top-level.index.size"] = uvarint(len(top_block))

    meta: list[tuple[bytes, bytes]] = []
    filter_size = 0
    if bloom is not None:  # written after the index, uncompressed (layout.WriteFilterBlock)
        filter_block = bloom.finish()
        meta.append((BLOOM_BLOCK_NAME.encode(), _handle(*out.write(filter_block, compress=False))))
        filter_size = len(filter_block)
        props["rocksdb.filter.policy"] = BLOOM_FAMILY.encode()
        obsolete_id = 1
        props[MVCC_INTERVAL_COLLECTOR] = b"\x00" + table_iv.encode()
        collectors = f"[{MVCC_INTERVAL_COLLECTOR},obsolete-key]".encode()
    else:
        obsolete_id = 0
        collectors = b"[obsolete-key]"
    props.update({
        # Pebble's own collector: its id, then 't' only when no key is live, i.e. for an
        # empty table (block_property_obsolete.go FinishTable)
        "obsolete-key": bytes([obsolete_id]) + (b"" if n_entries else b"t"),
        "pebble.colblk.schema": (KEY_SCHEMA_NAME if crdb else BYTEWISE_KEY_SCHEMA).encode(),
        "rocksdb.block.based.table.index.type": struct.pack("<I", index_type),
        "rocksdb.comparator": comparer.encode(),
        "rocksdb.compression": b"Snappy" if compression == "snappy" else b"NoCompression",
        "rocksdb.data.size": uvarint(data_size),
        "rocksdb.deleted.keys": uvarint(0),
        "rocksdb.filter.size": uvarint(filter_size),
        "rocksdb.index.size": uvarint(index_size),
        "rocksdb.merge.operands": uvarint(0),
        "rocksdb.merge.operator": b"nullptr",
        "rocksdb.num.data.blocks": uvarint(n_blocks),
        "rocksdb.num.entries": uvarint(n_entries),
        "rocksdb.num.range-deletions": uvarint(0),
        "rocksdb.property.collectors": collectors,
        "rocksdb.raw.key.size": uvarint(raw_key),
        "rocksdb.raw.value.size": uvarint(raw_value),
    })
    stats = out.stats()
    if stats:
        props["pebble.compression_stats"] = stats.encode()
    if release != NEWEST_RELEASE:
        props["rocksdb.compression_options"] = _ROCKSDB_COMPRESSION_OPTIONS
    by_name = [(k.encode(), props[k]) for k in sorted(props)]
    if version >= 7:  # columnar and compressed (layout.WritePropertiesBlock)
        kv = KeyValueBlockWriter()
        for k, v in by_name:
            kv.add(k, v)
        props_handle = out.write(kv.finish(), compress=True)
    else:  # one restart point: prefix compression across the whole block
        props_handle = out.write(row_block(by_name, _PROPERTIES_RESTART_INTERVAL), compress=False)

    meta = sorted(meta + [(b"rocksdb.properties", _handle(*props_handle))])
    if version >= 6:
        kv = KeyValueBlockWriter()
        for k, v in meta:
            kv.add(k, v)
        meta_block = kv.finish()
    else:
        meta_block = row_block(meta, 1)
    meta_handle = out.write(meta_block, compress=False)

    attributes = (ATTR_POINT_KEYS if n_blocks else 0) | (ATTR_TWO_LEVEL_INDEX if index_type else 0)
    return bytes(out.out) + encode_footer(version, meta_handle, index_handle, attributes)


def encode_footer(
    version: int, metaindex: tuple[int, int], index: tuple[int, int], attributes: int = 0
) -> bytes:
    """sstable footer: checksum type, the two handles, zero padding, [attributes (v7)],
    [masked CRC-32C of the rest of the footer (v6+)], version, magic."""
    length = FOOTER_LEN[version]
    buf = bytearray(length)
    buf[0] = CHECKSUM_CRC32C
    handles = _handle(*metaindex) + _handle(*index)
    buf[1 : 1 + len(handles)] = handles
    struct.pack_into("<I", buf, length - 12, version)
    buf[length - 8 :] = PEBBLE_MAGIC
    if version >= 6:
        at = length - 16  # checksum sits right before version and magic
        if version >= 7:
            struct.pack_into("<I", buf, at - 4, attributes)
        struct.pack_into("<I", buf, at, masked_crc32c(bytes(buf[:at] + buf[at + 4 :])))
    return bytes(buf)
