"""SHOW BACKUP / FILES / RANGES / WITH as_json, check_files, debug_ids, skip size: CockroachDB's
result columns (names and order) and values, on collections written by the independent fixture
writer (tests/crdb_fixtures.py, no rewrap code) and by `rewrap demo`.

The column lists below are copied from cockroachdb/cockroach pkg/backup/show.go at commit
00ae4afda82719d566196abd35180dada05db90b:
  * backupShowerHeaders (plain SHOW BACKUP; file_bytes appended with check_files; debug_ids puts
    database_id, parent_schema_id, object_id after database_name, parent_schema_name, object_name)
  * backupShowerFileSetup (FILES), backupShowerRanges (RANGES), jsonShower (as_json: one column
    `manifest`, one row per backup of the chain)
Values follow the same functions: backupShowerDefault (NULL start_time for a full backup, sizes
only for tables), getTableSizes + approximateSpanPhysicalSize (file_bytes), the FILES path =
path.Join(AbsoluteBackupPathInCollectionURI(collection, layer dir), file.Path)
(pkg/backup/backuputils), locality = the string 'NULL' when the backup is not locality-aware,
file_bytes = -1 without check_files, and pretty keys = roachpb.Key.String().
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC
from pathlib import Path

import pytest

from engine.demo import write_demo
from engine.errors import UnsupportedError
from engine.execute import Executor, Result
from engine.formats.sst import write_sst
from engine.storage import StorageSettings
from syntax import parse
from tests import crdb_fixtures as fx

SHOW_GO_COMMIT = "00ae4afda82719d566196abd35180dada05db90b"

# backupShowerHeaders(showSchemas=false, opts) at SHOW_GO_COMMIT
CRDB_COLUMNS = [
    "database_name", "parent_schema_name", "object_name", "object_type", "backup_type",
    "start_time", "end_time", "size_bytes", "rows", "is_full_cluster", "regions",
]
CRDB_COLUMNS_CHECK_FILES = CRDB_COLUMNS + ["file_bytes"]
CRDB_COLUMNS_DEBUG_IDS = [
    "database_name", "database_id", "parent_schema_name", "parent_schema_id", "object_name",
    "object_id", "object_type", "backup_type", "start_time", "end_time", "size_bytes", "rows",
    "is_full_cluster", "regions",
]
# backupShowerFileSetup
CRDB_FILES_COLUMNS = [
    "path", "backup_type", "start_pretty", "end_pretty", "start_key", "end_key", "size_bytes",
    "rows", "locality", "file_bytes",
]
# backupShowerRanges
CRDB_RANGES_COLUMNS = ["start_pretty", "end_pretty", "start_key", "end_key"]
# jsonShower
CRDB_JSON_COLUMNS = ["manifest"]

KEY = bytes(range(32))
KMS = "testkms:///cmk"
DB = (104, "bank")
TABLES = [fx.FixtureTable(106, "accounts", 1000, 64000), fx.FixtureTable(107, "transfers", 50, 3000)]
FULL = fx.utc(2023, 11, 9, 17, 47, 26, 480000)
INC = fx.utc(2023, 11, 9, 18)
FULL_DIR = "2023/11/09-174726.48"
INC_DIR = f"incrementals/{FULL_DIR}/20231109/180000.00"


def sst(n: int) -> bytes:
    return write_sst([(b"k%05d" % i + b"\x00", b"v") for i in range(n)], comparer="leveldb.BytewiseComparator")


def run(io_dir: Path, sql: str) -> Result:
    executor = Executor(StorageSettings(external_io_dir=io_dir))
    return [executor.run(s) for s in parse(sql)][-1]


def spans_of(tables: list[fx.FixtureTable]) -> bytes:
    """BackupManifest.spans (field 3): each table's primary index /Table/<id>/1 - /Table/<id>/2."""
    out = b""
    for t in tables:
        start = fx.uvarint_asc(t.id) + fx.uvarint_asc(1)
        out += fx.f_bytes(3, fx.span(start, fx.uvarint_asc(t.id) + fx.uvarint_asc(2)))
    return out


