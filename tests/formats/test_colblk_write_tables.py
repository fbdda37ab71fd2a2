"""Whole columnar tables: ours decoded by an independent reader, and Pebble's own v7 table
(CockroachDB key schema) re-encoded by our encoders byte for byte.

The reader below is written for this test only, from Pebble's layout descriptions in
cockroachdb/pebble@f82e3ff74d10b1f33df146eefc5661518f868542: sstable/table.go (footer, block
trailers), sstable/format.go (v5-v7), sstable/colblk/{block,uints,bitmap,raw_bytes,
prefix_bytes,data_block,index_block,key_value_block}.go, cockroachkvs/cockroachkvs.go
(KeySchema crdb1, AppendTimestamp), sstable/properties.go, sstable/attributes.go. It shares no
code with engine/formats/colblk_write or the project's other SST readers.

Pebble's table: tool/testdata/cr-schema-sst/000014.sst at the same commit (tests/fixtures/pebble,
see test_colblk_write_blocks.pebble_bytes).
"""

from __future__ import annotations

import struct

import cramjam
import google_crc32c
import pytest

from engine.formats.colblk_write import write_columnar_sst
from engine.formats.colblk_write.blocks import DataBlockEncoder, IndexBlockWriter, KeyValueBlockWriter
from engine.formats.colblk_write.table import _separator, _successor, encode_footer
from engine.formats.mvcc import encode_mvcc_key
from tests.formats.test_colblk_write_blocks import pebble_bytes

MAGIC = b"\xf0\x9f\xaa\xb3\xf0\x9f\xaa\xb3"


# --- an independent minimal reader ------------------------------------------------------------


def _crc(data: bytes) -> int:
    c = google_crc32c.value(bytes(data))
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _uvarint(b: bytes, pos: int) -> tuple[int, int]:
    v = s = 0
    while True:
        x = b[pos]
        pos += 1
        v |= (x & 0x7F) << s
        if x < 0x80:
            return v, pos
        s += 7


def read_footer(data: bytes) -> dict:
    assert data[-8:] == MAGIC
    version = struct.unpack("<I", data[-12:-8])[0]
    flen = {5: 53, 6: 57, 7: 61}[version]
    f = data[-flen:]
    out = {"version": version, "checksum_type": f[0]}
    mo, p = _uvarint(f, 1)
    ml, p = _uvarint(f, p)
    io, p = _uvarint(f, p)
    il, p = _uvarint(f, p)
    out["metaindex"], out["index"] = (mo, ml), (io, il)
    pad_end = flen - 12
    if version >= 6:
        ck = flen - 16
        assert struct.unpack("<I", f[ck : ck + 4])[0] == _crc(f[:ck] + f[ck + 4 :]), "footer crc"
        pad_end = ck
        if version == 7:
            out["attributes"] = struct.unpack("<I", f[ck - 4 : ck])[0]
            pad_end = ck - 4
    assert not any(f[p:pad_end]), "footer padding is not zero"
    return out


def read_block(data: bytes, handle: tuple[int, int]) -> tuple[bytes, int]:
    off, n = handle
    typed = data[off : off + n + 1]
    assert struct.unpack("<I", data[off + n + 1 : off + n + 5])[0] == _crc(typed), f"crc @{off}"
    if typed[-1] == 0:
        return bytes(typed[:-1]), 0
    assert typed[-1] == 1, f"compression {typed[-1]}"
    return bytes(cramjam.snappy.decompress_raw(bytes(typed[:-1]))), 1


def read_row_block(b: bytes) -> list[tuple[bytes, bytes]]:
    n = struct.unpack("<I", b[-4:])[0]
    limit, pos, key, out = len(b) - 4 - 4 * n, 0, b"", []
    while pos < limit:
        sh, pos = _uvarint(b, pos)
        un, pos = _uvarint(b, pos)
        vl, pos = _uvarint(b, pos)
        key = key[:sh] + b[pos : pos + un]
        pos += un
        out.append((key, b[pos : pos + vl]))
        pos += vl
    return out


