"""SST reader/writer against the Pebble layout (sstable/table.go), with hand-built fixtures."""

from __future__ import annotations

import struct

import cramjam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import FormatError
from engine.formats.mvcc import encode_mvcc_key
from engine.formats.sst import (
    BYTEWISE_COMPARATOR,
    check_sst,
    read_sst,
    sst_properties,
    table_format,
    write_sst,
)

PEBBLE_MAGIC = bytes.fromhex("f09faab3f09faab3")
ROCKSDB_MAGIC = bytes.fromhex("f7cff485b741e288")
LEVELDB_MAGIC = bytes.fromhex("57fb808b247547db")


# --- an independent CRC-32C (Castagnoli, reflected poly 0x82f63b78) and Pebble's mask ------------

_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def test_independent_crc32c_matches_the_published_check_value() -> None:
    assert crc32c(b"123456789") == 0xE3069283


# --- a tiny hand builder: full keys (shared = 0), one restart per entry ---------------------------


def uvarint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    return bytes(out + bytes([v]))


def raw_block(entries: list[tuple[bytes, bytes]], *, restart_flag: int = 0) -> bytes:
    body, restarts = bytearray(), []
    for k, v in entries:
        restarts.append(len(body) | restart_flag)
        body += uvarint(0) + uvarint(len(k)) + uvarint(len(v)) + k + v
    restarts = restarts or [0]
    tail = struct.pack(f"<{len(restarts)}I", *restarts) + struct.pack("<I", len(restarts))
    return bytes(body) + tail


class HandTable:
    def __init__(self) -> None:
        self.out = bytearray()

    def block(self, payload: bytes, indicator: int = 0) -> bytes:
        handle = uvarint(len(self.out)) + uvarint(len(payload))
        typed = payload + bytes([indicator])
        self.out += typed + struct.pack("<I", masked(typed))
        return handle

    def finish(self, index: bytes, meta: bytes, magic: bytes, version: int) -> bytes:
        handles = meta + index
        if magic == LEVELDB_MAGIC:
            return bytes(self.out) + handles.ljust(40, b"\0") + magic
        footer = b"\x01" + handles.ljust(40, b"\0") + struct.pack("<I", version) + magic
        return bytes(self.out) + footer


SET = struct.pack("<Q", (7 << 8) | 1)  # seqnum 7, kind SET


def hand_table(
    kvs: list[tuple[bytes, bytes]],
    *,
    magic: bytes = ROCKSDB_MAGIC,
    version: int = 2,
    compress=None,
    indicator: int = 0,
    value_prefix: bool = False,
) -> bytes:
    t = HandTable()
    entries = [(k + SET, (b"\x00" if value_prefix else b"") + v) for k, v in kvs]
    block = raw_block(entries, restart_flag=(1 << 31) if value_prefix and len(entries) > 1 else 0)
    # (the flag on every restart is what a v3+ writer may set; readers must mask it)
    data_handle = t.block(compress(block) if compress else block, indicator)
    index = t.block(raw_block([(entries[-1][0] if entries else b"\0" * 8, data_handle)]))
    meta = t.block(raw_block([]))
    return t.finish(index, meta, magic, version)


KVS = [(b"apple", b"red"), (b"banana", b"yellow"), (b"cherry", b"dark red")]


# --- structural facts of what we write ------------------------------------------------------------


def test_empty_table_has_a_pebble_v2_footer_and_no_entries() -> None:
    data = write_sst([])
    assert data[-8:] == PEBBLE_MAGIC
    assert struct.unpack("<I", data[-12:-8]) == (2,)
    assert data[-53] == 1  # checksum type crc32c, first byte of the 53-byte footer
    assert table_format(data) == "(Pebble,v2)"
    assert list(read_sst(data)) == []
    assert check_sst(data) == 0


