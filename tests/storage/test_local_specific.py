"""What only local storage has: nodelocal:// host rules and the external-IO jail, no temporary
file left behind, racing PROCESSES, directory scans that never enter a collapsed directory, file://
paths and scheme errors. The shared contract is tests/storage/test_conformance.py."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from engine.storage import AlreadyExists, StorageError, StorageSettings, open_storage


@pytest.fixture()
def io_dir(tmp_path: Path) -> Path:
    d = tmp_path / "extern"
    d.mkdir()
    return d


def nodelocal(io_dir: Path, uri: str = "nodelocal://self/coll"):
    return open_storage(uri, StorageSettings(external_io_dir=io_dir))


def test_nodelocal_resolves_under_external_io_dir(io_dir: Path) -> None:
    s = nodelocal(io_dir)
    s.write_new("a/b.txt", b"hello")
    assert (io_dir / "coll" / "a" / "b.txt").read_bytes() == b"hello"
    assert nodelocal(io_dir, "nodelocal://1/coll").read("a/b.txt") == b"hello"
    assert s.size("a/b.txt") == 5
    assert s.read_range("a/b.txt", 1, 3) == b"ell"
    assert s.read_range("a/b.txt", 4, 100) == b"o"


def test_nodelocal_host_errors_use_cockroach_texts(io_dir: Path) -> None:
    with pytest.raises(StorageError, match="host component of nodelocal URI must be a node ID: abc"):
        nodelocal(io_dir, "nodelocal://abc/x")
    with pytest.raises(StorageError, match=r"use 'self' to specify"):
        nodelocal(io_dir, "nodelocal:///x")


def test_paths_cannot_escape_external_io_dir(io_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("s")
    s = nodelocal(io_dir)
    with pytest.raises(StorageError, match=r"'\.\.'"):
        s.read("../../secret")
    with pytest.raises(StorageError, match=r"'\.\.'"):
        nodelocal(io_dir, "nodelocal://self/../secret")
    (io_dir / "coll").mkdir()
    os.symlink(tmp_path, io_dir / "coll" / "out")
    with pytest.raises(StorageError, match="outside the external IO directory"):
        s.read("out/secret")
    with pytest.raises(StorageError, match="outside the external IO directory"):
        s.write_new("out/new", b"x")
    assert not (tmp_path / "new").exists()
    # Listed under its own name (the name is taken), never followed (Go's filepath.Walk does not
    # follow either); reading through it is refused above.
    assert list(s.list()) == ["out"]


def test_create_only_write_never_overwrites(io_dir: Path) -> None:
    s = nodelocal(io_dir)
    s.write_new("f", b"first")
    with pytest.raises(AlreadyExists):
        s.write_new("f", b"second")
    assert s.read("f") == b"first"
    assert sorted(os.listdir(io_dir / "coll")) == ["f"]  # no temp file left behind


def _race(args: tuple[str, int]) -> bool:
    io_dir, i = args
    s = open_storage("nodelocal://self/race", StorageSettings(external_io_dir=Path(io_dir)))
    try:
        s.write_new("ENCRYPTION-INFO-2", f"writer {i}".encode())
        return True
    except AlreadyExists:
        return False


def test_racing_processes_have_exactly_one_winner(io_dir: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        wins = pool.map(_race, [(str(io_dir), i) for i in range(8)])
    assert sum(wins) == 1
    content = (io_dir / "race" / "ENCRYPTION-INFO-2").read_text()
    assert content == f"writer {wins.index(True)}"


def test_listing_never_enters_collapsed_directories(
    io_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = nodelocal(io_dir)
    s.write_new("b/BACKUP_MANIFEST", b"x")
    for i in range(50):
        s.write_new(f"b/data/{i}.sst", b"x")
    scanned: list[str] = []
    real_scandir = os.scandir

    def recording_scandir(path):  # type: ignore[no-untyped-def]
        # Listings scan directory fds: name them through /proc.
        scanned.append(os.readlink(f"/proc/self/fd/{path}") if isinstance(path, int) else os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", recording_scandir)
    assert list(s.list("", "data/")) == ["b/BACKUP_MANIFEST", "b/data/"]
    assert scanned and not [p for p in scanned if p.endswith("data")]


def test_file_scheme_takes_absolute_paths(tmp_path: Path) -> None:
    s = open_storage(f"file://{tmp_path}/c")
    s.write_new("x", b"1")
    assert (tmp_path / "c" / "x").read_bytes() == b"1"
    with pytest.raises(StorageError, match="absolute"):
        open_storage("file://relative/path")


def test_unknown_and_cloud_schemes_are_clear_errors() -> None:
    with pytest.raises(StorageError, match="unsupported storage scheme 'ftp'"):
        open_storage("ftp://x/y")
    with pytest.raises(StorageError, match="not a storage URI"):
        open_storage("just-a-path")
    with pytest.raises(StorageError) as e:
        open_storage("s3://bkt/p?AWS_SECRET_ACCESS_KEY=hunter2")
    assert "hunter2" not in str(e.value)