def _align(o: int, a: int) -> int:
    return (o + a - 1) // a * a


def _uints(b: bytes, off: int, rows: int):
    if rows == 0:
        return [], off
    enc = b[off]
    off += 1
    base = 0
    if enc & 0x80:
        base = struct.unpack("<Q", b[off : off + 8])[0]
        off += 8
    w = enc & 0x7F
    if w == 0:
        return [base] * rows, off
    off = _align(off, w)
    vals = struct.unpack(f"<{rows}{ {1: 'B', 2: 'H', 4: 'I', 8: 'Q'}[w] }", b[off : off + rows * w])
    return [base + v for v in vals], off + rows * w


def _raw(b: bytes, off: int, rows: int):
    if rows == 0:
        return [], off
    offs, off = _uints(b, off, rows + 1)
    return [b[off + offs[i] : off + offs[i + 1]] for i in range(rows)], off + offs[rows]


def _bitmap(b: bytes, off: int, rows: int):
    if b[off] == 1:
        return [False] * rows, off + 1
    assert b[off] == 0
    off = _align(off + 1, 8)
    nw = (rows + 63) // 64
    words = struct.unpack(f"<{nw}Q", b[off : off + 8 * nw])
    return [bool(words[i >> 6] >> (i & 63) & 1) for i in range(rows)], off + 8 * (nw + (nw + 63) // 64)


def _prefix(b: bytes, off: int, rows: int):
    if rows == 0:
        return [], off
    bundle = 1 << b[off]
    n = 1 + (rows + bundle - 1) // bundle + rows
    offs, off = _uints(b, off + 1, n)
    data = b[off:]

    def sl(i):
        return data[(offs[i - 1] if i else 0) : offs[i]]

    keys = []
    for r in range(rows):
        bi = 1 + (r // bundle) * (bundle + 1)
        i = bi + 1 + r % bundle
        while i > bi + 1 and offs[i] == offs[i - 1]:
            i -= 1
        keys.append(sl(0) + sl(bi) + sl(i))
    return keys, off + offs[n - 1]


def read_columnar(b: bytes, custom: int = 0) -> list[list]:
    assert b[custom] == 1, "columnar block version"
    cols, rows = struct.unpack("<HI", b[custom + 1 : custom + 7])
    decoders = {1: _bitmap, 2: _uints, 3: _raw, 4: _prefix}
    out = []
    for c in range(cols):
        h = custom + 7 + 5 * c
        start = struct.unpack("<I", b[h + 1 : h + 5])[0]
        nxt = struct.unpack("<I", b[h + 6 : h + 10])[0] if c + 1 < cols else len(b) - 1
        vals, end = decoders[b[h]](b, start, rows)
        assert end == nxt, f"column {c} ends at {end}, next page at {nxt}"
        out.append(vals)
    assert b[-1] == 0, "block padding byte"
    return out


def crdb_rows(block: bytes) -> list[tuple[bytes, int, bytes, bool, bool]]:
    """(engine key, trailer, stored value, value is external, obsolete) per row of a crdb1 block."""
    roach, wall, logical, untyped, trailers, _changed, values, ext, obs = read_columnar(block, 5)
    rows = []
    for i in range(len(roach)):
        key = roach[i] + b"\x00"
        if untyped[i]:
            key += untyped[i] + bytes([len(untyped[i]) + 1])
        elif logical[i]:
            key += struct.pack(">QI", wall[i], logical[i]) + b"\x0d"
        elif wall[i]:
            key += struct.pack(">Q", wall[i]) + b"\x09"
        rows.append((key, trailers[i], values[i], ext[i], obs[i]))
    return rows


def read_table(data: bytes) -> dict:
    """Footer, metaindex, properties, index (one or two levels) and every data block's rows."""
    foot = read_footer(data)
    meta_raw, meta_comp = read_block(data, foot["metaindex"])
    assert meta_comp == 0, "the metaindex is never compressed"
    if foot["version"] >= 6:
        keys, vals = read_columnar(meta_raw)
        meta = dict(zip(keys, vals))
    else:
        meta = dict(read_row_block(meta_raw))
    ph = meta[b"rocksdb.properties"]
    o, p = _uvarint(ph, 0)
    n, _ = _uvarint(ph, p)
    props_raw, props_comp = read_block(data, (o, n))
    if foot["version"] >= 7:
        props = dict(zip(*read_columnar(props_raw)))
    else:
        assert props_comp == 0, "v5/v6 properties are stored uncompressed"
        props = dict(read_row_block(props_raw))
    top, _ = read_block(data, foot["index"])
    seps, offs, lens, bprops = read_columnar(top)
    two_level = struct.unpack("<I", props[b"rocksdb.block.based.table.index.type"])[0] == 2
    entries = []
    for s, o, n, bp in zip(seps, offs, lens, bprops):
        if two_level:
            part, _ = read_block(data, (o, n))
            entries.extend(zip(*read_columnar(part)))
        else:
            entries.append((s, o, n, bp))
    blocks = []
    for sep, o, n, _bp in entries:
        raw, _ = read_block(data, (o, n))
        blocks.append((sep, (o, n), raw, crdb_rows(raw)))
    return {"footer": foot, "meta": meta, "props": props, "blocks": blocks, "two_level": two_level,
            "block_props": [e[3] for e in entries], "partition_props": bprops if two_level else []}


def decode_block_props(raw: bytes) -> dict[int, bytes]:
    """sstable block properties: (collector id byte, uvarint length, value) repeated."""
    out, pos = {}, 0
    while pos < len(raw):
        cid = raw[pos]
        n, pos = _uvarint(raw, pos + 1)
        out[cid] = raw[pos : pos + n]
        pos += n
    return out


def decode_interval(raw: bytes) -> tuple[int, int] | None:
    if not raw:
        return None
    lower, p = _uvarint(raw, 0)
    span, p = _uvarint(raw, p)
    assert p == len(raw)
    return lower, lower + span


def wall_times(rows) -> list[int]:
    return [int.from_bytes(k[-9 - (4 if k[-1] == 13 else 0) : -1 - (4 if k[-1] == 13 else 0)], "big")
            for k, *_ in rows if k[-1] in (9, 13)]


def bloom_may_contain(filt: bytes, key: bytes) -> bool:
    """Pebble's cache-line bloom probe (sstable/tablefilters/bloom/bits.go mayContain)."""
    from engine.formats.colblk_write.ingest import bloom_hash

    probes, lines = filt[-5], struct.unpack("<I", filt[-4:])[0]
    h = bloom_hash(key)
    delta = ((h >> 17) | (h << 15)) & 0xFFFFFFFF
    base = (h % lines) * 64
    for _ in range(probes):
        if not filt[base + ((h >> 3) & 63)] & (1 << (h & 7)):
            return False
        h = (h + delta) & 0xFFFFFFFF
    return True


# --- our tables ----------------------------------------------------------------------------------


def _enc_interval(lower: int, upper: int) -> bytes:
    from engine.formats.colblk_write.blocks import uvarint

    return uvarint(lower) + uvarint(upper - lower)


def _entries(n: int, value_len: int = 40):
    out = []
    for i in range(n):
        key = b"\xf0\x89\x88" + i.to_bytes(4, "big")  # /Table/104/1/<i>-like roach keys
        ts = (1_700_000_000_000_000_000 + i * 7, i % 3)
        out.append((encode_mvcc_key(key, *ts), bytes([i % 251]) * (value_len + i % 13)))
    return out


@pytest.mark.parametrize("version", [5, 6, 7])
@pytest.mark.parametrize("compression", ["snappy", "none"])
@pytest.mark.parametrize("writer", ["ingestion", "transport"])
def test_our_tables_decode_to_the_entries(version, compression, writer):
    entries = _entries(3000)
    data = write_columnar_sst(
        entries, table_format=f"pebble,v{version}", compression=compression, block_size=8192,
        writer=writer,
    )
    t = read_table(data)
    assert t["footer"]["version"] == version and t["footer"]["checksum_type"] == 1
    got = [(k, v) for *_, rows in t["blocks"] for k, tr, v, ext, obs in rows]
    assert got == entries
    assert all(tr == 1 and not ext and not obs for *_, rows in t["blocks"] for _k, tr, _v, ext, obs in rows)
    props = t["props"]
    assert props[b"rocksdb.comparator"] == b"cockroach_comparator"
    assert props[b"pebble.colblk.schema"] == b"crdb1"
    assert props[b"rocksdb.num.entries"] == bytes([0xB8, 0x17])  # uvarint 3000
    assert _uvarint(props[b"rocksdb.num.data.blocks"], 0)[0] == len(t["blocks"]) > 10
    assert props[b"rocksdb.compression"] == (b"Snappy" if compression == "snappy" else b"NoCompression")
    if writer == "transport":
        assert props[b"rocksdb.property.collectors"] == b"[obsolete-key]"
        assert props[b"obsolete-key"] == b"\x00" and set(t["meta"]) == {b"rocksdb.properties"}
        assert props[b"rocksdb.filter.size"] == b"\x00" and b"rocksdb.filter.policy" not in props
        assert all(bp == b"" for bp in t["block_props"])
    else:
        assert props[b"rocksdb.property.collectors"] == b"[MVCCTimeInterval,obsolete-key]"
        assert props[b"obsolete-key"] == b"\x01"
        walls = [w for *_, rows in t["blocks"] for w in wall_times(rows)]
        assert props[b"MVCCTimeInterval"][:1] == b"\x00"
        assert decode_interval(props[b"MVCCTimeInterval"][1:]) == (min(walls), max(walls) + 1)
        for bp, (*_, rows) in zip(t["block_props"], t["blocks"]):
            w = wall_times(rows)
            assert decode_block_props(bp) == {0: _enc_interval(min(w), max(w) + 1)}
        assert props[b"rocksdb.filter.policy"] == b"rocksdb.BuiltinBloomFilter"
        fh = t["meta"][b"fullfilter.rocksdb.BuiltinBloomFilter"]
        o, p = _uvarint(fh, 0)
        filt, comp = read_block(data, (o, _uvarint(fh, p)[0]))
        assert comp == 0 and _uvarint(props[b"rocksdb.filter.size"], 0)[0] == len(filt)
        assert all(bloom_may_contain(filt, k[: len(k) - k[-1]]) for k, _v in entries)
        misses = sum(bloom_may_contain(filt, b"absent%d\x00" % i) for i in range(2000))
        assert misses < 100  # ~1% false positives at 10 bits per key
    data_size = _uvarint(props[b"rocksdb.data.size"], 0)[0]
    last = t["blocks"][-1][1]
    assert data_size == last[0] + last[1] + 5
    # every separator bounds its block and sorts below the next block's first key
    for (sep, _h, _r, rows), nxt in zip(t["blocks"], t["blocks"][1:] + [None]):
        assert rows[-1][0][:-1] <= sep or sep.startswith(rows[-1][0][: len(sep) - 1])
        if nxt is not None:
            assert sep < nxt[3][0][0] or sep == rows[-1][0]
    if version == 7:
        assert t["footer"]["attributes"] == 0x80  # PointKeys
    if compression == "snappy":
        assert any(read_block(data, h)[1] == 1 for _s, h, _r, _rows in t["blocks"])


@pytest.mark.parametrize("version", [5, 6, 7])
def test_two_level_index_when_the_index_outgrows_its_block(version):
    entries = _entries(2000)
    data = write_columnar_sst(
        entries, table_format=f"pebble,v{version}", block_size=1024, index_block_size=512
    )
    t = read_table(data)
    assert t["two_level"]
    assert [(k, v) for *_, rows in t["blocks"] for k, _t, v, _e, _o in rows] == entries
    parts = _uvarint(t["props"][b"rocksdb.index.partitions"], 0)[0]
    assert parts > 2 and len(t["partition_props"]) == parts
    # each top-level entry carries its partition's MVCC interval; together they cover the table
    ivs = [decode_interval(decode_block_props(p)[0]) for p in t["partition_props"]]
    walls = [w for *_, rows in t["blocks"] for w in wall_times(rows)]
    assert min(lo for lo, _ in ivs) == min(walls) and max(hi for _, hi in ivs) == max(walls) + 1
    if version == 7:
        assert t["footer"]["attributes"] == 0x80 | 0x20  # PointKeys, TwoLevelIndex


@pytest.mark.parametrize("version", [5, 6, 7])
def test_empty_table(version):
    t = read_table(write_columnar_sst([], table_format=f"pebble,v{version}", writer="transport"))
    assert t["blocks"] == []
    assert t["props"][b"rocksdb.num.entries"] == b"\x00"
    assert t["props"][b"obsolete-key"] == b"\x00t"  # no live key in the table
    data = write_columnar_sst([], table_format=f"pebble,v{version}")  # ingestion
    ti = read_table(data)
    assert ti["props"][b"obsolete-key"] == b"\x01t" and ti["props"][b"MVCCTimeInterval"] == b"\x00"
    fh = ti["meta"][b"fullfilter.rocksdb.BuiltinBloomFilter"]
    o, p = _uvarint(fh, 0)
    assert read_block(data, (o, _uvarint(fh, p)[0]))[0] == bytes(5)  # Pebble 25.x's empty filter
    if version == 7:
        assert t["footer"]["attributes"] == 0


def test_bad_input_is_refused_naming_the_entry():
    good = _entries(3)
    with pytest.raises(ValueError, match="entry 2"):
        write_columnar_sst([good[0], good[2], good[1]])
    with pytest.raises(ValueError, match="entry 1"):
        write_columnar_sst([good[0], (b"no-sentinel\x05", b"")])
    with pytest.raises(ValueError, match="pebble,v9"):
        write_columnar_sst(good, table_format="pebble,v9")
    with pytest.raises(ValueError, match="compression"):
        write_columnar_sst(good, compression="zstd")


def test_versions_differ_only_where_pebble_says():
    entries = _entries(500)
    v5, v6, v7 = (write_columnar_sst(entries, table_format=f"pebble,v{v}") for v in (5, 6, 7))
    t5, t6, t7 = read_table(v5), read_table(v6), read_table(v7)
    # identical data and index blocks in all three versions
    assert [b[2] for b in t5["blocks"]] == [b[2] for b in t6["blocks"]] == [b[2] for b in t7["blocks"]]
    # v5/v6 share the row-format properties block; v7's is columnar with the same contents
    assert t5["props"] == t6["props"]
    assert t7["props"].keys() == t5["props"].keys()
    assert len(v5) - v5.index(MAGIC) != 0 and v5[-53:-52] == b"\x01" and v7[-61:-60] == b"\x01"


# --- Pebble's own v7 table, re-encoded ----------------------------------------------------------


@pytest.fixture(scope="module")
def pebble_v7():
    data = pebble_bytes("tool/testdata/cr-schema-sst/000014.sst")
    return data, read_table(data)


def test_reader_reads_pebbles_v7_table(pebble_v7):
    data, t = pebble_v7
    assert t["footer"]["version"] == 7
    assert t["props"][b"pebble.colblk.schema"] == b"crdb1"
    assert t["props"][b"rocksdb.comparator"] == b"cockroach_comparator"
    assert sum(len(b[3]) for b in t["blocks"]) == 20 == _uvarint(t["props"][b"rocksdb.num.entries"], 0)[0]


def test_pebbles_data_blocks_reencode_byte_for_byte(pebble_v7):
    """Every data block: its rows (plus, as Pebble's writer had it, the next block's first row
    added and then left out) through our DataBlockEncoder give Pebble's exact bytes."""
    _data, t = pebble_v7
    blocks = t["blocks"]
    for i, (_sep, _h, raw, rows) in enumerate(blocks):
        enc = DataBlockEncoder()
        extra = [blocks[i + 1][3][0]] if i + 1 < len(blocks) else []
        prev = blocks[i - 1][3][-1][0] if i else None
        for key, trailer, value, ext, obs in rows + extra:
            # as Pebble's writer: "same prefix" is judged against the table's previous key
            same = prev is not None and prev[: len(prev) - prev[-1]] == key[: len(key) - key[-1]]
            enc.add(key, trailer, value, obsolete=obs, external=ext, prefix_equal=same)
            prev = key
        block, last_key, _ = enc.finish(len(rows))
        assert block == raw, f"data block {i} differs"
        assert last_key == rows[-1][0]


def test_pebbles_separators_are_ours(pebble_v7):
    _data, t = pebble_v7
    blocks = t["blocks"]
    for i, (sep, _h, _raw, rows) in enumerate(blocks):
        last = rows[-1][0]
        want = _separator(last, blocks[i + 1][3][0][0]) if i + 1 < len(blocks) else _successor(last)
        assert sep == want, f"separator {i}"


def test_pebbles_index_metaindex_properties_and_footer_reencode(pebble_v7):
    data, t = pebble_v7
    foot = t["footer"]
    top_raw, _ = read_block(data, foot["index"])
    seps, offs, lens, bprops = read_columnar(top_raw)
    parts = []
    for s, o, n, bp in zip(seps, offs, lens, bprops):
        raw, _ = read_block(data, (o, n))
        parts.append((raw, list(zip(*read_columnar(raw)))))
    # second-level blocks: Pebble added the next entry, then finished without it
    for i, (raw, entries) in enumerate(parts):
        w = IndexBlockWriter()
        for e in entries + (parts[i + 1][1][:1] if i + 1 < len(parts) else []):
            w.add(*e)
        assert w.finish(len(entries)) == raw, f"index partition {i}"
    top = IndexBlockWriter()
    for e in zip(seps, offs, lens, bprops):
        top.add(*e)
    assert top.finish() == top_raw
    kv = KeyValueBlockWriter()
    for k, v in t["props"].items():
        kv.add(k, v)
    o, p = _uvarint(t["meta"][b"rocksdb.properties"], 0)
    assert kv.finish() == read_block(data, (o, _uvarint(t["meta"][b"rocksdb.properties"], p)[0]))[0]
    meta = KeyValueBlockWriter()
    for k, v in t["meta"].items():
        meta.add(k, v)
    assert meta.finish() == read_block(data, foot["metaindex"])[0]
    assert encode_footer(7, foot["metaindex"], foot["index"], foot["attributes"]) == data[-61:]


def test_pebbles_stored_blocks_are_our_compression_and_trailers(pebble_v7):
    """Stored bytes (snappy or not, per the 12% rule, plus type byte and masked CRC-32C) of
    every data, index and properties block of Pebble's table equal what our layout writes
    for the decoded block."""
    from engine.formats.colblk_write.table import _Layout

    data, t = pebble_v7
    foot = t["footer"]
    handles = [h for _s, h, _r, _rows in t["blocks"]] + [foot["index"]]
    seps, offs, lens, _bp = read_columnar(read_block(data, foot["index"])[0])
    handles += list(zip(offs, lens))
    ph = t["meta"][b"rocksdb.properties"]
    o, p = _uvarint(ph, 0)
    handles.append((o, _uvarint(ph, p)[0]))
    kinds = set()
    for off, n in handles:
        raw, kind = read_block(data, (off, n))
        kinds.add(kind)
        layout = _Layout("snappy")
        layout.write(raw, compress=True)
        assert bytes(layout.out) == data[off : off + n + 5], f"stored block at {off}"
    assert kinds == {0, 1}  # both outcomes of the min-reduction rule occur


# --- per CockroachDB release ----------------------------------------------------------------
# What each release's Pebble writes, read in cockroachdb/pebble branches crl-release-25.1
# (4e435b53e648f407db5a38678696817c86a9025f), crl-release-25.2 (98f59c2f3f54ffca75b9c6ae9f2439799df54e38),
# crl-release-25.3 (733628513970842ee22fde0875531695c4b33693), crl-release-25.4
# (22899134eb7a517467e66b526f884299535d423f): sstable/properties.go (save / accumulateProps),
# sstable/colblk_writer.go Close (CompressionOptions, CompressionStats), sstable/block/
# compression.go CompressAndChecksum (25.1/25.2: keep if < 7/8) and compressor.go Compress
# (25.3+: keep if <= 88%), sstable/block/compressor.go (25.3) / compression_stats.go (25.4)
# CompressionStats.String, sstable/format.go (which formats exist).


@pytest.mark.parametrize(
    "release, formats",
    [("25.1", [5]), ("25.2", [5, 6]), ("25.3", [5, 6, 7]), ("25.4", [5, 6, 7]), ("26.1", [5, 6, 7])],
)
def test_release_writes_only_its_formats(release, formats):
    entries = _entries(50)
    for v in (5, 6, 7):
        if v in formats:
            assert read_table(write_columnar_sst(entries, table_format=v, crdb_release=release))
        else:
            with pytest.raises(ValueError, match=f"does not write Pebble v{v}"):
                write_columnar_sst(entries, table_format=v, crdb_release=release)
    with pytest.raises(ValueError, match="first"):
        write_columnar_sst(entries, table_format=5, crdb_release="24.3")


def test_release_properties():
    entries = _entries(2000)
    opts = b"window_bits=-14; level=32767; strategy=0; max_dict_bytes=0; zstd_max_train_bytes=0; enabled=0; "
    p251 = read_table(write_columnar_sst(entries, table_format=5, crdb_release="25.1"))["props"]
    p252 = read_table(write_columnar_sst(entries, table_format=6, crdb_release="25.2"))["props"]
    p253 = read_table(write_columnar_sst(entries, table_format=7, crdb_release="25.3"))["props"]
    p254 = read_table(write_columnar_sst(entries, table_format=7, crdb_release="25.4"))["props"]
    for p in (p251, p252):
        assert p[b"rocksdb.compression_options"] == opts and b"pebble.compression_stats" not in p
    assert p253[b"rocksdb.compression_options"] == opts
    assert b"rocksdb.compression_options" not in p254
    # 25.3: "<setting>:<stored>/<raw>" in first-seen order; 25.4+: "None:<raw>,Snappy:<stored>/<raw>"
    s3, s4 = p253[b"pebble.compression_stats"].decode(), p254[b"pebble.compression_stats"].decode()
    seen = {k: v.split("/") for k, v in (e.split(":") for e in s3.split(","))}
    assert list(seen)[0] == "Snappy"  # the first data block compresses
    want = ([f"None:{seen['NoCompression'][1]}"] if "NoCompression" in seen else []) + [
        f"Snappy:{seen['Snappy'][0]}/{seen['Snappy'][1]}"]
    assert s4 == ",".join(want)
    n3 = read_table(write_columnar_sst(entries, compression="none", crdb_release="25.3"))["props"]
    n4 = read_table(write_columnar_sst(entries, compression="none", crdb_release="25.4"))["props"]
    size = n4[b"pebble.compression_stats"].decode().removeprefix("None:")
    assert n3[b"pebble.compression_stats"].decode() == f"NoCompression:{size}/{size}"
    assert p254.keys() - {b"pebble.compression_stats"} == p251.keys() - {b"rocksdb.compression_options"}


@pytest.mark.parametrize(
    "release, packed, kept",
    [("25.1", 874, True), ("25.1", 875, False), ("25.2", 876, False),
     ("25.3", 880, True), ("25.4", 880, True), ("25.4", 881, False)],
)
def test_release_min_reduction_rule(release, packed, kept):
    from engine.formats.colblk_write.table import _Layout

    assert _Layout("snappy", release)._keep(packed, 1000) is kept


def test_property_names_are_those_of_pebbles_table(pebble_v7):
    """Pebble's cr-schema table (written between the v7 columnar-properties change of 2025-05-15
    and the compression-stats change of 2025-06-24, so with compression options and without
    stats) holds the same property names as ours, less its value-block ones (backups disable
    value blocks), plus our compression stats."""
    _data, t = pebble_v7
    ours = read_table(write_columnar_sst(_entries(2000), block_size=1024, index_block_size=512,
                                         crdb_release="25.3", writer="transport"))
    value_blocks = {b"pebble.num.value-blocks", b"pebble.num.values.in.value-blocks",
                    b"pebble.value-blocks.size"}
    assert ours["props"].keys() == (t["props"].keys() - value_blocks) | {b"pebble.compression_stats"}
    for name in (b"obsolete-key", b"pebble.colblk.schema", b"rocksdb.comparator",
                 b"rocksdb.compression", b"rocksdb.compression_options",
                 b"rocksdb.property.collectors", b"rocksdb.block.based.table.index.type"):
        assert ours["props"][name] == t["props"][name], name


def _random_entries(seed: int, n: int) -> list[tuple[bytes, bytes]]:
    """Sorted, distinct engine keys: shared prefixes of varied depth, unversioned, wall-only,
    wall+logical and lock-table (17-byte untyped) versions, several versions per key; values
    from empty to 70 KiB."""
    import functools
    import random

    from engine.formats.mvcc import engine_compare

    rng = random.Random(seed)
    stems = [rng.randbytes(rng.randrange(1, 6)) for _ in range(8)]
    keys = set()
    while len(keys) < n:
        roach = rng.choice(stems) + rng.randbytes(rng.randrange(0, 30))
        kind = rng.random()
        if kind < 0.1:
            keys.add(roach + b"\x00")
        elif kind < 0.15:
            keys.add(b"\x01z" + roach + b"\x00" + rng.randbytes(17) + bytes([18]))
        else:
            for _ in range(rng.randrange(1, 4)):
                wall = rng.randrange(1, 1 << 62)
                logical = rng.randrange(0, 5) if rng.random() < 0.3 else 0
                keys.add(encode_mvcc_key(roach, wall, logical))
    ordered = sorted(keys, key=functools.cmp_to_key(engine_compare))
    sizes = [0, 1, 7, 100, 300, 70_000]
    return [(k, rng.randbytes(rng.choice(sizes) if rng.random() < 0.02 else rng.randrange(0, 120)))
            for k in ordered]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("version", [5, 6, 7])
def test_random_tables_decode_and_respect_the_flush_rule(seed, version):
    entries = _random_entries(seed, 1500)
    block_size = 4096
    data = write_columnar_sst(entries, table_format=version, block_size=block_size,
                              index_block_size=1024)
    t = read_table(data)
    assert [(k, v) for *_, rows in t["blocks"] for k, _t, v, _e, _o in rows] == entries
    low = (block_size * 90 + 99) // 100
    for _sep, _h, raw, _rows in t["blocks"][:-1]:  # a block is cut only once it reaches 90%
        assert len(raw) >= low