def test_one_entry_block_bytes_and_trailer_by_hand() -> None:
    key, value = encode_mvcc_key(b"k", 1), b"value"
    data = write_sst([(key, value)], compression="none")
    ikey = key + b"\x01" + b"\x00" * 7  # trailer: seqnum 0, kind SET (1), little-endian
    block = bytes([0, len(ikey), len(value)]) + ikey + value + b"\0\0\0\0" + b"\1\0\0\0"
    assert data[: len(block)] == block
    trailer = data[len(block) : len(block) + 5]
    assert trailer[0] == 0  # no compression
    assert struct.unpack("<I", trailer[1:]) == (masked(block + b"\x00"),)
    assert list(read_sst(data)) == [(key, value)]


def test_properties_say_what_pebble_needs() -> None:
    entries = [(encode_mvcc_key(b"k%04d" % i, 10**18 + i), b"x" * 30) for i in range(500)]
    props = sst_properties(write_sst(entries, block_size=1024))
    assert props["rocksdb.comparator"] == b"cockroach_comparator"
    assert props["rocksdb.merge.operator"] == b"nullptr"
    assert props["rocksdb.num.entries"] == uvarint(500)
    assert props["rocksdb.raw.value.size"] == uvarint(500 * 30)
    assert props["rocksdb.raw.key.size"] == uvarint(sum(len(k) + 8 for k, _ in entries))
    assert int.from_bytes(props["rocksdb.num.data.blocks"][:1], "little") > 1


@pytest.mark.parametrize("compression", ["snappy", "none"])
def test_many_entries_over_many_blocks_round_trip(compression: str) -> None:
    wall = 1_700_000_000 * 10**9
    entries = [(encode_mvcc_key(b"/t/%06d" % i, wall + i), b"v%d" % i * 7) for i in range(3000)]
    data = write_sst(entries, block_size=2048, compression=compression)
    assert list(read_sst(data)) == entries
    assert check_sst(data) == 3000


def test_snappy_shrinks_compressible_blocks() -> None:
    entries = [(b"key%06d" % i, b"a" * 200) for i in range(200)]
    packed = write_sst(entries, comparer=BYTEWISE_COMPARATOR)
    plain = write_sst(entries, comparer=BYTEWISE_COMPARATOR, compression="none")
    assert len(packed) < len(plain) // 4
    assert list(read_sst(packed)) == entries


def test_keys_out_of_order_or_duplicated_are_rejected() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        write_sst([(b"b", b""), (b"a", b"")], comparer=BYTEWISE_COMPARATOR)
    with pytest.raises(ValueError, match="strictly increasing"):
        write_sst([(b"a", b""), (b"a", b"")], comparer=BYTEWISE_COMPARATOR)


def test_engine_order_puts_newer_versions_first() -> None:
    new, old = encode_mvcc_key(b"a", 20), encode_mvcc_key(b"a", 10)
    assert check_sst(write_sst([(new, b"2"), (old, b"1")])) == 2
    with pytest.raises(ValueError):
        write_sst([(old, b"1"), (new, b"2")])


# --- corruption -----------------------------------------------------------------------------------


def test_corrupt_data_block_fails_with_the_file_name() -> None:
    entries = [(b"k%03d" % i, b"v") for i in range(50)]
    data = bytearray(write_sst(entries, comparer=BYTEWISE_COMPARATOR))
    data[10] ^= 0x01
    with pytest.raises(FormatError, match=r"data/1\.sst: data block .*checksum mismatch"):
        list(read_sst(bytes(data), name="data/1.sst"))
    with pytest.raises(FormatError, match="checksum mismatch"):
        check_sst(bytes(data), name="data/1.sst")


def test_truncated_and_foreign_files_fail() -> None:
    data = write_sst(KVS, comparer=BYTEWISE_COMPARATOR)
    with pytest.raises(FormatError, match="x.sst"):
        list(read_sst(data[:-1], name="x.sst"))
    with pytest.raises(FormatError, match="too short"):
        list(read_sst(b"tiny"))
    with pytest.raises(FormatError, match="bad footer magic"):
        list(read_sst(b"\0" * 100))