def collection(root: Path) -> None:
    """A KMS-encrypted full backup and one incremental (22.1+ layout), spans included."""
    w = fx.Writer(root, data_key=KEY)
    w.put(f"{FULL_DIR}/ENCRYPTION-INFO", fx.encryption_info(kms={hashlib.sha256(b"cmk").digest(): fx.testkms_wrap("cmk", KEY)}))
    full = fx.manifest(start=None, end=FULL, db=DB, tables=TABLES) + spans_of(TABLES)
    w.backup_dir(FULL_DIR, full, data_files={f"data/{1000 + t.id}.sst": sst(3) for t in TABLES})
    small = [fx.FixtureTable(106, "accounts", 10, 640)]
    inc = fx.manifest(start=FULL, end=INC, db=DB, tables=small) + spans_of(small)
    w.backup_dir(INC_DIR, inc, data_files={"data/1106.sst": sst(2)})
    w.put("metadata/latest/" + fx.latest_name("2023-11-09 17:47:27.1 +0000 UTC"), b"/" + FULL_DIR.encode())


@pytest.fixture()
def coll(tmp_path: Path) -> Path:
    collection(tmp_path / "c")
    return tmp_path


def stored_size(io_dir: Path, rel: str) -> int:
    return (io_dir / "c" / rel).stat().st_size


Q = f"SHOW BACKUP {{}}LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'"


def test_show_backup_columns_and_rows(coll: Path) -> None:
    res = run(coll, Q.format("FROM "))
    assert res.columns == CRDB_COLUMNS
    full_end = FULL.replace(microsecond=480000)
    assert res.rows[:3] == [
        (None, None, "bank", "database", "full", None, full_end, None, None, False, None),
        ("bank", "public", "accounts", "table", "full", None, full_end, 64000, 1000, False, None),
        ("bank", "public", "transfers", "table", "full", None, full_end, 3000, 50, False, None),
    ]
    assert res.rows[3:] == [
        (None, None, "bank", "database", "incremental", full_end, INC, None, None, False, None),
        ("bank", "public", "accounts", "table", "incremental", full_end, INC, 640, 10, False, None),
    ]
    assert all(r[5] is None or r[5].tzinfo == UTC for r in res.rows)


def test_check_files_adds_file_bytes_from_the_stored_file_sizes(coll: Path) -> None:
    res = run(coll, Q.format("") + ", CHECK_FILES")
    assert res.columns == CRDB_COLUMNS_CHECK_FILES
    got = [(r[2], r[4], r[11]) for r in res.rows]
    # one span per SST: int64(physical * (span size / SST size)) is the encrypted file's size
    assert got == [
        ("bank", "full", None),
        ("accounts", "full", stored_size(coll, f"{FULL_DIR}/data/1106.sst")),
        ("transfers", "full", stored_size(coll, f"{FULL_DIR}/data/1107.sst")),
        ("bank", "incremental", None),
        ("accounts", "incremental", stored_size(coll, f"{INC_DIR}/data/1106.sst")),
    ]


def test_debug_ids_interleave_the_ids(coll: Path) -> None:
    res = run(coll, Q.format("") + ", DEBUG_IDS")
    assert res.columns == CRDB_COLUMNS_DEBUG_IDS
    assert [r[:7] for r in res.rows[:3]] == [
        (None, None, None, None, "bank", 104, "database"),
        ("bank", 104, "public", 29, "accounts", 106, "table"),
        ("bank", 104, "public", 29, "transfers", 107, "table"),
    ]
    both = run(coll, Q.format("") + ", DEBUG_IDS, CHECK_FILES")
    assert both.columns == CRDB_COLUMNS_DEBUG_IDS + ["file_bytes"]


def test_skip_size_shows_zero_for_tables(coll: Path) -> None:
    # show.go: with SkipSize getTableSizes is not called and the nil map reads as zero sizes
    res = run(coll, Q.format("") + ", SKIP SIZE")
    assert [(r[2], r[7], r[8]) for r in res.rows[:3]] == [("bank", None, None), ("accounts", 0, 0), ("transfers", 0, 0)]


