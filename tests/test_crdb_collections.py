"""SHOW BACKUPS / SHOW BACKUP on collections written by the independent writer in crdb_fixtures:
both incremental layouts, both LATEST styles (with CockroachDB's real fixture name), KMS,
passphrase and unencrypted backups, v1 and v2 files, gzip'd and plain manifests, and damage."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import crdb_fixtures as fx
from engine.errors import RewrapError
from engine.execute import Executor, Result
from engine.formats.sst import write_sst
from engine.storage import StorageSettings
from syntax import parse

REAL_LATEST_NAME = (
    "LATEST-13cdcfcdccd2ceced2cfc6dfcec8c5cbc8c5cdc8d1c8cacbc8cdc7dfd4cfcfcfcfdfaaabbcdf92c2d4caccd1"
    "cfcfcbcfc7cdcdcecffffe"
)  # decodes to 2023-11-09 17:47:27.754728 +0000 UTC m=+53.004082210 (CockroachDB 23.1.11 fixture)
KEY = bytes(range(32))
DB = (104, "bank")
TABLES = [fx.FixtureTable(106, "accounts", 1000, 64000), fx.FixtureTable(107, "transfers", 50, 3000)]
FULL1, FULL2 = fx.utc(2023, 11, 9, 17, 26, 1, 370000), fx.utc(2023, 11, 9, 17, 47, 26, 480000)


def sst(n: int) -> bytes:
    return write_sst([(b"k%05d" % i + b"\x00", b"v") for i in range(n)], comparer="leveldb.BytewiseComparator")


def run(io_dir: Path, sql: str) -> Result:
    executor = Executor(StorageSettings(external_io_dir=io_dir))
    results = [executor.run(s) for s in parse(sql)]
    return results[-1]


def data_files(tables: list[fx.FixtureTable]) -> dict[str, bytes]:
    return {f"data/{1000 + t.id}.sst": sst(3) for t in tables}


def kms_collection(root: Path, *, layout: str = "new") -> None:
    """Two full backups, testkms 'cmk'; the second has three incrementals."""
    w = fx.Writer(root, data_key=KEY)
    for end in (FULL1, FULL2):
        sub = fx.subdir(end).strip("/")
        w.put(f"{sub}/ENCRYPTION-INFO", fx.encryption_info(kms={hashlib.sha256(b"cmk").digest(): fx.testkms_wrap("cmk", KEY)}))
        w.backup_dir(sub, fx.manifest(start=None, end=end, db=DB, tables=TABLES), data_files=data_files(TABLES))
    full2 = fx.subdir(FULL2).strip("/")
    start = FULL2
    incs = [fx.utc(2023, 11, 9, 18), fx.utc(2023, 11, 9, 19), fx.utc(2023, 11, 9, 20)]
    for n, end in enumerate(incs):
        small = [fx.FixtureTable(t.id, t.name, 10 + n, 640) for t in TABLES]
        name = fx.inc_subdir(end)
        if n == 2:  # v25.2+: "-<start time>" suffix
            name += "-" + start.strftime("%Y%m%d-%H%M%S.") + f"{start.microsecond // 10000:02d}"
        rel = f"incrementals/{full2}{name}" if layout == "new" else f"{full2}{name}"
        w.backup_dir(rel, fx.manifest(start=start, end=end, db=DB, tables=small), data_files=data_files(small))
        start = end
    # LATEST: an older pointer (lexically larger name) and CockroachDB's real fixture name.
    w.put("metadata/latest/" + fx.latest_name("2023-11-09 17:26:02.1 +0000 UTC"), b"/2023/11/09-172601.37")
    w.put("metadata/latest/" + REAL_LATEST_NAME, b"/2023/11/09-174726.48")


@pytest.fixture()
def io_dir(tmp_path: Path) -> Path:
    return tmp_path


def test_show_backups_lists_full_backups_only(io_dir: Path) -> None:
    kms_collection(io_dir / "c")
    res = run(io_dir, "SHOW BACKUPS IN 'nodelocal://self/c'")
    assert res.columns == ["path"]
    assert res.rows == [("/2023/11/09-172601.37",), ("/2023/11/09-174726.48",)]


@pytest.mark.parametrize("layout", ["new", "old"])
def test_show_backup_latest_reads_the_whole_chain(io_dir: Path, layout: str) -> None:
    kms_collection(io_dir / "c", layout=layout)
    res = run(io_dir, "SHOW BACKUP FROM LATEST IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk?AUTH=implicit&REGION=blah'")
    assert res.columns[:4] == ["database_name", "parent_schema_name", "object_name", "object_type"]
    kinds = [r[4] for r in res.rows if r[2] == "accounts"]
    assert kinds == ["full", "incremental", "incremental", "incremental"]
    accounts = [r for r in res.rows if r[2] == "accounts"]
    assert accounts[0][:4] == ("bank", "public", "accounts", "table")
    assert (accounts[0][7], accounts[0][8]) == (64000, 1000)
    assert [r[8] for r in accounts[1:]] == [10, 11, 12]
    assert accounts[0][5] is None and accounts[0][6].replace(tzinfo=None) == FULL2.replace(tzinfo=None)
    assert accounts[1][5] == accounts[0][6]  # each layer starts where the previous ended
    db_rows = [r for r in res.rows if r[3] == "database"]
    assert db_rows[0][:3] == (None, None, "bank") and db_rows[0][7] is None
    assert not res.notices


def test_show_backup_by_subdir(io_dir: Path) -> None:
    kms_collection(io_dir / "c")
    by_subdir = run(io_dir, "SHOW BACKUP '/2023/11/09-172601.37' IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk'")
    no_slash = run(io_dir, "SHOW BACKUP FROM '2023/11/09-172601.37/' IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk'")
    assert by_subdir.rows == no_slash.rows
    assert {r[4] for r in by_subdir.rows} == {"full"}
    with pytest.raises(RewrapError, match="a subdirectory of the collection is expected"):
        run(io_dir, "SHOW BACKUP 'nodelocal://self/c/2023/11/09-172601.37' IN 'nodelocal://self/c'")


def test_encrypted_backup_needs_a_key(io_dir: Path) -> None:
    kms_collection(io_dir / "c")
    with pytest.raises(RewrapError, match="file appears encrypted"):
        run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/c'")
    with pytest.raises(RewrapError) as e:
        run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = ('testkms:///other', 'nope')")
    msg = str(e.value)
    assert "testkms:///other" in msg and "'other' not found in ENCRYPTION-INFO" in msg
    assert "nope" in msg  # the malformed URI is named with its reason
    with pytest.raises(RewrapError, match="not passphrase-encrypted"):
        run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH ENCRYPTION_PASSPHRASE = 'x'")


def test_every_kms_in_list_must_be_a_key_of_the_backup(io_dir: Path) -> None:
    """CockroachDB's ValidateKMSURIsAgainstFullBackup needs every given URI's id in one file
    (cockroachdb/cockroach pkg/backup/backupencryption/encryption.go, commit 200d56f7)."""
    kms_collection(io_dir / "c")
    with pytest.raises(RewrapError, match="one of the provided URIs was not used when encrypting the base BACKUP"):
        run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = ('testkms:///other', 'testkms:///cmk')")
    res = run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk'")
    assert len(res.rows) == 4 * 3


def test_legacy_root_latest_passphrase_v1_plain_manifest_old_layout(io_dir: Path) -> None:
    root = io_dir / "p"
    salt = b"0123456789abcdef"
    key = fx.pbkdf2("s3cret", salt)
    w = fx.Writer(root, data_key=key, gzip_manifest=False, version=1)
    sub = fx.subdir(FULL1).strip("/")
    w.put(f"{sub}/ENCRYPTION-INFO", fx.encryption_info(salt=salt))
    w.backup_dir(sub, fx.manifest(start=None, end=FULL1, db=DB, tables=TABLES), data_files=data_files(TABLES))
    inc_end = fx.utc(2023, 11, 9, 18, 0, 0, 500000)
    w.backup_dir(f"{sub}{fx.inc_subdir(inc_end)}", fx.manifest(start=FULL1, end=inc_end, db=DB, tables=TABLES[:1]), checksum=False, data_files=data_files(TABLES[:1]))
    w.put("LATEST", b"/" + sub.encode())
    res = run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/p' WITH ENCRYPTION_PASSPHRASE = 's3cret', CHECK_FILES")
    assert [r[4] for r in res.rows if r[3] == "table"] == ["full", "full", "incremental"]
    with pytest.raises(RewrapError, match="failed to decrypt"):
        run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/p' WITH ENCRYPTION_PASSPHRASE = 'wrong'")
    with pytest.raises(RewrapError, match="passphrase"):
        run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/p' WITH KMS = 'testkms:///cmk'")


def test_unencrypted_cluster_backup_with_public_schema_descriptor(io_dir: Path) -> None:
    w = fx.Writer(io_dir / "u")
    sub = fx.subdir(FULL2).strip("/")
    tables = [fx.FixtureTable(106, "accounts", 7, 70, schema_id=105)]
    w.backup_dir(sub, fx.manifest(start=None, end=FULL2, db=DB, tables=tables, cluster=True, public_schema_id=105), checksum=False)
    w.put("metadata/latest/" + REAL_LATEST_NAME, b"/" + sub.encode())
    res = run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/u'")
    assert [r[:4] for r in res.rows] == [
        (None, None, "bank", "database"),
        ("bank", None, "public", "schema"),
        ("bank", "public", "accounts", "table"),
    ]
    assert all(r[9] is True for r in res.rows)
    with pytest.raises(RewrapError, match="not encrypted"):
        run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/u' WITH KMS = 'testkms:///cmk'")


def test_incrementals_in_both_layouts_is_an_error(io_dir: Path) -> None:
    kms_collection(io_dir / "c")
    w = fx.Writer(io_dir / "c", data_key=KEY)
    full2 = fx.subdir(FULL2).strip("/")
    w.backup_dir(f"{full2}/20231109/210000.00", fx.manifest(start=FULL2, end=fx.utc(2023, 11, 9, 21), db=DB, tables=TABLES))
    with pytest.raises(RewrapError, match="both the old location"):
        run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk'")


def test_pointing_at_an_incremental_names_the_full_backup(io_dir: Path) -> None:
    kms_collection(io_dir / "c")
    with pytest.raises(RewrapError, match=r"incremental backup.*use /2023/11/09-174726\.48"):
        run(io_dir, "SHOW BACKUP '/incrementals/2023/11/09-174726.48/20231109/180000.00' IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk'")


def test_damage_is_reported_not_crashed_on(io_dir: Path) -> None:
    kms_collection(io_dir / "c")
    full2 = io_dir / "c" / "2023/11/09-174726.48"
    # a data file truncated on a chunk-free boundary, and one missing
    f = full2 / "data/1106.sst"
    f.write_bytes(f.read_bytes()[:-16])
    (full2 / "data/1107.sst").unlink()
    with pytest.raises(RewrapError) as e:
        run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk', CHECK_FILES")
    assert "data/1106.sst" in str(e.value) and "data/1107.sst: missing" in str(e.value)
    # without CHECK_FILES the manifest still reads
    assert run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk'").rows
    # a flipped bit in the manifest fails its checksum
    m = full2 / "BACKUP_MANIFEST"
    raw = bytearray(m.read_bytes())
    raw[40] ^= 1
    m.write_bytes(bytes(raw))
    with pytest.raises(RewrapError, match="checksum mismatch"):
        run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk'")


def test_unreadable_extra_encryption_info_is_skipped_with_a_notice(io_dir: Path) -> None:
    kms_collection(io_dir / "c")
    (io_dir / "c/2023/11/09-174726.48/ENCRYPTION-INFO-2").write_bytes(b"\xff\xff garbage")
    res = run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk'")
    assert res.rows
    assert any("ENCRYPTION-INFO-2" in n for n in res.notices)


def test_missing_collection_and_latest(io_dir: Path) -> None:
    (io_dir / "empty").mkdir()
    assert run(io_dir, "SHOW BACKUPS IN 'nodelocal://self/empty'").rows == []
    with pytest.raises(RewrapError, match="no LATEST file"):
        run(io_dir, "SHOW BACKUP LATEST IN 'nodelocal://self/empty'")
    with pytest.raises(RewrapError, match="no backup found at /2020/01/01-000000.00"):
        run(io_dir, "SHOW BACKUP '2020/01/01-000000.00' IN 'nodelocal://self/empty'")


def test_backup_metadata_only_backup_reads_its_list_ssts(io_dir: Path) -> None:
    """A v23.1+ style backup with only BACKUP_METADATA + filelist.sst / descriptorslist.sst
    (built with our own encoders: the SST layer has its own byte-level tests)."""
    from engine.formats import encrypted_file
    from engine.formats.backup_ssts import encode_descriptorslist, encode_filelist
    from engine.formats.manifest import decode_manifest, encode_manifest, slim_manifest

    kms_collection(io_dir / "c")
    full = io_dir / "c" / "2023/11/09-172601.37"
    full_manifest = decode_manifest(
        (full / "BACKUP_MANIFEST").read_bytes(), decrypt=lambda b: encrypted_file.decrypt(KEY, b)
    )
    seal = lambda b: encrypted_file.encrypt(KEY, b)  # noqa: E731
    stored, checksum = encode_manifest(slim_manifest(full_manifest), encrypt=seal)
    (full / "BACKUP_MANIFEST").unlink()
    (full / "BACKUP_MANIFEST-CHECKSUM").unlink()
    (full / "BACKUP_METADATA").write_bytes(stored)
    (full / "BACKUP_METADATA-CHECKSUM").write_bytes(checksum)
    files = [(f.span.key, f.path, f.SerializeToString()) for f in full_manifest.files]
    (full / "filelist.sst").write_bytes(seal(encode_filelist(files)))
    descs = []
    for d in full_manifest.descriptors:
        inner = getattr(d, d.WhichOneof("union"))
        descs.append((inner.id, d.SerializeToString()))
    (full / "descriptorslist.sst").write_bytes(seal(encode_descriptorslist(descs)))
    # SHOW BACKUPS only recognises BACKUP_MANIFEST, exactly like CockroachDB
    assert run(io_dir, "SHOW BACKUPS IN 'nodelocal://self/c'").rows == [("/2023/11/09-174726.48",)]
    res = run(io_dir, "SHOW BACKUP '/2023/11/09-172601.37' IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk', CHECK_FILES")
    assert sorted(r[2] for r in res.rows) == ["accounts", "bank", "transfers"]
    assert {r[2]: r[8] for r in res.rows if r[3] == "table"} == {"accounts": 1000, "transfers": 50}


def test_full_backup_in_a_deep_custom_subdir_is_not_mistaken_for_an_incremental(io_dir: Path) -> None:
    """BACKUP INTO 'a/b/c/d' IN ... is legal; only an incremental's own YYYYMMDD/HHMMSS.hh tail
    (or incrementals/) marks an incremental."""
    w = fx.Writer(io_dir / "deep")
    w.backup_dir("team/db/nightly/first", fx.manifest(start=None, end=FULL1, db=DB, tables=TABLES), checksum=False)
    res = run(io_dir, "SHOW BACKUP '/team/db/nightly/first' IN 'nodelocal://self/deep'")
    assert {r[2] for r in res.rows} == {"bank", "accounts", "transfers"}
    w.backup_dir("team/db/nightly/first/20231109/180000.00", fx.manifest(start=FULL1, end=fx.utc(2023, 11, 9, 18), db=DB, tables=TABLES), checksum=False)
    with pytest.raises(RewrapError, match=r"incremental backup.*use /team/db/nightly/first"):
        run(io_dir, "SHOW BACKUP '/team/db/nightly/first/20231109/180000.00' IN 'nodelocal://self/deep'")
