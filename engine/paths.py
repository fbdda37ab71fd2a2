"""Where rewrap keeps its own state, in one table, and the one way state files are created.

| file                         | written by                  | read by               | mode |
|------------------------------|-----------------------------|-----------------------|------|
| `<data>/`                    | the first state file        |                       | 0700 |
| `<data>/audit.jsonl`         | ALTER BACKUP (engine)       | people, scripts       | 0600 |
| `<data>/extern/`             | `rewrap demo` (first run)   | nodelocal:// URIs     | 0700 |
| `<data>/history` (TUI/shell) | the TUI and shell           | the TUI and shell     | 0600 |
| `<data>/collections.json`    | the TUI                     | the TUI               | 0600 |

`<data>` is `$REWRAP_DATA_DIR` when set, else the platform's user data dir
(`~/.local/share/rewrap` on Linux). The external-IO dir can be moved on its own with
`--external-io-dir` / `$REWRAP_EXTERNAL_IO_DIR`; the audit journal with `$REWRAP_AUDIT_LOG`.

Every state file and directory goes through `open_private` / `write_private` /
`ensure_private_dir`: created 0600 / 0700 whatever the umask (the mode is set with fchmod/chmod,
which the umask does not touch), and tightened to that when found looser (files, and the data dir
itself; never a directory rewrap does not own, such as the home of a moved journal). A state file
that is a symlink is refused (O_NOFOLLOW).
"""

from __future__ import annotations

import os
import secrets
import stat
import threading
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700

_ensured: set[str] = set()
_ensured_lock = threading.Lock()


def data_dir() -> Path:
    env = os.environ.get("REWRAP_DATA_DIR")
    if env:
        return Path(env)
    from platformdirs import user_data_path

    return user_data_path("rewrap")


def audit_journal_path() -> Path:
    env = os.environ.get("REWRAP_AUDIT_LOG")
    return Path(env) if env else data_dir() / "audit.jsonl"


def _tighten(fd_or_path: int | Path, st: os.stat_result, mode: int) -> None:
    if stat.S_IMODE(st.st_mode) & ~mode and st.st_uid == os.geteuid():
        if isinstance(fd_or_path, int):
            os.fchmod(fd_or_path, stat.S_IMODE(st.st_mode) & mode)
        else:
            os.chmod(fd_or_path, stat.S_IMODE(st.st_mode) & mode)


def ensure_private_dir(path: Path, *, tighten: bool = True) -> Path:
    """`path` as an existing directory: missing components created 0700, and `path` itself, with
    `tighten`, reduced to 0700 (at most) if looser. Cheap after the first call for a path
    (cached), so it may be called before every write."""
    path = Path(path)
    key = os.path.abspath(path)
    with _ensured_lock:
        if key in _ensured:
            return path
    missing = []
    p = Path(key)
    while not p.exists() and p != p.parent:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(d, DIR_MODE)  # the umask may have cleared bits, never added: set exactly
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise NotADirectoryError(f"{path}: not a directory")
    if tighten:
        _tighten(path, st, DIR_MODE)
    with _ensured_lock:
        _ensured.add(key)
    return path


def _ensure_parent(path: Path) -> None:
    """Create a state file's directory; tighten it only if it is rewrap's data dir (a journal
    moved with $REWRAP_AUDIT_LOG to ~/audit.jsonl must not chmod the home directory)."""
    parent = path.parent
    ensure_private_dir(parent, tighten=os.path.abspath(parent) == os.path.abspath(data_dir()))


def open_private(path: Path, flags: int = os.O_WRONLY | os.O_APPEND) -> int:
    """Open (creating if missing) the state file `path` with `flags`; its directory is made with
    ensure_private_dir. The file is 0600 whatever the umask, tightened if found looser, and never
    a symlink. Returns the fd; the caller closes it."""
    path = Path(path)
    _ensure_parent(path)
    fd = os.open(path, flags | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(f"{path}: not a regular file")
        _tighten(fd, st, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, data: bytes) -> None:
    """Replace the state file `path` with `data` atomically and durably (0600 temp in the same
    directory, fsync, rename, fsync the directory): a crash leaves the old or the new content."""
    path = Path(path)
    _ensure_parent(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, FILE_MODE)
    try:
        try:
            os.fchmod(fd, FILE_MODE)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
