"""write_sst(table_format=4): Pebble v4 row tables, as CockroachDB 24.1-24.3 writes backup SSTs
(value blocks disabled, cockroach PR #118340).

The v3+ data block rules are taken from Pebble's writer (cockroachdb/pebble f82e3ff7:
sstable/rowblk_writer.go makeAddPointDecisionV3 / addPoint, sstable/rowblk/rowblk_writer.go
storeWithOptionalValuePrefix, sstable/block/kv.go ValuePrefix) and, so that they are not only
our reading of that code, first checked on a v4 table Pebble wrote with CockroachDB keys
(tool/testdata/cr-schema-db/000005.sst); our output must satisfy the same rules.
"""

from __future__ import annotations

import struct

import pytest

from engine.formats.mvcc import encode_mvcc_key
from engine.formats.sst import check_sst, read_sst, sst_properties, table_format, write_sst
from engine.formats.sst_reader import Table
from tests.formats.pebble_testdata import fixture


def uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def split(key: bytes) -> int:
    """cockroachkvs.Split: the engine key less its version."""
    return len(key) - key[-1]


def block_rules(block: bytes, prev_user: bytes) -> bytes:
    """Assert Pebble's v3+ row data block rules on one decompressed block, given the previous
    block's last user key; returns this block's last user key.
    - an entry shares at most the previous key's prefix (Split) with it;
    - a SET's value prefix byte has 0x20 set iff its key prefix equals the previous SET's in
      the table (the previous block's last key, for a block's first entry);
    - restart offsets carry the top bit iff every entry since the previous restart, up to and
      including this one, had the same-prefix bit (the first restart never does)."""
    (n,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * n
    restarts = struct.unpack_from(f"<{n}I", block, limit)
    offsets = {r & 0x7FFFFFFF: r >> 31 for r in restarts}
    pos, prev_key, same_since, first = 0, b"", False, True
    while pos < limit:
        at = pos
        shared, pos = uvarint(block, pos)
        unshared, pos = uvarint(block, pos)
        vlen, pos = uvarint(block, pos)
        key = prev_key[:shared] + block[pos : pos + unshared]
        value = block[pos + unshared : pos + unshared + vlen]
        pos += unshared + vlen
        user, kind = key[:-8], key[-8]
        assert kind == 1  # SET
        same = bool(prev_user) and prev_user[: split(prev_user)] == user[: split(user)]
        if prev_key:
            assert shared <= split(prev_key[:-8])
        assert bool(value[0] & 0x20) == same
        if not same:
            same_since = False
        if at in offsets:
            assert offsets[at] == (0 if first else int(same_since))
            same_since, first = True, False
        prev_key, prev_user = key, user
    return prev_user


def data_blocks(data: bytes) -> list[bytes]:
    table = Table(data, "x")
    return [table.read_block(h, "data") for _, h in table.data_handles()]


def test_the_rules_hold_on_a_v4_table_pebble_wrote() -> None:
    data = fixture("tool/testdata/cr-schema-db/000005.sst")
    assert table_format(data) == "(Pebble,v4)"
    last = b""
    for block in data_blocks(data):
        last = block_rules(block, last)


def revisions() -> list[tuple[bytes, bytes]]:
    """Keys with many versions (BACKUP ... WITH revision_history), newest first per key."""
    out = []
    for k in range(40):
        for v in range(40 if k % 7 == 0 else 1, 0, -1):
            key = encode_mvcc_key(b"/Table/104/1/%04d/0" % k, 10**18 + v * 1000 + (v % 3))
            out.append((key, b"value-%d-%d" % (k, v)))
    return out


@pytest.mark.parametrize("compression", ["snappy", "none"])
def test_our_v4_tables_follow_the_same_rules_and_read_back(compression: str) -> None:
    entries = revisions()
    data = write_sst(entries, table_format=4, block_size=2048, compression=compression)
    assert table_format(data) == "(Pebble,v4)"
    assert data[-12:-8] == struct.pack("<I", 4)
    blocks = data_blocks(data)
    assert len(blocks) > 3
    flagged, last = 0, b""
    for block in blocks:
        last = block_rules(block, last)
        (n,) = struct.unpack_from("<I", block, len(block) - 4)
        flagged += sum(r >> 31 for r in struct.unpack_from(f"<{n}I", block, len(block) - 4 - 4 * n))
    assert flagged > 0  # 40 versions of one key span whole restart intervals
    assert list(read_sst(data)) == entries
    assert check_sst(data, name="v4.sst") == len(entries)


def test_v4_properties_are_a_subset_of_what_pebble_writes_for_v4() -> None:
    ours = sst_properties(write_sst(revisions()[:10], table_format=4))
    pebble = sst_properties(fixture("tool/testdata/cr-schema-db/000005.sst"))
    assert set(ours) <= set(pebble)
    assert ours["obsolete-key"] == pebble["obsolete-key"] == b"\x00"
    assert ours["rocksdb.property.collectors"] == pebble["rocksdb.property.collectors"]
    assert ours["rocksdb.merge.operator"] == b"nullptr"  # CockroachDB's backup writer's choice


def test_v2_stays_the_default_and_other_formats_are_refused() -> None:
    assert table_format(write_sst(revisions()[:3])) == "(Pebble,v2)"
    assert "obsolete-key" not in sst_properties(write_sst(revisions()[:3]))
    with pytest.raises(ValueError, match="table_format"):
        write_sst([], table_format=7)
    empty = write_sst([], table_format=4)
    assert list(read_sst(empty)) == [] and check_sst(empty) == 0
