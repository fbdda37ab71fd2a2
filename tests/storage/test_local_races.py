"""Issue 15, findings 6 and 7: the nodelocal jail cannot be raced, and killed runs leave no litter.

Finding 6: swapping the backup directory for a symlink out of the external-IO dir while ALTER
wrote left temporary files outside it (check by realpath, then use by path). Now every component
is opened through the fd of its parent with O_NOFOLLOW, so a swapped-in symlink is seen and
refused whenever the swap happens.

Finding 7: 202 `.ENCRYPTION-INFO-n.tmp-*` files (0644, each a wrapped key) left by killed runs.
Now files are created unnamed (O_TMPFILE) and linked in; where that is unavailable the temporary
is 0600 and the next write into that directory removes stale ones (rewrap's names only).
"""

from __future__ import annotations

import ctypes
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.storage import StorageError, StorageSettings, open_storage
from engine.storage import fdpath
from engine.storage.fdpath import STALE_AFTER_SECONDS, create_new, is_temp_name


_libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2


def exchange(a: Path, b: Path) -> None:
    """renameat2(RENAME_EXCHANGE): swap two names in one step, so `b` is never missing."""
    if _libc.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if not p.is_dir() or p.is_symlink()]


def test_swapping_a_directory_for_a_symlink_never_writes_outside_the_jail(tmp_path: Path) -> None:
    io_dir = tmp_path / "extern"
    outside = tmp_path / "outside"
    outside.mkdir()
    (io_dir / "coll").mkdir(parents=True)
    backup = io_dir / "coll" / "b"
    backup.mkdir()
    link = io_dir / "coll" / "b.link"
    os.symlink(outside, link)
    s = open_storage("nodelocal://self/coll/b", StorageSettings(external_io_dir=io_dir))
    stop = threading.Event()

    def swapper() -> None:  # flip `b` between the real directory and a link out, atomically
        while not stop.is_set():
            exchange(link, backup)

    t = threading.Thread(target=swapper)
    t.start()
    written = 0
    refusals: list[str] = []
    try:
        for i in range(3000):
            try:
                s.write_new(f"ENCRYPTION-INFO-{i}", b"wrapped key")
                written += 1
            except (StorageError, OSError) as e:  # OSError: main's realpath() check, racing
                refusals.append(str(e))
    finally:
        stop.set()
        t.join()
    if os.path.islink(backup):
        exchange(link, backup)
    assert os.listdir(outside) == [], "a file was written outside the external-IO dir"
    assert written + len(refusals) == 3000 and written > 0
    # refused as a link out, or (a lookup retried past the symlink limit while swapping) as a loop
    odd = [r for r in refusals if "outside the external IO directory" not in r
           and "too many levels of symbolic links" not in r]
    assert not odd, odd[:3]
    # what was written is whole, in the real directory, and no temporary is left anywhere
    names = os.listdir(backup)
    assert len(names) == written and not [n for n in names if is_temp_name(n)]
    assert all((backup / n).read_bytes() == b"wrapped key" for n in names)


def test_new_files_have_no_temporary_name_and_are_durable_whole(tmp_path: Path) -> None:
    s = open_storage(f"file://{tmp_path}/c")
    s.write_new("d/ENCRYPTION-INFO-2", b"k" * 100_000)
    assert os.listdir(tmp_path / "c" / "d") == ["ENCRYPTION-INFO-2"]
    assert (tmp_path / "c" / "d" / "ENCRYPTION-INFO-2").read_bytes() == b"k" * 100_000


def test_fallback_temporaries_are_private_and_removed(tmp_path: Path) -> None:
    """Without O_TMPFILE (older kernels, some filesystems): a 0600 named temporary, gone after."""
    seen: list[int] = []
    real_link = os.link

    def watching_link(src, dst, **kw):  # type: ignore[no-untyped-def]
        st = os.stat(src, dir_fd=kw.get("src_dir_fd"), follow_symlinks=False)
        seen.append(stat.S_IMODE(st.st_mode))
        return real_link(src, dst, **kw)

    dfd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link = watching_link  # observe the temporary at its most exposed moment
        try:
            create_new(dfd, "ENCRYPTION-INFO-2", b"wrapped", use_tmpfile=False)
        finally:
            os.link = real_link
        with pytest.raises(FileExistsError):
            create_new(dfd, "ENCRYPTION-INFO-2", b"other", use_tmpfile=False)
    finally:
        os.close(dfd)
    assert os.listdir(tmp_path) == ["ENCRYPTION-INFO-2"]
    assert (tmp_path / "ENCRYPTION-INFO-2").read_bytes() == b"wrapped"
    # the temporary was private until its content was complete (then given the file's mode)
    assert seen and seen[0] == 0o644 & ~fdpath.current_umask()


def test_the_next_write_removes_stale_rewrap_temporaries_only(tmp_path: Path) -> None:
    d = tmp_path / "b"
    d.mkdir()
    old = time.time() - STALE_AFTER_SECONDS - 60
    stale = [
        ".ENCRYPTION-INFO-2.tmp-4242-0badc0de",  # what earlier rewrap versions left
        ".rewrap-tmp-4242-0123456789ab-ENCRYPTION-INFO-3",
    ]
    live = ".rewrap-tmp-4343-ba9876543210-ENCRYPTION-INFO-3"  # a concurrent run, mid-write
    foreign = [".ENCRYPTION-INFO-2.tmp-x", "notes.tmp-1-2", ".keep"]  # not ours: untouched
    for name in [*stale, live, *foreign]:
        (d / name).write_bytes(b"wrapped key")
    for name in [*stale, *foreign]:
        os.utime(d / name, (old, old))
    s = open_storage(f"file://{tmp_path}")
    assert list(s.list("b/")) == ["b/.ENCRYPTION-INFO-2.tmp-x", "b/.keep", "b/notes.tmp-1-2"]
    s.write_new("b/ENCRYPTION-INFO-2", b"new")
    assert sorted(os.listdir(d)) == sorted([live, *foreign, "ENCRYPTION-INFO-2"])
    assert any("removed 2 stale temporary file(s)" in w for w in s.take_warnings())


KILLED_WRITER = r"""
import os, sys
from engine.storage import open_storage
s = open_storage(sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    s.write_new(f"b{i % 50}/ENCRYPTION-INFO-{os.getpid()}-{i}", b"w" * 65536)
    i += 1
"""


def test_killed_writers_leave_no_litter(tmp_path: Path) -> None:
    """SIGKILL at arbitrary points of a stream of writes: only whole files, no temporaries."""
    root = tmp_path / "coll"
    for k in range(8):
        p = subprocess.Popen(
            [sys.executable, "-c", KILLED_WRITER, f"file://{root}"],
            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2],
        )
        assert p.stdout is not None and p.stdout.readline() == "ready\n"
        # let it write a little (a count of files, not a time), then kill it mid-stream
        while len(all_files(root)) < 20 * (k + 1) and p.poll() is None:
            time.sleep(0.005)
        p.send_signal(signal.SIGKILL)
        assert p.wait() == -signal.SIGKILL  # killed, not ended on an error
        p.stdout.close()
    files = all_files(root)
    assert files and not [f for f in files if is_temp_name(f.name)]
    assert all(f.read_bytes() == b"w" * 65536 for f in files)
