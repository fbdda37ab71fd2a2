"""Race-free path handling for local storage: every lookup goes through directory file descriptors.

A path is never handed to the kernel as one string when it must stay below an anchor directory
(the external-IO dir for nodelocal://, the collection for file:// writes). Each component is
opened with `O_NOFOLLOW` relative to the descriptor of its parent, so a component swapped for a
symlink between one step and the next is seen as a symlink, read with readlink(2) and resolved
below the anchor again, or refused. That is what openat2(RESOLVE_BENEATH) does in the kernel; Python
does not expose openat2, so it is done here one component at a time.

New files are created without any name first (`O_TMPFILE`, then linkat(2) through
/proc/self/fd, which works unprivileged; `AT_EMPTY_PATH` would need CAP_DAC_READ_SEARCH), so a
killed run leaves nothing behind. Where the kernel or filesystem has no `O_TMPFILE`, a 0600
temporary named `.rewrap-tmp-<pid>-<random>-<name>` is used and removed again; stale ones left by
killed runs (and the `.<name>.tmp-<pid>-<hex>` names of older rewrap versions) are removed by the
next write into that directory once they are older than any live write could be.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a writer.
READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
MAX_SYMLINKS = 40  # Linux's own limit for one lookup
HAVE_O_TMPFILE = hasattr(os, "O_TMPFILE")
# The kernel/filesystem answers for "no O_TMPFILE here" (open(2) NOTES).
_NO_TMPFILE_ERRNOS = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOSYS}

TEMP_PREFIX = ".rewrap-tmp-"
_TEMP_RE = re.compile(r"^\.rewrap-tmp-\d+-[0-9a-f]{12}-")
_LEGACY_TEMP_RE = re.compile(r"^\..+\.tmp-\d+-[0-9a-f]{8}\Z")  # rewrap <= 0.x: .<name>.tmp-pid-hex
STALE_AFTER_SECONDS = 15 * 60
"""A temporary lives for one write and fsync; one this old belongs to a run that was killed."""


class Escape(OSError):
    """A symlink (or '..') on the way leads outside the anchor directory."""

    def __init__(self, target: str) -> None:
        super().__init__(errno.EXDEV, "leads outside", target)
        self.target = target


class LinkLoop(OSError):
    def __init__(self) -> None:
        super().__init__(errno.ELOOP, "too many levels of symbolic links (a loop?)")


def is_temp_name(name: str) -> bool:
    """Our own temporary names (current and legacy): never listed as objects."""
    return bool(_TEMP_RE.match(name) or _LEGACY_TEMP_RE.match(name))


def kind_of(mode: int) -> str:
    """'a FIFO', 'a directory', ... for a stat mode that is not a regular file."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


class Anchor:
    """A directory that lookups may not leave. Its own path is trusted (opened normally)."""

    def __init__(
        self, path: str, *, dir_mode: int = 0o755, create: Callable[[Path], object] | None = None
    ) -> None:
        """`dir_mode` for directories made on the way: 0755 like CockroachDB's nodelocal
        (pkg/blobs/local_storage.go WriteFile: os.MkdirAll(dir, 0755)), never world-writable."""
        self.path = os.path.abspath(path)
        self.real = os.path.realpath(path)
        self.dir_mode = dir_mode
        self._create = create  # None: os.makedirs (a module function or None, so this pickles)

    def open(self, *, create: bool) -> int:
        """The anchor directory (its own path followed normally: it is the trusted part)."""
        try:
            return os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            if not create:
                raise
        if self._create is None:
            os.makedirs(self.path, mode=self.dir_mode, exist_ok=True)
        else:
            self._create(Path(self.path))
        return os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def relative(self, target: str) -> list[str]:
        """Components of an absolute symlink target below the anchor, else Escape."""
        for base in dict.fromkeys((self.path, self.real)):
            if target == base or target.startswith(base.rstrip("/") + "/"):
                return [p for p in target[len(base) :].split("/") if p]
        raise Escape(target)

    def walk(
        self,
        parts: list[str],
        leaf: Callable[[int, str], T] | None = None,
        *,
        mkdirs: bool = False,
    ) -> T | int:
        """Resolve `parts` below the anchor, symlinks included, never leaving it.

        With `leaf`, the last component is handed to `leaf(dir_fd, name)`, which must open it with
        O_NOFOLLOW (an ELOOP from it means "a symlink": it is resolved and `leaf` called again).
        Without, the directory `parts` names is returned as an fd the caller closes. `mkdirs`
        creates missing directories on the way.
        """
        stack = [self.open(create=mkdirs)]
        todo = deque(parts)
        links = 0
        try:
            while todo:
                name = todo.popleft()
                if name in ("", "."):
                    continue
                if name == "..":
                    if len(stack) == 1:
                        raise Escape("..")
                    os.close(stack.pop())
                    continue
                if leaf is not None and not todo:
                    try:
                        return leaf(stack[-1], name)
                    except OSError as e:
                        if e.errno != errno.ELOOP or isinstance(e, LinkLoop | Escape):
                            raise
                else:
                    try:
                        stack.append(os.open(name, DIR_FLAGS, dir_fd=stack[-1]))
                        continue
                    except FileNotFoundError:
                        if not mkdirs:
                            raise
                        try:
                            os.mkdir(name, self.dir_mode, dir_fd=stack[-1])
                            fsync_dir(stack[-1])  # the new directory survives a crash too
                        except FileExistsError:
                            pass
                        todo.appendleft(name)  # open what is there now, whatever won the race
                        continue
                    except OSError as e:
                        if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                            raise
                links += 1  # a symlink followed, or a lookup retried: both count, so it ends
                if links > MAX_SYMLINKS:
                    raise LinkLoop()
                try:
                    target = os.readlink(name, dir_fd=stack[-1])
                except OSError as e:
                    if e.errno != errno.EINVAL:
                        raise
                    # Not a symlink (any more): swapped back meanwhile (retry the component),
                    # or a file where a directory was needed.
                    st = os.lstat(name, dir_fd=stack[-1])
                    changed = stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode)
                    if changed or (leaf is not None and not todo):
                        todo.appendleft(name)
                        continue
                    raise NotADirectoryError(errno.ENOTDIR, "not a directory", name) from None
                if target.startswith("/"):
                    rel = self.relative(target)
                    while len(stack) > 1:
                        os.close(stack.pop())
                    todo.extendleft(reversed(rel))
                else:
                    todo.extendleft(reversed(target.split("/")))
            if leaf is not None:
                raise IsADirectoryError(errno.EISDIR, "is a directory")
            return stack.pop()
        finally:
            for fd in stack:
                os.close(fd)


