"""Backups with only the slim manifest (BACKUP_METADATA + filelist.sst + descriptorslist.sst, as
CockroachDB 26.3 writes them) and 25.4-style backups with both manifests, end to end.

Collections are written by the independent writer in tests/crdb_fixtures.py (it imports nothing
of ours; only the SST container of filelist.sst / descriptorslist.sst comes from the SST writer
the table format needs, via engine.formats.sst_writers) and graded, after ALTER BACKUP, by the
independent tests/rewrap/chain_reader.py.

CockroachDB facts these tests pin (cockroachdb/cockroach, looked up 2026-12-01):
- SHOW BACKUPS' legacy listing: pkg/backup/backupdest/backup_destination.go
  `ListFullBackupsInCollection` + `backupPathRE` `^/?[^/]+/[^/]+/[^/]+/BACKUP_MANIFEST$`
  (commit 337b9f43e2fc); the newest backupbase/constants.go calls that file
  `DeprecatedBackupManifestName` ("Remove 26.3"), so a slim-only backup is found only through
  the backup index.
- The backup index: pkg/backup/backupinfo/backup_index.go (commit 3e9ada9d708b):
  `metadata/index/<EncodeDescendingTS(full end)>_<20060102-150405.00>/` per chain
  (`convertSubdirToIndexSubdir`), files `<desc end>_<start|0>_<end>_metadata.pb`
  (`getBackupIndexFileName`), `ListIndexes` sorted by end then start; incrementals from
  `FindAllIncrementalPaths` (pkg/backup/backupdest/incrementals.go): skip the first index entry,
  path `ConstructDateBasedIncrementalFolderName` = `/<end 20060102/150405.00>-<start
  20060102-150405.00>`; without an index `LegacyFindPriorBackups` globs for BACKUP_MANIFEST only.
- LATEST: backupdest.FindLatestFile (backup_destination.go, same commit): first name under
  metadata/latest, else root LATEST.
- EncodeUvarintDescending: pkg/util/encoding/encoding.go (marker IntMin+8-width, then ^v).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import crdb_fixtures as fx
from engine.errors import RewrapError
from engine.execute import Executor, Result
from engine.formats.releases import RELEASES
from engine.formats.sst_writers import can_write, write_table
from engine.storage import StorageSettings
from syntax import parse

sys.path.insert(0, str(Path(__file__).resolve().parent / "rewrap"))
import chain_reader  # noqa: E402

REWRAP = str(Path(sys.executable).with_name("rewrap"))
KEY = bytes(range(32))
DB = (104, "bank")
TABLES = [fx.FixtureTable(106, "accounts", 1000, 64000), fx.FixtureTable(107, "transfers", 50, 3000)]
F1 = fx.utc(2025, 11, 1, 10, 0, 0, 120000)  # 25.4: both manifests, indexed
F2 = fx.utc(2026, 6, 1, 10, 0, 0, 340000)  # 26.3: slim only, indexed, three incrementals
F3 = fx.utc(2026, 7, 1, 9, 30, 0, 560000)  # slim only, no index: CockroachDB does not list it
INCS = [fx.utc(2026, 6, 1, 11, 0, 0, 10000), fx.utc(2026, 6, 1, 12, 0, 0, 20000), fx.utc(2026, 6, 1, 13, 0, 0, 30000)]
KMS = "testkms:///cmk?AUTH=implicit"


def sst(rows: list[tuple[bytes, bytes]]) -> bytes:
    return write_table(rows, "pebble,v2")


def data_sst(n: int) -> bytes:
    return write_table([(b"k%05d" % i + b"\x00", b"v") for i in range(n)], "pebble,v2",
                       comparer="leveldb.BytewiseComparator")


def data_files(tables: list[fx.FixtureTable]) -> dict[str, bytes]:
    return {f"data/{1000 + t.id}.sst": data_sst(3) for t in tables}


def info() -> bytes:
    return fx.encryption_info(kms={hashlib.sha256(b"cmk").digest(): fx.testkms_wrap("cmk", KEY)})


def slim_layer(w: fx.Writer, rel: str, start, end, tables, *, both: bool = False) -> None:
    w.slim_backup_dir(
        rel,
        fx.slim_manifest(start=start, end=end, tables=tables),
        sst=sst,
        files=fx.filelist_entries(tables),
        descriptors=fx.descriptorslist_entries(DB, tables, public_schema_id=105),
        data_files=data_files(tables),
        manifest=fx.manifest(start=start, end=end, db=DB, tables=tables, public_schema_id=105) if both else None,
    )


def slim_collection(root: Path) -> None:
    w = fx.Writer(root, data_key=KEY)
    for end, both, indexed in ((F1, True, True), (F2, False, True), (F3, False, False)):
        sub = fx.subdir(end).strip("/")
        w.put(f"{sub}/ENCRYPTION-INFO", info())
        slim_layer(w, sub, None, end, TABLES, both=both)
        if indexed:
            w.index(end, None, end)
    start = F2
    for n, end in enumerate(INCS):
        small = [fx.FixtureTable(t.id, t.name, 10 + n, 640) for t in TABLES]
        slim_layer(w, f"incrementals/{fx.subdir(F2).strip('/')}{fx.inc_dir_with_start(start, end)}", start, end, small)
        w.index(F2, start, end)
        start = end
    w.put("metadata/latest/" + fx.latest_name("2026-06-01 10:00:01.5 +0000 UTC m=+12.000000001"), fx.subdir(F2).encode())
    w.put("metadata/latest/" + fx.latest_name("2025-11-01 10:00:01.5 +0000 UTC m=+12.000000001"), fx.subdir(F1).encode())


def run(io_dir: Path, sql: str) -> Result:
    executor = Executor(StorageSettings(external_io_dir=io_dir))
    return [executor.run(s) for s in parse(sql)][-1]


def cli(io_dir: Path, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run([REWRAP, "--external-io-dir", str(io_dir), "-e", sql], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL, env=dict(os.environ))


@pytest.fixture()
def io_dir(tmp_path: Path) -> Path:
    slim_collection(tmp_path / "c")
    return tmp_path


def test_show_backups_finds_slim_only_backups_through_the_index(io_dir: Path) -> None:
    assert not (io_dir / "c" / fx.subdir(F2).strip("/") / "BACKUP_MANIFEST").exists()
    res = run(io_dir, "SHOW BACKUPS IN 'nodelocal://self/c'")
    assert res.rows == [(fx.subdir(F1),), (fx.subdir(F2),)]
    # F3 has only BACKUP_METADATA and no index entry: CockroachDB's listing cannot see it.
    assert any(fx.subdir(F3) in n and "metadata/index/" in n for n in res.notices)


def test_legacy_listing_ignores_slim_only_dirs_without_index(io_dir: Path) -> None:
    shutil.rmtree(io_dir / "c" / "metadata" / "index")
    res = run(io_dir, "SHOW BACKUPS IN 'nodelocal://self/c'")
    assert res.rows == [(fx.subdir(F1),)]  # only the one with BACKUP_MANIFEST
    assert len(res.notices) == 2


def test_show_backup_latest_reads_the_slim_chain(io_dir: Path) -> None:
    res = run(io_dir, f"SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'")
    i = res.columns.index
    accounts = [r for r in res.rows if r[i("object_name")] == "accounts"]
    assert [r[i("backup_type")] for r in accounts] == ["full", "incremental", "incremental", "incremental"]
    assert [r[i("rows")] for r in accounts] == [1000, 10, 11, 12]
    assert accounts[0][i("size_bytes")] == 64000
    assert accounts[0][i("database_name")] == "bank" and accounts[0][i("parent_schema_name")] == "public"
    assert not any("assertion" in str(r) for r in res.rows)  # placeholders never shown
    assert not res.notices


def test_show_backup_files_and_ranges_of_a_slim_chain(io_dir: Path) -> None:
    files = run(io_dir, f"SHOW BACKUP FILES FROM LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'")
    paths = [str(r[files.columns.index("path")]) for r in files.rows]
    assert len(paths) == 8 and all(p.endswith(("data/1106.sst", "data/1107.sst")) for p in paths)
    assert [r[files.columns.index("backup_type")] for r in files.rows].count("incremental") == 6
    ranges = run(io_dir, f"SHOW BACKUP RANGES FROM LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'")
    assert len(ranges.rows) == 8  # the slim manifest keeps its spans: 2 tables x 4 layers
    start, end = ranges.columns.index("start_key"), ranges.columns.index("end_key")

    def hexed(v: object) -> str:  # bytes, or hex text, whichever the columns use
        return v.hex() if isinstance(v, bytes) else str(v).removeprefix("\\x")

    spans = {(hexed(r[start]), hexed(r[end])) for r in ranges.rows}
    assert spans == {(fx.uvarint_asc(t).hex(), fx.uvarint_asc(t + 1).hex()) for t in (106, 107)}


def test_check_files_uses_filelist_sst(io_dir: Path) -> None:
    ok = run(io_dir, f"SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}', check_files")
    assert ok.rows
    inc = io_dir / "c" / "incrementals" / fx.subdir(F2).strip("/") / fx.inc_dir_with_start(INCS[0], INCS[1]).strip("/")
    (inc / "data" / "1107.sst").unlink()
    with pytest.raises(RewrapError, match=r"(?s)1 bad file.*data/1107\.sst: missing"):
        run(io_dir, f"SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}', check_files")


def test_slim_only_backup_without_index_opens_by_subdir(io_dir: Path) -> None:
    res = run(io_dir, f"SHOW BACKUP '{fx.subdir(F3)}' IN 'nodelocal://self/c' WITH KMS = '{KMS}'")
    assert {r[res.columns.index("object_name")] for r in res.rows} >= {"accounts", "transfers"}


def test_missing_filelist_is_a_clear_error(io_dir: Path) -> None:
    (io_dir / "c" / fx.subdir(F2).strip("/") / "filelist.sst").unlink()
    with pytest.raises(RewrapError, match=r"filelist\.sst: missing, but .*BACKUP_METADATA says"):
        run(io_dir, f"SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'")


def test_index_naming_a_missing_incremental_is_a_clear_error(io_dir: Path) -> None:
    fx.Writer(io_dir / "c").index(F2, INCS[2], fx.utc(2026, 6, 1, 14))
    with pytest.raises(RewrapError, match=r"named by the backup index .* but no manifest is there"):
        run(io_dir, f"SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'")


def test_wrong_key_on_slim_manifest(io_dir: Path) -> None:
    bad = io_dir / "c" / fx.subdir(F2).strip("/") / "ENCRYPTION-INFO"
    bad.write_bytes(fx.encryption_info(kms={hashlib.sha256(b"cmk").digest(): fx.testkms_wrap("cmk", bytes(32))}))
    with pytest.raises(RewrapError):
        run(io_dir, f"SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'")


def test_cli_end_to_end_on_slim_only_collection(io_dir: Path) -> None:
    for sql in (
        "SHOW BACKUPS IN 'nodelocal://self/c'",
        f"SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'",
        f"SHOW BACKUP FILES FROM LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'",
        f"SHOW BACKUP RANGES FROM LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'",
        f"SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}', check_files",
    ):
        p = cli(io_dir, sql)
        assert p.returncode == 0, (sql, p.stderr)
        assert "Traceback" not in p.stderr
    assert fx.subdir(F2) in cli(io_dir, "SHOW BACKUPS IN 'nodelocal://self/c'").stdout
    coll = io_dir / "c"
    before = chain_reader.snapshot(coll)
    for target in ("LATEST", f"'{fx.subdir(F3)}'"):
        p = cli(io_dir, f"ALTER BACKUP {target} IN 'nodelocal://self/c' ADD NEW_KMS = 'testkms:///k2' "
                        f"WITH OLD_KMS = '{KMS}'")
        assert p.returncode == 0, p.stderr
    # The independent reader opens each altered chain with the new key, every layer slim-only.
    assert chain_reader.open_chain(coll, fx.subdir(F2), "k2") == 4
    assert chain_reader.open_chain(coll, fx.subdir(F3), "k2") == 1
    assert chain_reader.key_count(coll / fx.subdir(F1).strip("/"), "k2") == 0
    after = chain_reader.snapshot(coll)
    assert {k for k in after if k not in before} == {
        f"{fx.subdir(F2).strip('/')}/ENCRYPTION-INFO-2", f"{fx.subdir(F3).strip('/')}/ENCRYPTION-INFO-2"}
    assert all(after[k] == v for k, v in before.items())  # nothing else touched


def test_both_manifests_backup_opens_either_way(io_dir: Path) -> None:
    full1 = io_dir / "c" / fx.subdir(F1).strip("/")
    with_both = run(io_dir, f"SHOW BACKUP '{fx.subdir(F1)}' IN 'nodelocal://self/c' WITH KMS = '{KMS}'")
    (full1 / "BACKUP_MANIFEST").unlink()
    (full1 / "BACKUP_MANIFEST-CHECKSUM").unlink()
    slim_only = run(io_dir, f"SHOW BACKUP '{fx.subdir(F1)}' IN 'nodelocal://self/c' WITH KMS = '{KMS}'")
    assert slim_only.rows == with_both.rows
    # Still listed: its chain is in the index.
    assert (fx.subdir(F1),) in run(io_dir, "SHOW BACKUPS IN 'nodelocal://self/c'").rows


def test_releases_table_layouts() -> None:
    assert [v for v, r in RELEASES.items() if r.slim_only] == ["26.3"]
    assert RELEASES["23.2"].table_format == "pebble,v2" and RELEASES["24.1"].table_format == "pebble,v4"
    # MakeIngestionWriterOptions (pkg/storage/sst_writer.go): v4, or v5 with columnar blocks on.
    assert [RELEASES[v].table_format for v in ("24.3", "25.1", "25.2", "25.3", "26.2")] == [
        "pebble,v4", "pebble,v5", "pebble,v5", "pebble,v5", "pebble,v5"]
    assert [v for v, r in RELEASES.items() if r.incremental_suffix][0] == "25.2"
    assert [v for v, r in RELEASES.items() if r.backup_index][0] == "25.4"
    assert can_write("pebble,v2")


# --- LATEST linear (issue 15 item 5) ----------------------------------------------------------------


@pytest.mark.parametrize("repeat", [2000, 160_000])
def test_huge_latest_file_finishes_with_a_clear_error(tmp_path: Path, repeat: int) -> None:
    coll = tmp_path / "c"
    coll.mkdir()
    (coll / "LATEST").write_bytes(b"/a" * repeat)
    with pytest.raises(RewrapError) as e:
        run(tmp_path, "SHOW BACKUP LATEST IN 'nodelocal://self/c'")
    if repeat * 2 > 4096:
        assert "malformed LATEST file: longer than 4096 bytes" in str(e.value)
    p = cli(tmp_path, "SHOW BACKUP LATEST IN 'nodelocal://self/c'")
    assert p.returncode == 1 and "Traceback" not in p.stderr and "ERROR" in p.stderr


def test_huge_subdir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    with pytest.raises(RewrapError, match="longer than 4096 bytes"):
        run(tmp_path, "SHOW BACKUP '" + "/a" * 160_000 + "' IN 'nodelocal://self/c'")


def test_index_decides_the_chain_when_present(io_dir: Path) -> None:
    """FindAllIncrementalPaths uses the index when a chain has one: a directory it does not name
    (e.g. a backup still running, or left by a failed one) is not part of the chain."""
    w = fx.Writer(io_dir / "c", data_key=KEY)
    stray = fx.utc(2026, 6, 1, 14)
    small = [fx.FixtureTable(t.id, t.name, 99, 640) for t in TABLES]
    slim_layer(w, f"incrementals/{fx.subdir(F2).strip('/')}{fx.inc_dir_with_start(INCS[2], stray)}", INCS[2], stray, small)
    res = run(io_dir, f"SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'")
    rows = [r[res.columns.index("rows")] for r in res.rows if r[res.columns.index("object_name")] == "accounts"]
    assert rows == [1000, 10, 11, 12]
    shutil.rmtree(io_dir / "c" / "metadata" / "index")  # no index: the legacy listing finds it
    res = run(io_dir, f"SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = '{KMS}'")
    rows = [r[res.columns.index("rows")] for r in res.rows if r[res.columns.index("object_name")] == "accounts"]
    assert rows == [1000, 10, 11, 12, 99]


def test_read_manifest_proves_the_key_on_a_slim_only_backup(io_dir: Path) -> None:
    """engine.reader.read_manifest is ALTER BACKUP's proof that an unwrapped key is the data key:
    on a slim-only backup it decrypts (and checksums) BACKUP_METADATA."""
    from engine.collection import Collection
    from engine.encryption import DataKey
    from engine.reader import read_manifest
    from engine.storage.local import LocalStorage

    root = io_dir / "c"
    backup = Collection(LocalStorage(root, f"file://{root}")).full_backup("LATEST")
    assert backup.manifest_name == "BACKUP_METADATA"
    m = read_manifest(backup.layer(), DataKey(KEY))
    assert m.has_external_manifest_ssts and m.end_time.wall_time
    with pytest.raises(RewrapError):
        read_manifest(backup.layer(), DataKey(bytes(32)))
    (root / fx.subdir(F2).strip("/") / "BACKUP_METADATA-CHECKSUM").write_bytes(b"\0\0\0\0")
    with pytest.raises(RewrapError, match="checksum mismatch"):
        read_manifest(backup.layer(), DataKey(KEY))


def test_alter_all_covers_slim_only_backups_cockroachdb_does_not_list(io_dir: Path) -> None:
    res = run(io_dir, f"ALTER BACKUP ALL IN 'nodelocal://self/c' ADD NEW_KMS = 'testkms:///k3' WITH OLD_KMS = '{KMS}'")
    assert sorted(r[0] for r in res.rows) == sorted(fx.subdir(t) for t in (F1, F2, F3))
    for end in (F1, F2, F3):
        assert chain_reader.data_key(io_dir / "c", fx.subdir(end), "k3") == KEY