def test_check_counts_against_the_properties_and_order() -> None:
    # A hand table whose keys are out of order reads, but does not check.
    data = hand_table([(b"b", b"1"), (b"a", b"2")])
    assert [k for k, _ in read_sst(data)] == [b"b", b"a"]
    with pytest.raises(FormatError, match="out of order"):
        check_sst(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_format_error(blob: bytes) -> None:
    pebble_v2 = blob.ljust(60, b"\0") + b"\0\0\0\2" + PEBBLE_MAGIC
    for candidate in (blob, blob + PEBBLE_MAGIC, pebble_v2):
        try:
            list(read_sst(candidate))
            check_sst(candidate)
        except FormatError:
            pass


_VALID = write_sst(
    [(b"k%03d" % i, b"v" * (i % 9)) for i in range(120)],
    block_size=256,
    comparer=BYTEWISE_COMPARATOR,
)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(_VALID) * 8 - 1))
def test_bit_flips_of_a_valid_table_are_caught(bit: int) -> None:
    data = bytearray(_VALID)
    data[bit // 8] ^= 1 << (bit % 8)
    try:
        entries = list(read_sst(bytes(data)))
        count = check_sst(bytes(data))
    except FormatError:
        return
    # Some footer padding bytes are not covered by any checksum: the content must be intact.
    assert count == len(entries) == 120


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(st.binary(max_size=40), st.binary(max_size=300), max_size=80),
    st.integers(64, 4096),
)
def test_round_trip_property(kv: dict[bytes, bytes], block_size: int) -> None:
    entries = sorted(kv.items())
    data = write_sst(entries, block_size=block_size, comparer=BYTEWISE_COMPARATOR)
    assert list(read_sst(data)) == entries
    assert check_sst(data) == len(entries)


# --- formats CockroachDB wrote, built by hand -----------------------------------------------------


@pytest.mark.parametrize(
    ("magic", "version", "expected"),
    [
        (ROCKSDB_MAGIC, 2, "(RocksDB,v2)"),
        (LEVELDB_MAGIC, 0, "(LevelDB)"),
        (PEBBLE_MAGIC, 1, "(Pebble,v1)"),
    ],
)
def test_hand_built_tables_of_older_formats_read(magic: bytes, version: int, expected: str) -> None:
    data = hand_table(KVS, magic=magic, version=version)
    assert table_format(data) == expected
    assert list(read_sst(data)) == KVS
    assert check_sst(data) == 3


def test_snappy_block_built_with_cramjam_reads() -> None:
    data = hand_table(KVS, compress=lambda b: bytes(cramjam.snappy.compress_raw(b)), indicator=1)
    assert list(read_sst(data)) == KVS


def test_zstd_block_with_pebble_length_prefix_reads() -> None:
    def pebble_zstd(block: bytes) -> bytes:
        return uvarint(len(block)) + bytes(cramjam.zstd.compress(block))

    data = hand_table(KVS, compress=pebble_zstd, indicator=7)
    assert list(read_sst(data)) == KVS


def test_pebble_v4_value_prefix_and_restart_flag_are_stripped() -> None:
    data = hand_table(KVS, magic=PEBBLE_MAGIC, version=4, value_prefix=True)
    assert list(read_sst(data)) == KVS


def test_pebble_v8_and_unknown_compressions_are_refused() -> None:
    message = r"f\.sst: SST table format \(Pebble,v8\) is not supported"
    with pytest.raises(FormatError, match=message):
        list(read_sst(hand_table(KVS, magic=PEBBLE_MAGIC, version=8), name="f.sst"))
    with pytest.raises(FormatError, match="lz4 block compression is not supported"):
        list(read_sst(hand_table(KVS, indicator=4)))


def test_xxhash64_checksum_type_is_named() -> None:
    data = bytearray(hand_table(KVS))
    data[-53] = 3  # checksum type xxhash64: the crc32c trailers now mismatch
    with pytest.raises(FormatError, match="checksum mismatch"):
        list(read_sst(bytes(data)))
