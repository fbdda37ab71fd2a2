"""Our SST reader and checker against SSTs that Pebble itself wrote, with Pebble's own
expected outputs.

Files: tests/fixtures/pebble (see SOURCES.md), copied from cockroachdb/pebble at commit
f82e3ff74d10b1f33df146eefc5661518f868542. Expected keys, values and properties are Pebble's:
tool/testdata/sstable_scan (cr-schema-sst, find-val-sep-db, mixed, hamlet), tool/testdata/db_scan
(cr-schema-db), tool/testdata/sstable_properties, tool/testdata/sstable_check (corrupted-sst,
bad-magic-sst, out-of-order-sst), tool/testdata/find (find-db), sstable/testdata/h.txt (the
hamlet fixtures' contents, sstable/testdata/make-table.go). Layouts learned from sstable/table.go
(footers), sstable/reader.go (metaindex/properties by format), sstable/colblk and
cockroachkvs/cockroachkvs.go at that commit.
"""

from __future__ import annotations

import struct

import pytest

from engine.errors import FormatError
from engine.formats.mvcc import decode_mvcc_key
from engine.formats.sst import (
    check_sst,
    masked_crc32c,
    read_sst,
    sst_points,
    sst_properties,
    sst_spans,
    table_format,
)
from engine.formats.colblk.columns import decode_header
from engine.formats.sst_reader import Table
from tests.formats.pebble_testdata import fixture

CR_SST = "tool/testdata/cr-schema-sst/000014.sst"  # Pebble v7, CockroachDB keys, two-level index
CR_DB_SST = "tool/testdata/cr-schema-db/000005.sst"  # Pebble v4, CockroachDB keys, value blocks
HAMLET = {
    "sstable/testdata/hamlet-sst/000002.sst": b"Snappy",
    "sstable/testdata/h-no-compression-sst/000012.sst": b"NoCompression",
    "sstable/testdata/h-no-compression-two-level-index-sst/000003.sst": b"NoCompression",
    "sstable/testdata/h-table-bloom-sst/000010.sst": b"Snappy",
    "sstable/testdata/h-zstd-compression-sst/000004.sst": b"ZSTD",
}
VAL_SEP = [
    ("tool/testdata/find-val-sep-db/000005.sst", 5),
    ("tool/testdata/find-val-sep-db/000008.sst", 6),
    ("tool/testdata/find-val-sep-db/000011.sst", 8),
]

# tool/testdata/sstable_scan, `sstable scan ./testdata/cr-schema-sst/000014.sst`
CR_SST_SCAN = """\
tcestilr@3176.073933065,0#0,SET [b67f9deccb5f22c70c23575ae00e9156]
tcestilr@3155.610170870,0#0,SET [d8094571a876976dd01ba2a5026a898e]
tcestilr@2257.175610483,0#0,SET [9e3a0669c89f7d96c254f7571dca3d61]
tcestilr@2027.979535545,0#0,SET [db22bfa0566709c2cf6488e4376e89a7]
tcestilr@1999.232216345,0#0,SET [4e224bcbe873fe8810f9cf81873ba504]
tcestilr@1961.730565157,0#0,SET [c0a4b04a2bbf7fbad03d82eaa070366f]
tcestilr@112.569705592,0#0,SET [9b9fefa63bd80a0a8bf551d6133358bf]
tcfrjshd@552.255371146,0#0,SET [88d54ae6ffa7def957dcadc876befd26]
tchgdrgj#0,SET [4f4d615f39482fcf4ae7d15890e1611e]
tchiarcd@999.614877036,0#0,SET [395ad94a5a629f21bd826f0b61a0626d]
tcjmfhds@155.282098007,0#0,SET [e859c0e60dbfef6c88f329765525d7a5]
tclaldso@2918.844225402,0#0,SET [53114b04080ac9bf8ab0c9e4dbb0eb7f]
tcnnriss@3485.299789445,0#0,SET [e6339c44d0d9daeea35c04449f3081a9]
tcnnriss@335.378301115,0#0,SET [3a6feab777e1d9d0e0e73c5b6126ec11]
tcpchosd#0,SET [95f99384c24d1320f03f33d58f54c6b7]
tcpchosd@2786.903868370,0#0,SET [4a3ba1f63afdf06e061257f2a2277b66]
tcpchosd@2210.960065030,0#0,SET [0d945d694573ff74244235cc405d3bde]
tcpchosd@2073.542476344,0#0,SET [c3009bd907c208e4b2f8a721403502ee]
tcpchosd@82.858934535,594919620#0,SET [0bac1470fab6a1e270410dda5f39f31d]
tcrsfsqc@1366.233420574,0#0,SET [1b22f2128e75f0433e8eda52c41872e6]"""