def test_files_columns_paths_and_pretty_keys(coll: Path) -> None:
    res = run(coll, Q.format("FILES FROM "))
    assert res.columns == CRDB_FILES_COLUMNS
    assert res.rows == [
        (f"/{FULL_DIR}/data/1106.sst", "full", "/Table/106", "/Table/107", b"\xf2", b"\xf3", 64000, 1000, "NULL", -1),
        (f"/{FULL_DIR}/data/1107.sst", "full", "/Table/107", "/Table/108", b"\xf3", b"\xf4", 3000, 50, "NULL", -1),
        (f"/{INC_DIR}/data/1106.sst", "incremental", "/Table/106", "/Table/107", b"\xf2", b"\xf3", 640, 10, "NULL", -1),
    ]
    checked = run(coll, Q.format("FILES FROM ") + ", CHECK_FILES")
    assert [r[9] for r in checked.rows] == [
        stored_size(coll, f"{FULL_DIR}/data/1106.sst"),
        stored_size(coll, f"{FULL_DIR}/data/1107.sst"),
        stored_size(coll, f"{INC_DIR}/data/1106.sst"),
    ]


def test_ranges_columns_and_pretty_keys(coll: Path) -> None:
    res = run(coll, Q.format("RANGES FROM "))
    assert res.columns == CRDB_RANGES_COLUMNS
    assert res.rows == [
        ("/Table/106/1", "/Table/106/2", b"\xf2\x89", b"\xf2\x8a"),
        ("/Table/107/1", "/Table/107/2", b"\xf3\x89", b"\xf3\x8a"),
        ("/Table/106/1", "/Table/106/2", b"\xf2\x89", b"\xf2\x8a"),
    ]


def test_as_json_is_one_manifest_per_backup(coll: Path) -> None:
    res = run(coll, Q.format("") + ", AS_JSON")
    assert res.columns == CRDB_JSON_COLUMNS
    assert len(res.rows) == 2
    text = res.rows[0][0]
    # JSONB text: keys sorted bytewise ("__redacted__" first), ", " and ": " separators
    assert text.startswith('{"__redacted__": true, "buildInfo": {')
    doc = json.loads(text)
    assert list(doc) == sorted(doc)
    assert doc["endTime"] == {"logical": 0, "wallTime": str(int(FULL.timestamp() * 1_000_000) * 1000)}
    assert doc["startTime"] == {"logical": 0, "wallTime": "0"}  # non-nullable: the zero object
    assert doc["mvccFilter"] == "Latest" and doc["formatVersion"] == 1 and doc["descriptorCoverage"] == 0
    assert doc["clusterId"] == "00000000-0000-0000-0000-000000000000"  # uuid.UUID MarshalText
    assert doc["files"][0]["path"] == "data/1106.sst"
    assert doc["files"][0]["span"] == {"endKey": base64.b64encode(b"\xf3").decode(), "key": "8g=="}
    assert doc["files"][0]["entryCounts"] == {"dataSize": "64000", "indexEntries": "0", "rows": "1000"}
    assert doc["descriptors"][0]["database"]["name"] == "bank"
    assert doc["introducedSpans"] == [] and doc["statisticsFilenames"] == {}
    assert json.loads(res.rows[1][0])["startTime"]["wallTime"] == doc["endTime"]["wallTime"]
    # AS_JSON wins over FILES / RANGES, as getBackupInfoReader checks it first
    assert run(coll, Q.format("FILES FROM ") + ", AS_JSON").columns == CRDB_JSON_COLUMNS


