"""SHOW BACKUP object rows: names, types and sizes as pkg/backup/show.go computes them.

Span keys are written as literal bytes (ascending uvarint: 0x88 + id for ids <= 109, else a
marker 0xf5 + byte count, then big-endian bytes; tenant prefix 0xfe + uvarint) so the table-id rule
is checked against the encoding itself, not only against engine.formats.keys.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from engine.errors import FormatError
from engine.formats import manifest as mf
from engine.formats.objects import BackupObject, backup_objects, is_full_cluster
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


def names_sizes(rows: list[BackupObject]) -> list[BackupObject]:
    """The rows without the debug_ids / regions / file_bytes fields (tested on their own)."""
    blank = dict(database_id=None, parent_schema_id=None, object_id=None, regions=None, file_bytes=None)
    return [dataclasses.replace(r, **blank) for r in rows]


def manifest(cluster: bool = False) -> mf.BackupManifest:
    return mf.build_manifest(
        start=None, end=END, descriptors=descriptors(), files=files(), cluster=cluster
    )


def test_rows_names_types_and_sizes() -> None:
    assert names_sizes(backup_objects(manifest())) == [
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
    rows = backup_objects(m, files=files(), descriptors=descriptors())
    assert rows == backup_objects(manifest())


def test_overrides_replace_the_manifest_lists() -> None:
    only_ledger = [files()[3]]
    rows = names_sizes(backup_objects(manifest(), files=only_ledger, descriptors=descriptors()[3:5]))
    assert rows == [
        BackupObject(None, None, "users", "table", 0, 0, 104),  # schema 102 not in the list
        BackupObject(None, None, "ledger", "table", 700, 7, 105),
    ]


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
    assert names_sizes(backup_objects(m)) == [
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
    assert names_sizes(backup_objects(m, descriptors=descs)) == [
        BackupObject(None, None, "", "database", None, None, None),
        BackupObject(None, None, "s", "schema", None, None, None),
    ]


def test_objects_from_a_decoded_stored_manifest() -> None:
    stored, check = mf.encode_manifest(manifest())
    back = mf.decode_manifest(stored, checksum=check)
    assert backup_objects(back) == backup_objects(manifest())


# --- debug_ids, regions, file_bytes (pkg/backup/show.go backupShowerDefault / getTableSizes /
# showRegions / approximateSpanPhysicalSize at cockroachdb/cockroach commit
# 00ae4afda82719d566196abd35180dada05db90b) ---------------------------------------------------------


def test_debug_ids_are_parent_schema_and_own_ids_null_when_zero() -> None:
    rows = {r.object_name: r for r in backup_objects(manifest())}
    ids = lambda r: (r.database_id, r.parent_schema_id, r.object_id)  # noqa: E731
    assert ids(rows["bank"]) == (None, None, 100)  # a database has no parent ids
    assert ids(rows["accounts"]) == (100, None, 101)  # a schema: no parent schema id
    assert ids(rows["users"]) == (100, 102, 104)
    assert ids(rows["legacy"]) == (100, 29, 106)  # GetParentSchemaID: 0 means 29
    assert ids(rows["status"]) == (100, 101, 107)
    assert ids(rows["add_one"]) == (100, 102, 109)
    assert all(r.regions is None and r.file_bytes is None for r in rows.values())


def _pb(num: int, value: bytes | int) -> bytes:
    """One protobuf field, written by hand (varint or length-delimited)."""
    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    return varint(num << 3 | 2) + varint(len(value)) + value


def _multi_region(db_name: str, enum_kind: int = 2) -> list[mf.Descriptor]:
    # DatabaseDescriptor: name 1, id 2, region_config 10 {survival_goal 2, primary_region 3,
    # region_enum_id 4}; TypeDescriptor: parent_id 1, name 3, id 4, kind 5, enum_members 6
    # {physical 1, logical 2, capability 3}, region_config 16 {primary_region 1}.
    db = _pb(1, db_name.encode()) + _pb(2, 100) + _pb(10, _pb(3, b"us-east1") + _pb(4, 110))
    members = b"".join(
        _pb(6, _pb(1, bytes([0x30 * (i + 1)])) + _pb(2, r.encode()) + _pb(3, cap))
        for i, (r, cap) in enumerate([("europe-west1", 0), ("us-central1", 1), ("us-east1", 0), ("us-west1", 0)])
    )
    typ = _pb(1, 100) + _pb(2, 102) + _pb(3, b"crdb_internal_region") + _pb(4, 110) + _pb(5, enum_kind)
    typ += members + _pb(16, _pb(1, b"us-east1"))
    out = []
    for field, body in ((2, db), (3, typ)):
        d = mf.Descriptor()
        d.ParseFromString(_pb(field, body))
        out.append(d)
    return out


def test_regions_of_a_multi_region_database() -> None:
    m = mf.build_manifest(start=None, end=END, descriptors=[], files=[], cluster=False)
    db, typ = backup_objects(m, descriptors=_multi_region("movr"))
    assert db.regions == (
        'ALTER DATABASE movr SET PRIMARY REGION "us-east1"; '
        'ALTER DATABASE movr ADD REGION "europe-west1"; '
        'ALTER DATABASE movr ADD REGION "us-west1";'
    )  # us-central1 is READ_ONLY (being added): not shown
    assert typ.object_type == "type" and typ.regions is None
    # the enum not in the backup (a table-level backup): NULL, no error
    (only_db,) = backup_objects(m, descriptors=_multi_region("movr")[:1])
    assert only_db.regions is None


def test_region_enum_of_the_wrong_kind_is_an_error() -> None:
    m = mf.build_manifest(start=None, end=END, descriptors=[], files=[], cluster=False)
    with pytest.raises(FormatError, match="type descriptor for movr is of kind ENUM"):
        backup_objects(m, descriptors=_multi_region("movr", enum_kind=0))


def test_file_bytes_split_physical_size_by_logical_share_with_cockroachdbs_index_quirk() -> None:
    fs = [
        file("data/1.sst", T104 + b"\x89", T104 + b"\x89\xc0", 10, 1000),
        file("data/1.sst", T104 + b"\x89\xc0", T104 + b"\x8a", 20, 2000),
        file("data/6.sst", b"\x04tsd", b"\x04tse", 100, 100),  # no table: the index stays
        file("data/3.sst", T105 + b"\x89", T105 + b"\x8a", 7, 700),
    ]
    m = mf.build_manifest(start=None, end=END, descriptors=[], files=[], cluster=False)
    rows = {r.object_name: r for r in backup_objects(m, files=fs, descriptors=descriptors(), file_sizes=[10, 10, 50, 99])}
    # int64(10 * (1000/3000)) = 3 + int64(10 * (2000/3000)) = 6: each share truncated
    assert rows["users"].file_bytes == 9
    # ledger's file is entry 3, but getTableSizes reads fileSizes[2] (50), the /System file's size
    assert rows["ledger"].file_bytes == 50
    assert rows["legacy"].file_bytes == 0  # a table without files
    assert rows["bank"].file_bytes is None and rows["status"].file_bytes is None


def test_approximate_physical_size_go_semantics() -> None:
    from engine.formats.objects import GO_MIN_INT64, approximate_physical_size

    assert approximate_physical_size(1, 3, 10) == 3
    assert approximate_physical_size(2, 3, 10) == 6  # 6.666... truncated toward zero
    assert approximate_physical_size(0, 0, 10) == GO_MIN_INT64  # int64(NaN) on amd64