# tool/testdata/db_scan, `db scan ./testdata/cr-schema-db` (its only table is 000005.sst)
CR_DB_SCAN = """\
tcaebjhj@1205.779186748,0 [c6b74a3ba1f63afdf06e061257f2a227]
tcakadaf@268.094911963,0 [7b660d945d694573ff74244235cc405d]
tccctlsl [3bdec3009bd907c208e4b2f8a7214035]
tcedlfpq@159.947754277,0 [02ee0bac1470fab6a1e270410dda5f39]
tcestilr@3176.073933065,0 [f31d1b22f2128e75f0433e8eda52c418]
tcestilr@3155.610170870,0 [72e66f413e0ef4fc4c976aa38fb633c5]
tcestilr@2257.175610483,0 [34801f3abc365107dd377a4bba54778c]
tcestilr@2027.979535545,0 [b524343eaa651b852067b8ad82da7da8]
tcestilr@1999.232216345,0 [adcb5faf416828032f69f5b434acb8f4]
tcestilr@1961.730565157,0 [c61d5a246b128c28ab78f2b6a7f118dd]
tcestilr@112.569705592,0 [455cd058c90851f9f10313f3d0a3bbb3]
tcfiplrm@1594.890786061,0 [8805a22d9efd38e3afbb7da4c69c9aeb]
tcfjorff@62,6c67656b-6d67-7472-6f6f-6d6f6f646d70 [ace9910889fca15de2aa714a74e93e50]
tcfrjshd@552.255371146,0 [b4b67067882c2e40880880415f2c6ffa]
tcgngcgh@3327.593991973,0 [4dbc013ab39f9f5ee228b3825ff19d4e]
tcgngcgh@3102.920644724,0 [a4e6f23f58e0077939caa5dbd01b23cb]
tcgngcgh@3008.628446679,0 [ca066583724b5c1cbe89f47ae736d6e3]
tcgngcgh@2591.234454069,0 [8a35a02c4991046edc4734f9932a3c00]
tcgngcgh@1283.850980013,0 [3679990daccb0a97058f237ef35ff26f]
tcgngcgh@296.168185473,0 [62f6c866231925a69d22fdc2a81f4da3]
tchgdrgj [d689dd613e3e31df0f9fdb5d4f5ba1b9]
tchiarcd@999.614877036,0 [8affd2d0ba26ec2778d8b1c5c32c907d]
tcjmfhds@155.282098007,0 [ab7febde3db3da84c41bdae98691cee8]
tclaldso@2918.844225402,0 [e2efe6d734c162795d16f2aa540b0764]
tclisfbo@999.467628943,0 [7a4a683350296f1087b7386e4b5d4174]
tclmndkc [d6c81fcecd3c2ef35ab1deb5394c1f3a]
tclqefnr@1457.126862181,0 [5a38461468edfc49ac3aca1c2e03ba6c]
tcndfpfl@2142.251937559,0 [77331078b8239a6d728503df9f3aa7de]
tcnnriss@3485.299789445,0 [90f7cd8157709536611af31f9b737850]
tcnnriss@335.378301115,0 [bc37da902d1fb15548e7705048bfa7aa]
tcopnsrh@350.226577100,0 [56d7d2cd38a7f4acdee08bd834ff7722]
tcpchosd [5557d96e93bacfad76b1b062ab1e6f2f]
tcpchosd@2786.903868370,0 [ab47cc500c224209ecaba5d6aaa81117]
tcpchosd@2210.960065030,0 [073d9567363daf46e711b7b7ca9422ed]
tcpchosd@2073.542476344,0 [209298462b76ecfa771bfb755228e606]
tcpchosd@82.858934535,594919620 [e6dc4d4b1bf695878ac29605cbd81d56]
tcplgtic@1236.041481720,0 [7404eefe0c1fa48edea2bb59c0e43698]
tcqoanoq@112.899291489,0 [87fdffebd1c2a1406eb1c0c4c0a0c137]
tcrleiie@71,73716465-666d-6361-6f61-71707465686e [303a03f46179c62afdc42289096a1243]
tcrleiie@3227.966135681,0 [1396c7b9fbeb5ff26ad8f3a554c8269a]
tcrleiie@2321.256646074,0 [c53766e33dffdd0d4dacc5d3cc605d52]
tcrleiie@1675.618292930,0 [4bb88fb89ca051c767b3235a4a9a5bc7]
tcrleiie@934.677961957,0 [44c7b81f4fd42774be3dfcbdf64fad60]
tcrsfsqc@1366.233420574,0 [c5383b3f201ec0b234ca2f21a4f78b39]
tctfnead@3515.781716464,0 [452c89164eab3e114de3ee2683996db9]
tctfnead@3436.545352485,2072075394 [d9d80c4a995d2aff4cdb60c0a78c306c]
tctfnead@2901.064834780,0 [46e1736d7e70dbadb331a5cfdda5848e]
tctfnead@496.308392774,788977933 [6d79c299b83e0e0562c16ba4efc98754]
tctfnead@449.271165260,867636456 [77faaee55cd36645214bafd526a0c77b]
tctpneik@2987.878326513,0 [ed905022f920617ae61e462a427c3af4]"""