def test_spans_inside_tables_and_tenant_keys_print_like_cockroachdb(tmp_path: Path) -> None:
    """File spans that split a table at row keys (int, string, NULL) and a tenant's table."""
    u = fx.uvarint_asc
    s = lambda v: b"\x12" + v + b"\x00\x01"  # noqa: E731  EncodeBytesAscending (no 0x00 inside)
    t = u(106) + u(1)
    zz_end = t + b"\x12zz\x00\x02"  # PrefixEnd of /Table/106/1/"zz"
    entries = [
        (t, t + u(500) + u(0), "data/1.sst", 10, 100),
        (t + u(500) + u(0), t + s(b"m") + b"\x00", "data/1.sst", 20, 200),
        (t + s(b"m") + b"\x00", zz_end, "data/2.sst", 30, 300),
        (zz_end, u(107), "data/2.sst", 40, 400),
    ]
    body = fx.f_bytes(2, fx.timestamp(FULL))
    for key, end, path, rows, size in entries:
        counts = fx.f_varint(1, size) + fx.f_varint(2, rows)
        body += fx.f_bytes(4, fx.f_bytes(1, fx.span(key, end)) + fx.f_bytes(2, path) + fx.f_bytes(6, counts))
    body += fx.f_bytes(5, fx.database_desc(*DB)) + fx.f_bytes(5, fx.table_desc(TABLES[0], DB[0]))
    body += fx.f_bytes(3, fx.span(b"\xfe\x92" + u(106), b"\xfe\x92" + u(107)))  # /Tenant/10/Table/106
    w = fx.Writer(tmp_path / "r")
    w.backup_dir(FULL_DIR, body, data_files={"data/1.sst": sst(2), "data/2.sst": sst(5)}, checksum=False)
    res = run(tmp_path, f"SHOW BACKUP FILES FROM '/{FULL_DIR}' IN 'nodelocal://self/r' WITH CHECK_FILES")
    assert [(r[2], r[3]) for r in res.rows] == [
        ("/Table/106/1", "/Table/106/1/500/0"),
        ("/Table/106/1/500/0", '/Table/106/1/"m"/NULL'),
        ('/Table/106/1/"m"/NULL', '/Table/106/1/"zz"/PrefixEnd'),
        ('/Table/106/1/"zz"/PrefixEnd', "/Table/107"),
    ]
    one, two = stored_size_of(tmp_path / "r" / FULL_DIR / "data/1.sst"), stored_size_of(tmp_path / "r" / FULL_DIR / "data/2.sst")
    # each span gets its share of its SST's stored size, truncated: int64(phys * (span / sst))
    assert [r[9] for r in res.rows] == [int(one * (100 / 300)), int(one * (200 / 300)), int(two * (300 / 700)), int(two * (400 / 700))]
    ranges = run(tmp_path, f"SHOW BACKUP RANGES FROM '/{FULL_DIR}' IN 'nodelocal://self/r'")
    assert ranges.rows == [("/Tenant/10/Table/106", "/Tenant/10/Table/107", b"\xfe\x92\xf2", b"\xfe\x92\xf3")]
    objects = run(tmp_path, f"SHOW BACKUP FROM '/{FULL_DIR}' IN 'nodelocal://self/r' WITH CHECK_FILES")
    (table,) = [r for r in objects.rows if r[3] == "table"]
    assert table[7:9] == (1000, 100)
    assert table[11] == sum(r[9] for r in res.rows)


def stored_size_of(p: Path) -> int:
    return p.stat().st_size


def test_multi_region_database_shows_its_regions(tmp_path: Path) -> None:
    # DatabaseDescriptor.region_config (10) {primary_region 3, region_enum_id 4}; the enum is a
    # TypeDescriptor (kind 5 = MULTIREGION_ENUM 2, enum_members 6 {logical 2}, region_config 16)
    db = fx.f_bytes(1, "movr") + fx.f_varint(2, 104) + fx.f_bytes(10, fx.f_bytes(3, "us-east1") + fx.f_varint(4, 105))
    typ = fx.f_varint(1, 104) + fx.f_varint(2, 29) + fx.f_bytes(3, "crdb_internal_region") + fx.f_varint(4, 105) + fx.f_varint(5, 2)
    for i, region in enumerate(["europe-west1", "us-east1", "us-west1"]):
        typ += fx.f_bytes(6, fx.f_bytes(1, bytes([0x40 + 0x40 * i])) + fx.f_bytes(2, region))
    typ += fx.f_bytes(16, fx.f_bytes(1, "us-east1"))
    body = fx.f_bytes(2, fx.timestamp(FULL)) + fx.f_bytes(5, fx.f_bytes(2, db)) + fx.f_bytes(5, fx.f_bytes(3, typ))
    fx.Writer(tmp_path / "mr").backup_dir(FULL_DIR, body, checksum=False)
    res = run(tmp_path, f"SHOW BACKUP '/{FULL_DIR}' IN 'nodelocal://self/mr'")
    assert [(r[2], r[3], r[10]) for r in res.rows] == [
        ("movr", "database", 'ALTER DATABASE movr SET PRIMARY REGION "us-east1"; '
         'ALTER DATABASE movr ADD REGION "europe-west1"; ALTER DATABASE movr ADD REGION "us-west1";'),
        ("crdb_internal_region", "type", None),
    ]


