"""file:// is the user's own authority: reads go where their paths lead, symlinks included; writes
never follow a symlink that leaves the collection (the directory the URI names)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.storage import StorageError, open_storage


def test_reads_follow_the_users_links_writes_stay_in_the_collection(tmp_path: Path) -> None:
    coll = tmp_path / "coll"
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "2026").mkdir(parents=True)
    (elsewhere / "2026" / "BACKUP_MANIFEST").write_bytes(b"m")
    coll.mkdir()
    os.symlink(elsewhere / "2026", coll / "2026")  # absolute, out of the collection
    os.symlink("../elsewhere", coll / "rel-out")  # relative, out of the collection
    (coll / "inside").mkdir()
    os.symlink("inside", coll / "in-link")  # stays inside: fine for writes too
    s = open_storage(f"file://{coll}")
    assert s.read("2026/BACKUP_MANIFEST") == b"m"
    assert s.child("2026").read("BACKUP_MANIFEST") == b"m"
    for key in ("2026/ENCRYPTION-INFO-2", "rel-out/2026/ENCRYPTION-INFO-2"):
        with pytest.raises(StorageError, match=r"refusing to write through a symbolic link that "
                           r"leaves the collection .*file:// writes stay inside file://"):
            s.write_new(key, b"k")
    with pytest.raises(StorageError, match="leaves the collection"):
        s.child("2026").write_new("ENCRYPTION-INFO-2", b"k")
    assert sorted(os.listdir(elsewhere / "2026")) == ["BACKUP_MANIFEST"]
    s.write_new("in-link/ENCRYPTION-INFO-2", b"k")
    assert (coll / "inside" / "ENCRYPTION-INFO-2").read_bytes() == b"k"


def test_a_backup_opened_directly_is_its_own_collection(tmp_path: Path) -> None:
    """SHOW/ALTER BACKUP 'file:///.../2026/...' writes only below the path given."""
    (tmp_path / "b").mkdir()
    os.symlink(tmp_path, tmp_path / "b" / "up")
    s = open_storage(f"file://{tmp_path}/b")
    with pytest.raises(StorageError, match="leaves the collection"):
        s.write_new("up/x", b"k")
    assert not (tmp_path / "x").exists()
