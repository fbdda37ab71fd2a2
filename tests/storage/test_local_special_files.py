"""Issue 15, findings 5 and 6: special files and links named ENCRYPTION-INFO* never block, never
get followed out of the jail, and never stop the next ALTER of that backup.

A FIFO used to hang every statement (open(2) for reading waits for a writer); a symlink to
/dev/zero made read() read forever; a symlink out of the external-IO dir was listed away, so ALTER
took its number and then failed on it for good.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import storage_support as ss

from engine.storage import AlreadyExists, NotAFile, StorageError, StorageSettings, open_storage


def nodelocal(io_dir: Path, path: str):
    return open_storage(f"nodelocal://self/{path}", StorageSettings(external_io_dir=io_dir))


def finishes(fn, fifo: Path | None = None):  # type: ignore[no-untyped-def]
    """Run fn in a thread; return (finished, result or exception). A hung open of a FIFO is
    released afterwards by opening its write end, so a failing test does not hang the suite."""
    out: list[object] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            out.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(30)
    done = not t.is_alive()
    if not done and fifo is not None:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        t.join(5)
    return done, (out[0] if out else None)


def test_fifo_is_refused_at_once_naming_what_it_is(io_dir: Path, tmp_path: Path) -> None:
    d = io_dir / "t" / "b"
    d.mkdir(parents=True)
    os.mkfifo(d / "ENCRYPTION-INFO-2")
    s = nodelocal(io_dir, "t/b")
    for op in (lambda: s.read("ENCRYPTION-INFO-2"), lambda: s.size("ENCRYPTION-INFO-2"),
               lambda: s.read_range("ENCRYPTION-INFO-2", 0, 10)):
        done, result = finishes(op, d / "ENCRYPTION-INFO-2")
        assert done, "reading a FIFO blocked"
        assert isinstance(result, NotAFile), result
        assert "nodelocal://self/t/b/ENCRYPTION-INFO-2: is a FIFO, not a file" in str(result)
    assert list(s.list()) == ["ENCRYPTION-INFO-2"]  # listed: the name is taken
    with pytest.raises(AlreadyExists):
        s.write_new("ENCRYPTION-INFO-2", b"x")
    # same for file://, which otherwise follows the user's paths freely
    f = open_storage(f"file://{d}")
    done, result = finishes(lambda: f.read("ENCRYPTION-INFO-2"), d / "ENCRYPTION-INFO-2")
    assert done and isinstance(result, NotAFile) and "is a FIFO" in str(result)


def test_directory_socket_and_device_links_are_not_files(io_dir: Path) -> None:
    d = io_dir / "t"
    d.mkdir()
    (d / "ENCRYPTION-INFO-3").mkdir()
    os.symlink("/dev/zero", d / "ENCRYPTION-INFO-2")
    f = open_storage(f"file://{d}")
    done, result = finishes(lambda: f.read("ENCRYPTION-INFO-2"))
    assert done and isinstance(result, NotAFile), result
    assert "ENCRYPTION-INFO-2: is a character device, not a file" in str(result)
    with pytest.raises(NotAFile, match="ENCRYPTION-INFO-3: is a directory, not a file"):
        f.read("ENCRYPTION-INFO-3")
    s = nodelocal(io_dir, "t")
    # nodelocal never leaves the external-IO dir: /dev/zero is outside it
    with pytest.raises(StorageError, match="outside the external IO directory.*/dev/zero"):
        s.read("ENCRYPTION-INFO-2")
    with pytest.raises(AlreadyExists):  # linkat never follows (or replaces) a symlink
        s.write_new("ENCRYPTION-INFO-2", b"x")
    assert os.readlink(d / "ENCRYPTION-INFO-2") == "/dev/zero"


def test_symlinks_inside_the_jail_still_resolve_and_loops_are_errors(io_dir: Path) -> None:
    d = io_dir / "t"
    (d / "real").mkdir(parents=True)
    (d / "real" / "f").write_bytes(b"data")
    os.symlink("real", d / "rel")  # relative, inside
    os.symlink(str(io_dir / "t" / "real" / "f"), d / "abs")  # absolute, inside
    os.symlink("loop", d / "loop")
    os.symlink("../../..", d / "up")  # climbs out
    s = nodelocal(io_dir, "t")
    assert s.read("rel/f") == b"data" and s.read("abs") == b"data" and s.size("abs") == 4
    with pytest.raises(StorageError, match="t/loop: cannot read: too many levels of symbolic links"):
        s.read("loop")
    with pytest.raises(StorageError, match="outside the external IO directory"):
        s.read("up/etc/passwd")
    # listings list links under their own names and never descend into them
    assert list(s.list()) == ["abs", "loop", "real/f", "rel", "up"]


def test_cli_fifo_and_dev_zero_named_encryption_info_neither_hang_nor_block_alter(
    io_dir: Path, coll_dir: Path
) -> None:
    first, second = ss.full_backups(coll_dir)
    os.mkfifo(first / "ENCRYPTION-INFO-2")
    os.symlink("/dev/zero", second / "ENCRYPTION-INFO-2")
    show = f"SHOW BACKUP FROM LATEST IN 'nodelocal://self/coll' WITH KMS = '{ss.DEMO_KMS}'"
    p = ss.rewrap(io_dir, "-e", show, timeout=90)
    ss.assert_no_traceback(p)
    assert p.returncode == 0, p.stderr
    alter = (
        "ALTER BACKUP {} IN 'nodelocal://self/coll' ADD NEW_KMS = 'testkms:///new-key' "
        f"WITH OLD_KMS = '{ss.DEMO_KMS}'"
    )
    for backup in (first, second):
        subdir = "/" + str(backup.relative_to(coll_dir))
        p = ss.rewrap(io_dir, "-e", alter.format(f"'{subdir}'"), timeout=90)
        ss.assert_no_traceback(p)
        assert p.returncode == 0, p.stderr
        assert (backup / "ENCRYPTION-INFO-3").is_file()  # the next number was taken
    assert (first / "ENCRYPTION-INFO-2").is_fifo()
    assert os.readlink(second / "ENCRYPTION-INFO-2") == "/dev/zero"