def test_demo_collection_files_and_ranges(tmp_path: Path) -> None:
    write_demo(tmp_path / "demo", seed=7, full_backups=1, incrementals=2)
    q = "SHOW BACKUP {} LATEST IN 'nodelocal://self/demo' WITH KMS = 'testkms:///demo-key'"
    files = run(tmp_path, q.format("FILES FROM"))
    assert files.columns == CRDB_FILES_COLUMNS
    assert len(files.rows) == 4 * 3  # a file per table per backup
    # PrefixEnd(/Table/109) is the lone byte 0xf6, an incomplete two-byte uvarint (110 needs
    # 0xf6 0x6e): printer.go's UndoPrefixEnd retry prints it as 109/PrefixEnd
    assert {(r[2], r[3]) for r in files.rows} == {
        ("/Table/106", "/Table/107"), ("/Table/107", "/Table/108"), ("/Table/108", "/Table/109"),
        ("/Table/109", "/Table/109/PrefixEnd"),
    }
    assert [r[1] for r in files.rows] == ["full"] * 4 + ["incremental"] * 8
    assert files.rows[0][0].startswith("/2026/11/") and files.rows[4][0].startswith("/incrementals/2026/11/")
    assert all(r[0].split("/")[-2] == "data" and r[8] == "NULL" and r[9] == -1 for r in files.rows)
    ranges = run(tmp_path, q.format("RANGES FROM"))
    assert ranges.rows[:4] == [(f"/Table/{i}/1", f"/Table/{i}/2", bytes([0x88 + i, 0x89]), bytes([0x88 + i, 0x8A])) for i in range(106, 110)]
    checked = run(tmp_path, q.format("FROM") + ", CHECK_FILES, DEBUG_IDS")
    assert checked.columns == CRDB_COLUMNS_DEBUG_IDS + ["file_bytes"]
    users = [r for r in checked.rows if r[4] == "users"]
    assert [r[:6] for r in users[:1]] == [("movr", 104, "public", 105, "users", 106)]
    users_files = [r[0] for r in files.rows if r[2] == "/Table/106"]
    # one span per SST: file_bytes is the stored (encrypted) size of the table's file in each layer
    assert [r[-1] for r in users] == [(tmp_path / "demo" / p.lstrip("/")).stat().st_size for p in users_files]


def test_unsupported_forms_say_so(coll: Path) -> None:
    for sql in (Q.format("SCHEMAS FROM "), Q.format("") + ", PRIVILEGES"):
        with pytest.raises(UnsupportedError, match="SHOW BACKUP: (SCHEMAS|PRIVILEGES) is not supported by rewrap"):
            run(coll, sql)


def test_cluster_backup_with_tenants_adds_tenant_rows(tmp_path: Path) -> None:
    # BackupManifest.tenants (26): TenantInfoWithUsage {info 1 {deprecated_id 1}, extra_columns 3
    # {id 1, name 2}} (pkg/multitenant/mtinfopb/info.proto at 03930cb5ea006ddca2132d3fd6ccfb6b646eec9c)
    body = fx.manifest(start=None, end=FULL, db=DB, tables=TABLES[:1], cluster=True)
    body += fx.f_bytes(26, fx.f_bytes(1, fx.f_varint(1, 5)) + fx.f_bytes(3, fx.f_varint(1, 5) + fx.f_bytes(2, "app")))
    body += fx.f_bytes(26, fx.f_bytes(1, fx.f_varint(1, 10)))  # an older writer: only deprecated_id
    fx.Writer(tmp_path / "t").backup_dir(FULL_DIR, body, data_files={"data/1106.sst": sst(1)}, checksum=False)
    res = run(tmp_path, f"SHOW BACKUP '/{FULL_DIR}' IN 'nodelocal://self/t' WITH DEBUG_IDS, CHECK_FILES")
    assert res.columns == CRDB_COLUMNS_DEBUG_IDS + ["file_bytes"]
    end = FULL.replace(microsecond=480000)
    assert res.rows[-2:] == [
        (None, None, None, None, "5", 5, "TENANT", "full", None, end, None, None, None, None, None),
        (None, None, None, None, "10", 10, "TENANT", "full", None, end, None, None, None, None, None),
    ]
    assert [r[12] for r in res.rows[:-2]] == [True, True]  # is_full_cluster; NULL on tenant rows