def engine_key(pretty: str) -> bytes:
    """Pebble's cockroachkvs FormatKey back to an engine key: roach@wall.nanos,logical (MVCC),
    roach@strength,uuid (lock table, 17-byte untyped version) or a bare roach key."""
    roach, _, version = pretty.partition("@")
    if not version:
        return roach.encode() + b"\x00"
    first, second = version.split(",")
    if "-" in second:  # lock table version: strength byte ‖ txn UUID
        v = bytes.fromhex(first) + bytes.fromhex(second.replace("-", ""))
        return roach.encode() + b"\x00" + v + bytes([len(v) + 1])
    secs, nanos = first.split(".")
    wall, logical = int(secs) * 10**9 + int(nanos), int(second)
    ts = struct.pack(">Q", wall) + (struct.pack(">I", logical) if logical else b"")
    return roach.encode() + b"\x00" + ts + bytes([len(ts) + 1])


def scan_rows(text: str) -> list[tuple[bytes, bytes]]:
    rows = []
    for line in text.split("\n"):
        key, value = line.rsplit(" [", 1)
        rows.append((engine_key(key.split("#")[0]), bytes.fromhex(value.rstrip("]"))))
    return rows


# --- Pebble v7 columnar, CockroachDB key schema -----------------------------------------------


def test_cr_schema_sst_is_v7_and_reads_as_pebble_scans_it() -> None:
    data = fixture(CR_SST)
    assert table_format(data) == "(Pebble,v7)"
    assert list(read_sst(data, name="000014.sst")) == scan_rows(CR_SST_SCAN)
    assert check_sst(data, name="000014.sst") == 20


def test_cr_schema_sst_keys_decode_as_mvcc_keys() -> None:
    rows = list(read_sst(fixture(CR_SST)))
    decoded = [decode_mvcc_key(k) for k, _ in rows]
    assert decoded[0] == (b"tcestilr", 3176073933065, 0)
    assert decoded[8] == (b"tchgdrgj", 0, 0)
    assert decoded[18] == (b"tcpchosd", 82858934535, 594919620)


