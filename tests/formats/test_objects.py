"""SHOW BACKUP object rows: names, types and sizes as pkg/backup/show.go computes them.

Span keys are written as literal bytes (ascending uvarint: 0x88 + id for ids <= 109, else a
marker 0xf5 + byte count, then big-endian bytes; tenant prefix 0xfe + uvarint) so the table-id rule
is checked against the encoding itself, not only against engine.formats.keys.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.errors import FormatError
from engine.formats import manifest as mf
from engine.formats.objects import BackupObject, backup_objects, file_paths, is_full_cluster
from engine.formats.proto import descriptors_pb2

END = datetime(2024, 5, 20, 12, 0, tzinfo=UTC)
T104 = b"\xf0"  # /Table/104
T105 = b"\xf1"
T106 = b"\xf2"
T1000 = b"\xf7\x03\xe8"  # /Table/1000
TENANT10 = b"\xfe\x92"  # /Tenant/10
TENANT5 = b"\xfe\x8d"


def file(path: str, key: bytes, end: bytes, rows: int, size: int) -> mf.ManifestFile:
    return mf.ManifestFile(
        span=mf.Span(key=key, end_key=end),
        path=path,
        entry_counts=mf.RowCount(rows=rows, data_size=size, index_entries=rows),
    )


def descriptors() -> list[mf.Descriptor]:
    return [
        mf.database_descriptor(100, "bank"),
        mf.schema_descriptor(101, 100, "accounts"),
        mf.schema_descriptor(102, 100, "public"),  # v22.1+: each database has its own public
        mf.table_descriptor(104, 100, "users", 102),
        mf.table_descriptor(105, 100, "ledger", 101),
        mf.table_descriptor(106, 100, "legacy", 0),  # 0 means the old shared public schema 29
        mf.type_descriptor(107, 100, "status", 101, array_type_id=108),
        mf.type_descriptor(108, 100, "_status", 101, kind=descriptors_pb2.TypeDescriptor.ALIAS),
        mf.function_descriptor(109, 100, "add_one", 102),
        mf.table_descriptor(1000, 100, "events", 102),
    ]


def files() -> list[mf.ManifestFile]:
    return [
        file("data/1.sst", T104 + b"\x89", T104 + b"\x89\xc0", 10, 1000),  # users, split in 3
        file("data/1.sst", T104 + b"\x89\xc0", T104 + b"\x8a", 20, 2000),
        file("data/2.sst", T104 + b"\x8a", T105, 5, 50),  # secondary index of users
        file("data/3.sst", T105 + b"\x89", T105 + b"\x8a", 7, 700),
        file("data/4.sst", T1000 + b"\x89", T1000 + b"\x8a", 3, 30),
        file("data/5.sst", b"\xf7\x07\xd0\x89", b"\xf7\x07\xd1", 9, 90),  # table 2000: not here
        file("data/6.sst", b"\x04tsd", b"\x04tse", 100, 100),  # /System/tsd: no table
    ]


def manifest(cluster: bool = False) -> mf.BackupManifest:
    return mf.build_manifest(
        start=None, end=END, descriptors=descriptors(), files=files(), cluster=cluster
    )


def test_rows_names_types_and_sizes() -> None:
    assert backup_objects(manifest()) == [
        BackupObject(None, None, "bank", "database", None, None, None),
        BackupObject("bank", None, "accounts", "schema", None, None, None),
        BackupObject("bank", None, "public", "schema", None, None, None),
        BackupObject("bank", "public", "users", "table", 3050, 35, 104),
        BackupObject("bank", "accounts", "ledger", "table", 700, 7, 105),
        BackupObject("bank", "public", "legacy", "table", 0, 0, 106),
        BackupObject("bank", "accounts", "status", "type", None, None, None),
        BackupObject("bank", "accounts", "_status", "type", None, None, None),
        BackupObject("bank", "public", "add_one", "function", None, None, None),
        BackupObject("bank", "public", "events", "table", 30, 3, 1000),
    ]


def test_sizes_come_from_the_given_file_list_for_slim_manifests() -> None:
    m = mf.slim_manifest(manifest())
    with pytest.raises(FormatError, match="filelist.sst"):
        backup_objects(m)
    with pytest.raises(FormatError, match="filelist.sst"):
        file_paths(m)
    rows = backup_objects(m, files=files(), descriptors=descriptors())
    assert rows == backup_objects(manifest())
    assert file_paths(m, files=files()[:2]) == ["data/1.sst"]


def test_overrides_replace_the_manifest_lists() -> None:
    only_ledger = [files()[3]]
    rows = backup_objects(manifest(), files=only_ledger, descriptors=descriptors()[3:5])
    assert rows == [
        BackupObject(None, None, "users", "table", 0, 0, 104),  # schema 102 not in the list
        BackupObject(None, None, "ledger", "table", 700, 7, 105),
    ]


def test_file_paths_are_distinct_in_manifest_order() -> None:
    # build_manifest stores files sorted by span, so /System (0x04) comes first
    assert file_paths(manifest()) == ["data/6.sst"] + [f"data/{i}.sst" for i in range(1, 6)]


def test_is_full_cluster() -> None:
    assert is_full_cluster(manifest(cluster=True))
    assert not is_full_cluster(manifest(cluster=False))


def test_tenant_codec_comes_from_the_first_file() -> None:
    descs = [mf.database_descriptor(100, "app"), mf.table_descriptor(104, 100, "t")]
    tenant_files = [
        file("data/1.sst", TENANT10 + T104 + b"\x89", TENANT10 + T104 + b"\x8a", 4, 40),
        file("data/2.sst", TENANT5 + T104 + b"\x89", TENANT5 + T104 + b"\x8a", 8, 80),
        file("data/3.sst", T104 + b"\x89", T104 + b"\x8a", 16, 160),
        file("data/4.sst", TENANT10 + T104 + b"\x8a", TENANT10 + T105, 1, 10),
    ]
    m = mf.build_manifest(start=None, end=END, descriptors=descs, files=[], cluster=False)
    (_, t) = backup_objects(m, files=tenant_files)
    assert (t.size_bytes, t.rows) == (50, 5)  # only tenant 10's files count
    (_, t) = backup_objects(m, files=tenant_files[2:])
    assert (t.size_bytes, t.rows) == (160, 16)  # system tenant first: tenant keys don't count


def test_tenant_keys_built_with_the_builder_agree() -> None:
    descs = [mf.table_descriptor(104, 100, "t")]
    fs = [mf.manifest_file("data/1.sst", 104, b"\x89", None, 2, 20, tenant_id=10)]
    assert fs[0].span.key == TENANT10 + T104 + b"\x89"
    m = mf.build_manifest(start=None, end=END, descriptors=descs, files=fs, cluster=False)
    (t,) = backup_objects(m)
    assert (t.size_bytes, t.rows) == (20, 2)


def test_malformed_tenant_prefix_in_first_file_is_a_format_error() -> None:
    m = mf.build_manifest(start=None, end=END, descriptors=[], files=[], cluster=False)
    with pytest.raises(FormatError, match="data/9.sst"):
        backup_objects(m, files=[file("data/9.sst", b"\xfe\xfe", b"\xff", 1, 1)])


def test_revision_history_several_versions_and_dropped_descriptors() -> None:
    start = datetime(2024, 5, 20, 11, 0, tzinfo=UTC)
    descs = [
        mf.database_descriptor(100, "bank"),
        mf.database_descriptor(100, "bank_renamed", version=2),  # first name wins
        mf.table_descriptor(104, 100, "users", version=1, modified=start),
        mf.table_descriptor(104, 100, "customers", version=2, modified=END),
        mf.table_descriptor(105, 100, "gone", state=descriptors_pb2.DROP),
        mf.table_descriptor(106, 100, "importing", state=descriptors_pb2.OFFLINE),
    ]
    fs = [file("data/1.sst", T104 + b"\x89", T104 + b"\x8a", 2, 20)]
    m = mf.build_manifest(
        start=start, end=END, descriptors=descs, files=fs, cluster=False, revision_history=True
    )
    assert len(m.descriptor_changes) == 6
    assert backup_objects(m) == [
        BackupObject(None, None, "bank", "database", None, None, None),
        BackupObject(None, None, "bank_renamed", "database", None, None, None),
        BackupObject("bank", "public", "users", "table", 20, 2, 104),
        BackupObject("bank", "public", "customers", "table", 20, 2, 104),
        BackupObject("bank", "public", "gone", "table", 0, 0, 105),
        BackupObject("bank", "public", "importing", "table", 0, 0, 106),
    ]


def test_descriptor_of_unknown_kind_is_skipped_and_empty_names_are_null() -> None:
    m = mf.build_manifest(start=None, end=END, descriptors=[], files=[], cluster=False)
    unknown = mf.Descriptor()
    unknown.ParseFromString(bytes([0x32, 0x02, 0x08, 0x01]))  # a future oneof field 6
    descs = [unknown, mf.database_descriptor(100, ""), mf.schema_descriptor(101, 100, "s")]
    assert backup_objects(m, descriptors=descs) == [
        BackupObject(None, None, "", "database", None, None, None),
        BackupObject(None, None, "s", "schema", None, None, None),
    ]


def test_objects_from_a_decoded_stored_manifest() -> None:
    stored, check = mf.encode_manifest(manifest())
    back = mf.decode_manifest(stored, checksum=check)
    assert backup_objects(back) == backup_objects(manifest())
