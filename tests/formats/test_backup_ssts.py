"""filelist.sst / descriptorslist.sst keys as pkg/backup/backupinfo writes them."""

from __future__ import annotations

import pytest

from engine.errors import FormatError
from engine.formats.backup_ssts import (
    DescriptorEntry,
    decode_descriptorslist,
    decode_filelist,
    encode_descriptorslist,
    encode_filelist,
)
from engine.formats.mvcc import encode_mvcc_key
from engine.formats.sst import check_sst, read_sst, sst_properties, write_sst


def test_filelist_keys_are_escaped_span_then_path_unversioned() -> None:
    data = encode_filelist([(b"\xf0\x00\x89", "data/1.sst", b"FILE-PROTO")])
    [(key, value)] = list(read_sst(data))
    assert key == b"\x12\xf0\x00\xff\x89\x00\x01" + b"\x12data/1.sst\x00\x01" + b"\x00"
    assert value == b"FILE-PROTO"
    assert sst_properties(data)["rocksdb.comparator"] == b"cockroach_comparator"


def test_filelist_round_trip_sorted_by_span_then_path() -> None:
    rows = [
        (b"\xf1", "data/3.sst", b"c"),
        (b"\xf0", "data/2.sst", b"b"),
        (b"\xf0", "data/1.sst", b"a"),
        (b"\xf0\x00", "data/é.sst", b"d"),
    ]
    data = encode_filelist(rows)
    assert check_sst(data) == 4
    assert decode_filelist(data) == [rows[2], rows[1], rows[3], rows[0]]


def test_filelist_duplicates_and_bad_keys() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        encode_filelist([(b"a", "p", b""), (b"a", "p", b"x")])
    bad = write_sst([(encode_mvcc_key(b"\x12abc"), b"")])
    with pytest.raises(FormatError, match="filelist.sst: bad file entry key"):
        decode_filelist(bad)


def test_descriptors_unversioned() -> None:
    data = encode_descriptorslist([(52, b"table"), (50, b"db"), (51, b"schema")])
    keys = [k for k, _ in read_sst(data)]
    assert keys[0] == b"desc/\xba\x00"  # uvarint(50) = 0x88 + 50, then the unversioned sentinel
    assert decode_descriptorslist(data) == [
        DescriptorEntry(50, b"db"),
        DescriptorEntry(51, b"schema"),
        DescriptorEntry(52, b"table"),
    ]


def test_descriptor_revisions_are_id_then_newest_first() -> None:
    revs = [
        DescriptorEntry(104, b"v1", 100, 0),
        DescriptorEntry(104, b"", 300, 1),  # dropped: empty value
        DescriptorEntry(104, b"v2", 200, 0),
        DescriptorEntry(60, b"x", 150, 0),
    ]
    data = encode_descriptorslist(revs)
    assert check_sst(data) == 4
    assert decode_descriptorslist(data) == [revs[3], revs[1], revs[2], revs[0]]
    with pytest.raises(ValueError, match="duplicate"):
        encode_descriptorslist([revs[0], revs[0]])


def test_descriptor_key_without_prefix_fails() -> None:
    with pytest.raises(FormatError, match="desc/"):
        decode_descriptorslist(write_sst([(encode_mvcc_key(b"file/\x88"), b"")]))


def test_lists_take_the_release_table_format() -> None:
    """filelist.sst / descriptorslist.sst are written in the table format of the release
    (engine/formats/releases.py), row or columnar; an unknown one is a clear error, not a
    silently older table."""
    from engine.formats.sst import table_format

    for fmt in ("pebble,v2", "pebble,v4", "pebble,v5", "pebble,v6", "pebble,v7"):
        descs = encode_descriptorslist([(104, b"\x12\x00")], table_format=fmt, release="25.3")
        assert table_format(descs) == f"(Pebble,{fmt.split(',')[1]})", fmt
        assert decode_descriptorslist(descs)[0].id == 104
        files = encode_filelist([(b"a", "data/1.sst", b"")], table_format=fmt, release="25.3")
        assert [p for _, p, _ in decode_filelist(files)] == ["data/1.sst"]
    with pytest.raises(FormatError, match="cannot write SST table format 'pebble,v99'"):
        encode_filelist([(b"a", "data/1.sst", b"")], table_format="pebble,v99")