def test_cr_schema_sst_properties_match_pebble() -> None:
    # tool/testdata/sstable_properties: format (Pebble,v7), 20 data blocks, 21 index blocks
    # (top-level 337B), raw-key 506B, raw-value 320B, 20 SETs, crdb1, cockroach_comparator.
    data = fixture(CR_SST)
    props = sst_properties(data)
    assert props["rocksdb.comparator"] == b"cockroach_comparator"
    assert props["pebble.colblk.schema"] == b"crdb1"
    assert props["rocksdb.merge.operator"] == b"pebble.concatenate"
    assert props["rocksdb.compression"] == b"Snappy"
    assert props["rocksdb.num.data.blocks"] == bytes([20])
    assert props["rocksdb.num.entries"] == bytes([20])
    assert props["rocksdb.raw.key.size"] == bytes([0xFA, 0x03])  # 506
    assert props["rocksdb.raw.value.size"] == bytes([0xC0, 0x02])  # 320
    assert props["rocksdb.top-level.index.size"] == bytes([0xD1, 0x02])  # 337
    table = Table(data, "000014.sst")
    assert table.two_level()
    assert len(list(table.data_handles())) == 20
    assert table.value_index is not None  # 11 of its values live in value blocks
    assert props["pebble.num.values.in.value-blocks"] == bytes([11])
    assert table.footer.attributes == 0b10100001  # PointKeys | TwoLevelIndex | ValueBlocks


def rewrite(data: bytes, at: int, new: bytes) -> bytes:
    return data[:at] + new + data[at + len(new) :]


def test_cr_schema_sst_data_block_corruption_is_a_checksum_error() -> None:
    data = fixture(CR_SST)
    table = Table(data, "x")
    offset, length = next(h for _, h in table.data_handles())
    bad = rewrite(data, offset + 3, bytes([data[offset + 3] ^ 0x10]))
    msg = rf"^000014\.sst: data block at offset {offset}: checksum"
    with pytest.raises(FormatError, match=msg):
        check_sst(bad, name="000014.sst")
    with pytest.raises(FormatError, match="checksum mismatch"):
        list(read_sst(bad, name="000014.sst"))


def test_cr_schema_sst_footer_checksum_and_attributes_are_checked() -> None:
    data = fixture(CR_SST)
    footer_at = len(data) - 61  # the v7 footer is 61 bytes
    attrs_at = footer_at + 41
    bad = rewrite(data, attrs_at, b"\x00\x00\x00\x00")
    with pytest.raises(FormatError, match="000014.sst: SST footer checksum mismatch"):
        table_format(bad, name="000014.sst")
    # Re-sign the footer: now the attributes disagree with the properties.
    foot = bad[footer_at:]
    cs = masked_crc32c(foot[:45] + foot[49:])
    resigned = rewrite(bad, footer_at + 45, struct.pack("<I", cs))
    assert table_format(resigned) == "(Pebble,v7)"
    with pytest.raises(FormatError, match="footer attributes 0x0 disagree"):
        check_sst(resigned, name="000014.sst")


def uvarint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    return bytes(out + bytes([v]))


def swap_uint_rows(block: bytes, col: int, a: int, b: int) -> bytes:
    """Swap rows a and b of uint column `col` of a columnar block, in their encoded form."""
    h = decode_header(block)
    at = h.starts[col]
    enc = block[at]
    at += 1 + (8 if enc & 0x80 else 0)
    width = enc & 0x7F
    at = (at + width - 1) & ~(width - 1)
    ra, rb = at + a * width, at + b * width
    out = bytearray(block)
    out[ra : ra + width], out[rb : rb + width] = block[rb : rb + width], block[ra : ra + width]
    return bytes(out)


