"""Tables written by engine/formats/colblk_write, read back by the project's SST reader
(engine/formats/sst.py with engine/formats/colblk, written separately by the colreader helper)
and checked by its check_sst, for Pebble v5, v6 and v7.

This proves the two sides agree; that the bytes are Pebble's is proven against Pebble's own
testdata and tables in test_colblk_write_blocks.py and test_colblk_write_tables.py.
"""

from __future__ import annotations

import struct

import pytest

from engine.errors import FormatError
from engine.formats import sst
from engine.formats.colblk_write import write_columnar_sst
from engine.formats.mvcc import encode_mvcc_key


def _entries() -> list[tuple[bytes, bytes]]:
    """Unversioned keys, wall-only and wall+logical timestamps, several versions of one key,
    a lock-table style untyped version, empty and long values."""
    out = [(b"\x04\x00", b"unversioned-range-local")]
    for i in range(3000):
        key = b"\xf0\x89\x88" + i.to_bytes(4, "big")
        if i % 10 == 0:
            out.append((encode_mvcc_key(key), b""))  # unversioned
        versions = [(1_700_000_000_000_000_000 + 10 * i, 0)] if i % 3 else [
            (1_700_000_000_000_000_900 + i, 7), (1_700_000_000_000_000_500 + i, 0)
        ]
        for wall, logical in versions:
            out.append((encode_mvcc_key(key, wall, logical), bytes([i % 256]) * (i % 97)))
    lock = b"\xf1lock\x00" + b"\x01" + bytes(16) + bytes([18])  # 17-byte untyped version
    out.append((lock, b"lock"))
    return out


ENTRIES = _entries()


@pytest.mark.parametrize("version", [5, 6, 7])
@pytest.mark.parametrize("compression", ["snappy", "none"])
@pytest.mark.parametrize("block_size, index_block_size", [(128 << 10, 256 << 10), (2048, 256)])
def test_reader_reads_back_what_we_write(version, compression, block_size, index_block_size):
    data = write_columnar_sst(
        ENTRIES, table_format=f"pebble,v{version}", compression=compression,
        block_size=block_size, index_block_size=index_block_size,
    )
    assert sst.table_format(data) == f"(Pebble,v{version})"
    assert list(sst.read_sst(data)) == ENTRIES
    assert sst.check_sst(data, name="ours.sst") == len(ENTRIES)
    props = sst.sst_properties(data)
    assert props["pebble.colblk.schema"] == b"crdb1"
    two_level = struct.unpack("<I", props["rocksdb.block.based.table.index.type"])[0] == 2
    assert two_level == (index_block_size == 256)


@pytest.mark.parametrize("version", [5, 6, 7])
def test_empty_tables_check(version):
    data = write_columnar_sst([], table_format=f"pebble,v{version}")
    assert sst.check_sst(data) == 0 and list(sst.read_sst(data)) == []


@pytest.mark.parametrize("version", [5, 6, 7])
def test_reader_rejects_our_tables_when_damaged(version):
    data = bytearray(write_columnar_sst(ENTRIES[:500], table_format=f"pebble,v{version}", block_size=2048))
    spots = [100, len(data) // 2]  # inside data blocks
    if version >= 6:
        spots.append(len(data) - 30)  # footer padding: covered by the v6+ footer checksum only
    for at in spots:
        bad = bytearray(data)
        bad[at] ^= 0x40
        with pytest.raises(FormatError, match="ours.sst"):
            sst.check_sst(bytes(bad), name="ours.sst")


@pytest.mark.parametrize("version", [5, 6, 7])
def test_bytewise_tables_use_pebbles_default_key_schema(version):
    entries = [(b"k%05d" % i + b"\x00", b"v%d" % i) for i in range(3000)]
    data = write_columnar_sst(
        entries, table_format=version, comparer="leveldb.BytewiseComparator", block_size=2048
    )
    assert list(sst.read_sst(data)) == entries
    assert sst.check_sst(data) == len(entries)
    props = sst.sst_properties(data)
    assert props["pebble.colblk.schema"] == b"DefaultKeySchema(leveldb.BytewiseComparator,16)"
    assert props["rocksdb.comparator"] == b"leveldb.BytewiseComparator"


@pytest.mark.parametrize(
    "release, version", [("25.1", 5), ("25.2", 5), ("25.2", 6), ("25.3", 6), ("25.3", 7), ("25.4", 7)]
)
def test_every_release_layout_reads_back(release, version):
    data = write_columnar_sst(ENTRIES, table_format=version, crdb_release=release, block_size=4096)
    assert list(sst.read_sst(data)) == ENTRIES
    assert sst.check_sst(data) == len(ENTRIES)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("version", [5, 6, 7])
def test_random_tables_read_back(seed, version):
    from tests.formats.test_colblk_write_tables import _random_entries

    entries = _random_entries(seed, 2000)
    data = write_columnar_sst(entries, table_format=version, block_size=4096, index_block_size=1024)
    assert list(sst.read_sst(data)) == entries
    assert sst.check_sst(data) == len(entries)