def open_leaf_nofollow(flags: int) -> Callable[[int, str], int]:
    def leaf(dir_fd: int, name: str) -> int:
        return os.open(name, flags | os.O_NOFOLLOW, dir_fd=dir_fd)

    return leaf


def read_fd(fd: int, offset: int, length: int) -> bytes:
    """Up to `length` bytes from `offset`: bounded, never reads past what was asked."""
    chunks: list[bytes] = []
    while length > 0:
        chunk = os.pread(fd, min(length, 1 << 24), offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
        length -= len(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.EIO, "short write")
        view = view[n:]


def fsync_dir(dir_fd: int) -> None:
    """Make a new directory entry durable. Some filesystems refuse fsync on a directory (EINVAL):
    nothing more can be done there."""
    try:
        os.fsync(dir_fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.EBADF):
            raise


def current_umask() -> int:
    """The process umask, read without changing it (os.umask() would race other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def create_new(
    dir_fd: int, name: str, data: bytes, *, mode: int = 0o644, use_tmpfile: bool = HAVE_O_TMPFILE
) -> None:
    """Create `name` in `dir_fd` holding `data`, durably, only if no entry of that name exists
    (FileExistsError otherwise, also for a symlink of that name: linkat never follows it)."""
    if use_tmpfile:
        try:
            fd = os.open(".", os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, mode, dir_fd=dir_fd)
        except OSError as e:
            if e.errno not in _NO_TMPFILE_ERRNOS:
                raise
        else:
            try:
                write_all(fd, data)
                os.fsync(fd)
                try:
                    os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)
                except FileNotFoundError:
                    if os.path.exists(f"/proc/self/fd/{fd}"):
                        raise
                    # no /proc mounted: fall through to a named temporary
                else:
                    fsync_dir(dir_fd)
                    return
            finally:
                os.close(fd)
    _create_via_temp(dir_fd, name, data, mode & ~current_umask())


def _create_via_temp(dir_fd: int, name: str, data: bytes, final_mode: int) -> None:
    tmp = f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}-{name}"[:255]
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600, dir_fd=dir_fd)
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
            os.fchmod(fd, final_mode)
        finally:
            os.close(fd)
        os.link(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    finally:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
    fsync_dir(dir_fd)


def remove_stale_temps(dir_fd: int, *, now: float | None = None) -> list[str]:
    """Remove our own temporaries in `dir_fd` that are older than STALE_AFTER_SECONDS. A live
    run's temporary is younger, so it is left alone. Returns the names removed."""
    now = time.time() if now is None else now
    removed = []
    with os.scandir(dir_fd) as it:
        for entry in it:
            if not is_temp_name(entry.name):
                continue
            try:
                est = entry.stat(follow_symlinks=False)
                if stat.S_ISREG(est.st_mode) and now - est.st_mtime > STALE_AFTER_SECONDS:
                    os.unlink(entry.name, dir_fd=dir_fd)
                    removed.append(entry.name)
            except OSError:
                continue
    return removed