def with_top_index(data: bytes, block: bytes) -> bytes:
    """The v7 table with its top-level index replaced by `block` (stored uncompressed after the
    last block) and the footer re-signed."""
    footer_at = len(data) - 61
    foot = data[footer_at:]
    mo, ml = Table(data, "x").footer.metaindex
    typed = block + b"\x00"
    body = data[:footer_at] + typed + struct.pack("<I", masked_crc32c(typed))
    handles = uvarint(mo) + uvarint(ml) + uvarint(footer_at) + uvarint(len(block))
    head = foot[:1] + handles.ljust(40, b"\x00") + foot[41:45]
    tail = foot[49:]
    return body + head + struct.pack("<I", masked_crc32c(head + tail)) + tail


def test_cr_schema_sst_top_index_rewrite_roundtrips() -> None:
    data = fixture(CR_SST)
    table = Table(data, "x")
    top = table.read_block(table.footer.index, "index")
    same = with_top_index(data, top)
    assert list(read_sst(same)) == list(read_sst(data))
    assert check_sst(same) == 20


def test_cr_schema_sst_blocks_out_of_order_are_reported() -> None:
    """Swap the first two entries of the top-level index: Pebble's blocks, in the wrong order."""
    data = fixture(CR_SST)
    table = Table(data, "x")
    top = table.read_block(table.footer.index, "index")
    swapped = swap_uint_rows(swap_uint_rows(top, 1, 0, 1), 2, 0, 1)  # offsets, lengths
    bad = with_top_index(data, swapped)
    with pytest.raises(FormatError, match="^000014.sst: (keys out of order|index separator)"):
        check_sst(bad, name="000014.sst")


# --- Pebble v7 with value separation (blob files) ---------------------------------------------


@pytest.mark.parametrize("path,first_len", VAL_SEP)
def test_blob_file_references_are_a_clear_error(path: str, first_len: int) -> None:
    # sstable_scan shows e.g. `aaa\x00#10,SET [(f0,blk0,id0,len5)]`: values in blob file f0.
    data = fixture(path)
    name = path.rsplit("/", 1)[1]
    assert table_format(data) == "(Pebble,v7)"
    msg = rf"^{name}: entry 0: the value \({first_len} bytes\) is stored in a separate blob file"
    with pytest.raises(FormatError, match=msg + r".*blob reference f0, block 0, value 0"):
        list(read_sst(data, name=name))
    with pytest.raises(FormatError, match=msg):
        check_sst(data, name=name)
    assert int.from_bytes(sst_properties(data)["pebble.num.values.in.blob-files"], "little") > 0


# --- Pebble v4 row tables ---------------------------------------------------------------------


def test_cr_schema_db_v4_reads_values_from_value_blocks_as_pebble_scans_it() -> None:
    data = fixture(CR_DB_SST)
    assert table_format(data) == "(Pebble,v4)"
    props = sst_properties(data)
    assert props["pebble.num.values.in.value-blocks"] == bytes([24])
    assert list(read_sst(data)) == scan_rows(CR_DB_SCAN)
    assert check_sst(data, name="000005.sst") == 50


def test_mixed_v4_range_keys_and_points_match_pebble_scan() -> None:
    data = fixture("tool/testdata/mixed/000005.sst")
    assert table_format(data) == "(Pebble,v4)"
    points = list(sst_points(data))
    letters = "abcdefghijklmnopqrstuvwxyz"
    assert points == [(c.encode() + b"@1", 10 + i, "SET", b"") for i, c in enumerate(letters)]
    spans = [(s.kind, s.start, s.end, s.seqnum, s.suffix, s.value) for s in sst_spans(data)]
    assert spans == [
        ("RANGEKEYDEL", b"a", b"b", 38, b"", b""),
        ("RANGEKEYUNSET", b"b", b"z", 37, b"@2", b""),
        ("RANGEKEYSET", b"b", b"z", 36, b"@1", b""),
    ]
    with pytest.raises(FormatError, match="unknown comparer 'pebble.internal.testkeys'"):
        check_sst(data)


def test_broken_external_db_v4_checks() -> None:
    data = fixture("tool/testdata/broken-external-db/000005.sst")
    assert table_format(data) == "(Pebble,v4)"
    assert check_sst(data) == len(list(read_sst(data))) == 3


