"""Issue 15, finding 8 (local storage): inputs that used to end in a traceback (exit 1) now give a
clear error naming the path, or, for listings, skip the entry with a warning. All through the
installed command, as a person meets them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import storage_support as ss

from engine.storage import StorageError, StorageSettings, open_storage

SHOW_LATEST = f"SHOW BACKUP FROM LATEST IN 'nodelocal://self/coll' WITH KMS = '{ss.DEMO_KMS}'"
ALTER_ALL = (
    "ALTER BACKUP ALL IN 'nodelocal://self/coll' ADD NEW_KMS = 'testkms:///new-key' "
    f"WITH OLD_KMS = '{ss.DEMO_KMS}'"
)


@pytest.mark.parametrize(
    "uri",
    ["file:///tmp/a%00b", "nodelocal://self/a%00b", "file:///tmp/a%00b/2026/01/01-000000.00"],
)
def test_nul_byte_in_a_storage_uri_is_a_clear_error(io_dir: Path, uri: str) -> None:
    p = ss.rewrap(io_dir, "-e", f"SHOW BACKUPS IN '{uri}'")
    ss.assert_clean_error(p, "NUL byte")


def test_nul_byte_in_a_key_or_subdir_is_a_clear_error(io_dir: Path) -> None:
    s = open_storage("nodelocal://self/coll", StorageSettings(external_io_dir=io_dir))
    for op in (lambda: s.read("a\0b"), lambda: s.child("2026/a\0b"), lambda: s.write_new("x\0", b"")):
        with pytest.raises(StorageError, match=r"nodelocal://self/coll: path .* contains a NUL byte"):
            op()


def test_nul_byte_in_a_subdir_statement_is_a_clear_error(io_dir: Path, tmp_path: Path) -> None:
    sql = tmp_path / "nul.sql"
    sql.write_bytes(
        b"SHOW BACKUP FROM '/2026/11/a\x00b' IN 'nodelocal://self/coll' WITH KMS = '"
        + ss.DEMO_KMS.encode() + b"';\n"
    )
    p = ss.rewrap(io_dir, "-f", str(sql))
    ss.assert_clean_error(p)


def test_nul_byte_in_latest_is_a_clear_error(io_dir: Path, coll_dir: Path) -> None:
    for latest in (coll_dir / "metadata" / "latest").iterdir():
        latest.write_bytes(b"/2026/11/2\x005-022812.34")
    p = ss.rewrap(io_dir, "-e", SHOW_LATEST)
    ss.assert_clean_error(p, "NUL byte")


def test_symlink_loops_skip_nothing_and_kill_nothing(io_dir: Path, coll_dir: Path) -> None:
    os.symlink(".", coll_dir / "loop")  # a directory loop in the collection
    os.symlink("self", coll_dir / "self")  # a link to itself
    first, second = ss.full_backups(coll_dir)
    os.symlink("ENCRYPTION-INFO-2", first / "ENCRYPTION-INFO-2")  # a loop named like a key file
    p = ss.rewrap(io_dir, "-e", "SHOW BACKUPS IN 'nodelocal://self/coll'")
    ss.assert_no_traceback(p)
    assert p.returncode == 0 and len(p.stdout.strip().splitlines()) >= 4, p.stderr
    p = ss.rewrap(io_dir, "-e", ALTER_ALL)
    ss.assert_no_traceback(p)
    assert p.returncode == 0, p.stderr  # every backup done, the looped one included
    assert (first / "ENCRYPTION-INFO-3").is_file() and (second / "ENCRYPTION-INFO-2").is_file()


def test_non_utf8_names_are_skipped_with_a_warning(io_dir: Path, coll_dir: Path) -> None:
    bad = os.fsencode(coll_dir) + b"/caf\xe9"
    os.mkdir(bad)
    open(bad + b"/BACKUP_MANIFEST", "wb").close()
    first, _ = ss.full_backups(coll_dir)
    open(os.fsencode(first) + b"/ENCRYPTION-INFO-\xff", "wb").close()
    s = open_storage("nodelocal://self/coll", StorageSettings(external_io_dir=io_dir))
    keys = list(s.list("", "data/"))
    assert not [k for k in keys if "caf" in k]
    assert any("nodelocal://self/coll/caf\\xe9: skipped, the name is not UTF-8" in w
               for w in s.take_warnings())
    p = ss.rewrap(io_dir, "-e", "SHOW BACKUPS IN 'nodelocal://self/coll'")
    ss.assert_no_traceback(p)
    assert p.returncode == 0, p.stderr
    p = ss.rewrap(io_dir, "-e", ALTER_ALL)
    ss.assert_no_traceback(p)
    assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("uri", ["file:///", "file:///proc/self"])
def test_show_backups_of_the_whole_filesystem_and_proc_ends_cleanly(io_dir: Path, uri: str) -> None:
    p = ss.rewrap(io_dir, "-e", f"SHOW BACKUPS IN '{uri}'", timeout=600)
    ss.assert_no_traceback(p)
    assert p.returncode == 0, p.stderr
