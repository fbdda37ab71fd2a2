"""file:// lists subdirectories by path and nodelocal:// through directory fds: same keys either
way, symlinks listed under their own name and never descended into, data/ never entered."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.storage import StorageSettings, open_storage


def _tree(root: Path, elsewhere: Path) -> None:
    for sub in ("2026/11/01-000000.00", "2026/11/02-000000.00", "2026/12/01-000000.00"):
        (root / sub / "data").mkdir(parents=True)
        (root / sub / "BACKUP_MANIFEST").write_bytes(b"m")
        (root / sub / "data" / "1.sst").write_bytes(b"d")
    (elsewhere / "x" / "y").mkdir(parents=True)
    (elsewhere / "x" / "y" / "BACKUP_MANIFEST").write_bytes(b"m")
    os.symlink(elsewhere, root / "2027")  # a symlinked directory: a key, never walked
    (root / "2026" / "11" / "LATEST").write_bytes(b"l")
    (root / "metadata" / "index").mkdir(parents=True)  # an empty directory lists nothing


@pytest.mark.parametrize("prefix", ["", "2026/", "2026/1", "2026/11/02", "2027"])
def test_file_and_nodelocal_listings_agree(
    tmp_path: Path, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    io_dir = tmp_path / "io"
    _tree(io_dir / "coll", tmp_path / "elsewhere")
    by_path = open_storage(f"file://{io_dir}/coll")
    by_fd = open_storage("nodelocal://self/coll", settings=StorageSettings(external_io_dir=io_dir))
    scanned: list[object] = []
    real_scandir = os.scandir

    def recording_scandir(path):  # type: ignore[no-untyped-def]
        scanned.append(os.readlink(f"/proc/self/fd/{path}") if isinstance(path, int) else os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", recording_scandir)
    for delimiter in ("", "data/", "/"):
        scanned.clear()
        got = list(by_path.list(prefix, delimiter))
        assert got == list(by_fd.list(prefix, delimiter)), (prefix, delimiter)
        walked = [str(p).rstrip("/") for p in scanned]
        assert not [p for p in walked if p.endswith(("elsewhere", "2027"))]  # never a symlink
        if delimiter == "data/":
            assert scanned and not [p for p in walked if p.endswith("data")]
        if prefix == "" and delimiter == "data/":
            assert got == [
                "2026/11/01-000000.00/BACKUP_MANIFEST", "2026/11/01-000000.00/data/",
                "2026/11/02-000000.00/BACKUP_MANIFEST", "2026/11/02-000000.00/data/",
                "2026/11/LATEST",
                "2026/12/01-000000.00/BACKUP_MANIFEST", "2026/12/01-000000.00/data/",
                "2027",
                "metadata/",  # S3's CommonPrefixes rule: "data/" occurs in "metadata/"
            ]