# --- Pebble v2 and v1 row tables --------------------------------------------------------------


def test_find_db_v2_points_and_range_deletion_match_pebble_find() -> None:
    data = fixture("tool/testdata/find-db/000011.sst")
    assert table_format(data) == "(Pebble,v2)"
    points = list(sst_points(data))
    assert points[:4] == [
        (b"aaa", 17, "DEL", b""),
        (b"aaa", 0, "SET", b"1"),
        (b"bbb", 15, "SET", b"22"),
        (b"bbb", 0, "SET", b"2"),
    ]
    assert [(s.kind, s.start, s.end, s.seqnum) for s in sst_spans(data)] == [
        ("RANGEDEL", b"bbb", b"eee", 19)
    ]
    with pytest.raises(FormatError, match="point key kind DEL, MERGE is not supported"):
        list(read_sst(data))


def hamlet_words() -> list[tuple[bytes, bytes]]:
    text = fixture("sstable/testdata/h.txt").decode()
    rows = [line.split() for line in text.splitlines() if line.strip()]
    return [(word.encode(), count.encode()) for count, word in rows]


@pytest.mark.parametrize("path", sorted(HAMLET))
def test_hamlet_v1_tables_hold_h_txt(path: str) -> None:
    data = fixture(path)
    assert table_format(data) == "(Pebble,v1)"
    assert sst_properties(data)["rocksdb.compression"] == HAMLET[path]
    assert list(read_sst(data)) == hamlet_words()
    assert check_sst(data, name=path) == 1710
    spans = sst_spans(data)
    assert len(spans) == 17 and {s.kind for s in spans} == {"RANGEDEL"}
    assert (spans[0].start, spans[0].end) == (b"a", b"a")
    assert any((s.start, s.end) == (b"beard", b"bearers") for s in spans)


def test_two_level_index_and_bloom_filter_tables() -> None:
    two = Table(fixture("sstable/testdata/h-no-compression-two-level-index-sst/000003.sst"), "x")
    assert two.two_level() and two.int_property(b"rocksdb.index.partitions") == 3
    bloom = Table(fixture("sstable/testdata/h-table-bloom-sst/000010.sst"), "x")
    assert any(b"filter" in name for name in bloom.meta)  # its checksum is verified by check


# --- Pebble-written files that must be rejected (tool/testdata/sstable_check) -----------------


def test_corrupted_sst_is_a_checksum_error_naming_the_file() -> None:
    # Pebble: "block 87/465: crc32c checksum mismatch"
    data = fixture("tool/testdata/corrupted-sst/000003.sst")
    with pytest.raises(FormatError, match=r"^000003\.sst: properties block at offset 87: checksum"):
        check_sst(data, name="000003.sst")


def test_bad_magic_sst_is_rejected_naming_the_magic() -> None:
    # Pebble: "(bad magic number: 0xf6cff485b741e288)"
    data = fixture("tool/testdata/bad-magic-sst/000015.sst")
    msg = r"^000015\.sst: not an SST \(bad footer magic f6cff485b741e288\)"
    with pytest.raises(FormatError, match=msg):
        check_sst(data, name="000015.sst")


def test_out_of_order_sst_is_rejected() -> None:
    # Pebble: "WARNING: OUT OF ORDER KEYS! c#0,SET >= b#0,SET"
    data = fixture("tool/testdata/out-of-order-sst/000001.sst")
    assert [k for k, _ in read_sst(data)] == [b"a", b"c", b"b"]
    with pytest.raises(FormatError, match=r"^000001\.sst: keys out of order at entry 2"):
        check_sst(data, name="000001.sst")


# --- Pebble v5 and v6 ---------------------------------------------------------------------------
# The pebble repository ships no v5 or v6 table (and this machine reaches no Go module proxy to
# have Pebble write one). Per sstable/format.go, v5 and v6 differ from v7 only outside the data,
# index, keyspan and value blocks: v5 has a row metaindex, row properties and the 53-byte footer;
# v6 a columnar (key-value) metaindex, row properties and the 57-byte checksummed footer; v7 adds
# columnar compressed properties and the attributes field. So these tests keep every block Pebble
# wrote for cr-schema-sst and re-encode only the properties block, metaindex and footer.


def kv_block(pairs: list[tuple[bytes, bytes]]) -> bytes:
    """A columnar key-value block (key_value_block.go): two bytes columns, 1-byte-or-wider
    offsets, then the trailing padding byte."""
    buf = bytearray(7 + 2 * 5)
    buf[0] = 1
    struct.pack_into("<HI", buf, 1, 2, len(pairs))
    for col, items in enumerate(([k for k, _ in pairs], [v for _, v in pairs])):
        buf[7 + 5 * col] = 3  # bytes
        struct.pack_into("<I", buf, 8 + 5 * col, len(buf))
        offs = [0]
        for item in items:
            offs.append(offs[-1] + len(item))
        width = 1 if offs[-1] < 256 else 2 if offs[-1] < 1 << 16 else 4
        buf.append(width)
        while len(buf) % width:
            buf.append(0)
        for o in offs:
            buf += o.to_bytes(width, "little")
        buf += b"".join(items)
    return bytes(buf) + b"\x00"


def as_version(
    data: bytes,
    version: int,
    extra_blocks: dict[bytes, bytes] | None = None,
    properties: dict[bytes, bytes] | None = None,
    attributes: int = 0,
) -> bytes:
    """`data`'s blocks up to its properties block, then (optionally) `extra_blocks` as meta
    blocks, the properties (updated with `properties`) and metaindex in `version`'s encoding,
    and `version`'s footer (v7: with `attributes`)."""
    from engine.formats.sst import _BlockBuilder

    table = Table(data, "x")
    props_offset = table.meta[b"rocksdb.properties"][0]
    body = bytearray(data[:props_offset])

    def put(block: bytes) -> tuple[int, int]:
        handle = (len(body), len(block))
        typed = block + b"\x00"
        body.extend(typed + struct.pack("<I", masked_crc32c(typed)))
        return handle

    handles = dict(table.meta)
    for name, block in (extra_blocks or {}).items():
        handles[name] = put(block)
    all_props = {**table.properties, **(properties or {})}
    if version >= 7:
        handles[b"rocksdb.properties"] = put(kv_block(sorted(all_props.items())))
    else:
        props = _BlockBuilder(1 << 31)
        for name in sorted(all_props):
            props.add(name, all_props[name])
        handles[b"rocksdb.properties"] = put(props.finish())
    entries = []
    for name in sorted(handles):
        value = uvarint(handles[name][0]) + uvarint(handles[name][1])
        if name == b"pebble.value_index":
            value += bytes(table.value_index.widths)
        entries.append((name, value))
    if version >= 6:
        meta = put(kv_block(entries))
    else:
        rows = _BlockBuilder(1)
        for name, value in entries:
            rows.add(name, value)
        meta = put(rows.finish())
    fields = uvarint(meta[0]) + uvarint(meta[1]) + uvarint(table.footer.index[0])
    fields += uvarint(table.footer.index[1])
    head = b"\x01" + fields.ljust(40, b"\x00")
    if version >= 7:
        head += struct.pack("<I", attributes)
    tail = struct.pack("<I", version) + data[-8:]
    if version >= 6:
        return bytes(body) + head + struct.pack("<I", masked_crc32c(head + tail)) + tail
    return bytes(body) + head + tail


@pytest.mark.parametrize("version,footer_len", [(5, 53), (6, 57)])
def test_v5_and_v6_meta_layouts_over_pebble_blocks(version: int, footer_len: int) -> None:
    data = as_version(fixture(CR_SST), version)
    assert table_format(data) == f"(Pebble,v{version})"
    table = Table(data, "x")
    assert table.footer.attributes is None
    assert table.footer.end == len(data) - footer_len
    assert list(read_sst(data)) == scan_rows(CR_SST_SCAN)
    assert check_sst(data, name="v.sst") == 20
    # a v7 reading of the same meta blocks fails: the properties are a row block there
    as_v7 = data[:-12] + struct.pack("<I", 7) + data[-8:]
    with pytest.raises(FormatError):
        check_sst(as_v7)


def test_v6_footer_checksum_is_verified() -> None:
    data = as_version(fixture(CR_SST), 6)
    bad = rewrite(data, len(data) - 57 + 1, bytes([data[len(data) - 56] ^ 1]))
    with pytest.raises(FormatError, match="SST footer checksum mismatch"):
        check_sst(bad)


def test_xxhash64_block_checksums() -> None:
    """Pebble's blocks of cr-schema-sst re-checksummed as ChecksumTypeXXHash64 would have them
    (block.go Checksummer: uint32(xxhash.Sum64(block ‖ type))), footer type 3, re-signed."""
    import xxhash

    data = fixture(CR_SST)
    table = Table(data, "x")
    handles = {table.footer.index, table.footer.metaindex, *table.meta.values()}
    handles |= {h for _, h in table._index_entries(table.footer.index, "index")}
    handles |= {h for _, h in table.data_handles()}
    handles |= set(table.value_blocks())
    out = bytearray(data)
    for offset, length in handles:
        typed = bytes(out[offset : offset + length + 1])
        out[offset + length + 1 : offset + length + 5] = struct.pack(
            "<I", xxhash.xxh64_intdigest(typed) & 0xFFFFFFFF
        )
    footer_at = len(out) - 61
    out[footer_at] = 3
    foot = bytes(out[footer_at:])
    out[footer_at + 45 : footer_at + 49] = struct.pack("<I", masked_crc32c(foot[:45] + foot[49:]))
    resigned = bytes(out)
    assert Table(resigned, "x").footer.checksum == 3
    assert list(read_sst(resigned)) == scan_rows(CR_SST_SCAN)
    assert check_sst(resigned) == 20
    with pytest.raises(FormatError, match="checksum mismatch"):
        check_sst(data[:footer_at] + b"\x03" + data[footer_at + 1 :])


def test_a_columnar_range_deletion_block_pebble_encoded_is_read_and_checked() -> None:
    """The keyspan block Pebble's encoder wrote in sstable/colblk/testdata/keyspan_block
    (a-b, b-c x3, c-d x2, d-e RANGEDELs) added to cr-schema-sst as its rocksdb.range_del2."""
    from tests.formats.test_pebble_colblk import keyspan_cases

    block, spans = keyspan_cases()[0]
    assert {t & 0xFF for _, _, t, _, _ in spans} == {15}
    n = len(spans)
    data = fixture(CR_SST)
    attrs = Table(data, "x").footer.attributes | (1 << 4)  # + RangeDels
    props = {b"rocksdb.num.range-deletions": bytes([n]), b"rocksdb.num.entries": bytes([20 + n])}
    with_dels = as_version(data, 7, {b"rocksdb.range_del2": block}, props, attrs)
    got = [(s.kind, s.start, s.end, s.seqnum) for s in sst_spans(with_dels)]
    assert got == [("RANGEDEL", a, b, t >> 8) for a, b, t, _, _ in spans]
    assert check_sst(with_dels) == 20
    assert list(read_sst(with_dels)) == scan_rows(CR_SST_SCAN)
    # the count and the attributes must agree with what the table holds
    fewer = {
        b"rocksdb.num.range-deletions": bytes([n - 1]),
        b"rocksdb.num.entries": bytes([19 + n]),
    }
    short = as_version(data, 7, {b"rocksdb.range_del2": block}, fewer, attrs)
    with pytest.raises(FormatError, match=f"holds {n} range deletions, its properties say {n - 1}"):
        check_sst(short)
    no_attr = as_version(data, 7, {b"rocksdb.range_del2": block}, props, attrs & ~(1 << 4))
    with pytest.raises(FormatError, match="footer attributes"):
        check_sst(no_attr)
