"""Local filesystem storage: `nodelocal://<node|self>/path` and `file:///abs/path`.

nodelocal:// paths resolve under the external-IO dir like CockroachDB's --external-io-dir and may
not leave it: no `..`, and every lookup goes component by component through directory file
descriptors with O_NOFOLLOW (engine/storage/fdpath.py), so a symlink is resolved below the
external-IO dir or refused, and swapping a directory for a symlink mid-operation gains nothing.

`file://` is a rewrap extension for any absolute path, on the user's own authority: reads follow
symlinks wherever they lead; writes never follow a symlink that leaves the collection (the
directory the URI named).

Reads open with O_NONBLOCK and refuse anything that is not a regular file (a FIFO, a device, a
directory) with NotAFile, reading at most the file's size. Listings never descend into a symlinked
directory (like Go's filepath.Walk), list a symlink under its own name, skip names that are not
UTF-8 with a warning, and hide rewrap's own temporaries. Create-only writes create an unnamed file
(O_TMPFILE), fsync it and link it in (linkat fails if the name exists, symlink or not), then fsync
the directory, so a reader never sees a partial file, two writers never clobber each other and a
killed run leaves nothing behind.
"""

from __future__ import annotations

import builtins
import errno
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.storage.base import (
    AlreadyExists,
    ExternalStorage,
    NotAFile,
    NotFound,
    StorageError,
    join_key,
)
from engine.storage.fdpath import (
    DIR_FLAGS,
    READ_FLAGS,
    Anchor,
    Escape,
    LinkLoop,
    create_new,
    STALE_AFTER_SECONDS,
    is_temp_name,
    kind_of,
    open_leaf_nofollow,
    read_fd,
    remove_stale_temps,
)


class _Warnings:
    """Warnings shared by a storage and its children, drained by take_warnings()."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.lock = threading.Lock()

    def add(self, message: str) -> None:
        with self.lock:
            if message not in self.items:
                self.items.append(message)

    def take(self) -> list[str]:
        with self.lock:
            out, self.items = self.items, []
        return out


def split_key(key: str, where: str) -> list[str]:
    """A '/'-separated key as path components; StorageError for '..' or a NUL byte."""
    if "\0" in key:
        raise StorageError(f"{where}: path {key!r} contains a NUL byte")
    parts = [p for p in key.split("/") if p and p != "."]
    if ".." in parts:
        raise StorageError(f"{where}: path {key!r} may not contain '..'")
    return parts


class LocalStorage(ExternalStorage):
    """A directory tree. `jail`, when set, is the directory no path may leave (nodelocal://);
    without one (file://), reads go where the path leads and writes stay below `write_root`
    (default: `root`)."""

    def __init__(
        self,
        root: Path,
        display_uri: str,
        *,
        jail: Path | None = None,
        write_root: Path | None = None,
        create_jail: Callable[[Path], object] | None = None,
    ) -> None:
        self.root = Path(root)
        self.display_uri = display_uri
        self.jail = Path(os.path.realpath(jail)) if jail is not None else None
        self._warnings = _Warnings()
        if jail is not None:
            self._anchor = Anchor(str(jail), create=create_jail)
            self._write_display = "the external IO directory"
            base = os.path.relpath(os.path.abspath(root), os.path.abspath(jail))
        else:
            top = Path(write_root) if write_root is not None else self.root
            self._anchor = Anchor(str(top))
            self._write_display = f"file://{os.path.abspath(top)}"
            base = os.path.relpath(os.path.abspath(root), os.path.abspath(top))
        if base == ".." or base.startswith("../"):
            raise StorageError(f"{display_uri}: not below {self._write_display}")
        self._base = split_key("" if base == "." else base, display_uri)
        self._root_clean_at: float | None = None

    def _derive(self, key: str, parts: list[str]) -> LocalStorage:
        out = object.__new__(LocalStorage)
        out.__dict__.update(self.__dict__)
        out.root = self.root.joinpath(*parts)
        out.display_uri = self.display_uri.rstrip("/") + ("/" + key if key else "")
        out._base = self._base + parts
        out._root_clean_at = None  # another directory: nothing known about its temporaries
        return out

    # -- paths and errors --------------------------------------------------------------------

    def _where(self, key: str) -> str:
        return f"{self.display_uri.rstrip('/')}/{key.lstrip('/')}" if key else self.display_uri

    def _parts(self, key: str) -> list[str]:
        return split_key(key, self.display_uri)

    @contextmanager
    def _errors(self, key: str, verb: str) -> Iterator[None]:
        where = self._where(key)
        try:
            yield
        except Escape as e:
            if self.jail is not None:
                raise StorageError(
                    f"{where}: path {key!r} resolves outside the external IO directory "
                    f"(a symbolic link on the way points to {e.target})"
                ) from None
            raise StorageError(
                f"{where}: refusing to {verb} through a symbolic link that leaves the collection "
                f"(it points to {e.target}); file:// writes stay inside {self._write_display}"
            ) from None
        except LinkLoop:
            raise StorageError(
                f"{where}: cannot {verb}: too many levels of symbolic links (a symlink loop?)"
            ) from None
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"{where}: no such file") from None
        except IsADirectoryError:
            raise NotAFile(f"{where}: is a directory, not a file") from None
        except FileExistsError:
            raise AlreadyExists(f"{where}: already exists") from None
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise StorageError(
                    f"{where}: cannot {verb}: too many levels of symbolic links (a symlink loop?)"
                ) from None
            if e.errno == errno.EEXIST:
                raise AlreadyExists(f"{where}: already exists") from None
            raise StorageError(f"{where}: cannot {verb}: {e.strerror or e}") from None

    def _open_file(self, key: str, parts: list[str]) -> tuple[int, os.stat_result]:
        """An fd of the regular file `key` (caller closes) and its stat; NotAFile otherwise."""
        if not parts:
            raise NotAFile(f"{self._where(key)}: is a directory, not a file")
        if self.jail is not None:
            fd = self._anchor.walk(self._base + parts, open_leaf_nofollow(READ_FLAGS))
        else:  # file:// reads: the user's own authority, symlinks followed by the kernel
            fd = os.open(os.path.join(self.root, *parts), READ_FLAGS)
        assert isinstance(fd, int)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise NotAFile(f"{self._where(key)}: is {kind_of(st.st_mode)}, not a file")
        return fd, st

    def _open_dir(self, parts: list[str]) -> int:
        if self.jail is not None:
            fd = self._anchor.walk(self._base + parts)
        else:
            fd = os.open(os.path.join(self.root, *parts), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        assert isinstance(fd, int)
        return fd

    # -- interface ---------------------------------------------------------------------------

    def list(self, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        # Walk from the deepest directory the prefix names, pruning directories that collapse.
        base_dir = prefix[: prefix.rfind("/") + 1] if "/" in prefix else ""
        parts = self._parts(base_dir)
        try:
            with self._errors(base_dir, "list"):
                top = self._open_dir(parts)
        except NotFound:
            return
        temps: list[str] = []
        listed_at = time.monotonic()
        found = self._walk(top, base_dir, prefix, delimiter, temps)
        if not base_dir:  # this listing read the whole root directory
            self._root_clean_at = None if "" in temps else listed_at
        # Byte order, as object stores list: for valid UTF-8 (non-UTF-8 names were skipped) it
        # is code point order, so plain str sorting gives it without encoding every key.
        yield from sorted(found)

    def _walk(
        self, top: int, base_dir: str, prefix: str, delimiter: str, temps: builtins.list[str]
    ) -> dict[str, None]:
        """Depth-first over directory fds (at most one open per level), never through a symlink.
        Keys come out nearly sorted (subdirectories in order), which makes the final sort cheap;
        a dict keeps that order and drops repeated collapsed prefixes. A directory with nothing
        to descend into (most backup directories: data/ collapses) is closed at once instead of
        going on the stack. `temps` gets the `rel` of every directory holding our temporaries."""
        found: dict[str, None] = {}
        plen, dlen = len(prefix), len(delimiter)

        def scan(fd: int, rel: str) -> list[str]:
            """Add the keys of directory `fd` to `found`; return the subdirectories to descend.

            The hot loop of SHOW BACKUPS (one call per directory): cheap tests first (a
            temporary's name starts with '.', an ASCII name is UTF-8), S3's CommonPrefixes rule
            inlined. Below the prefix (the usual case) every key matches it, and the delimiter
            can only occur across the entry's own name, since `rel` was descended into because
            it holds none: the search starts there."""
            if len(rel) < plen:
                return self._scan_above(fd, rel, prefix, delimiter, found, temps)
            descend = []
            start = len(rel) - dlen + 1
            if start < plen:
                start = plen
            with os.scandir(fd) as it:
                for entry in it:
                    name = entry.name
                    if (name[0] == "." or not name.isascii()) and not self._listable(rel, name, temps):
                        continue
                    try:
                        is_dir = entry.is_dir(follow_symlinks=False)
                    except OSError:
                        continue  # vanished
                    if is_dir:
                        key = rel + name + "/"
                        if dlen and (i := key.find(delimiter, start)) >= 0:
                            # Everything below collapses to one entry: do not descend (an empty
                            # directory shows up too; object stores have none).
                            found[key[: i + dlen]] = None
                        else:
                            descend.append(name)
                    else:
                        key = rel + name
                        if dlen and (i := key.find(delimiter, start)) >= 0:
                            key = key[: i + dlen]
                        found[key] = None
            if len(descend) > 1:
                descend.sort(reverse=True)
            return descend

        stack: list[tuple[int, str, list[str]]] = []
        open_, close = os.open, os.close
        try:
            with self._errors(base_dir, "list"):
                stack.append((top, base_dir, scan(top, base_dir)))
            while stack:
                fd, rel, pending = stack[-1]
                if not pending:
                    close(fd)
                    stack.pop()
                    continue
                name = pending.pop()
                try:
                    sub = open_(name, DIR_FLAGS, dir_fd=fd)
                except OSError as e:
                    if e.errno in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                        continue  # gone or swapped for a file/symlink meanwhile
                    self._warn(f"{self._where(rel + name + '/')}: skipped, cannot list: {e.strerror or e}")
                    continue
                dir_key = rel + name + "/"
                try:
                    entries = scan(sub, dir_key)
                except OSError as e:
                    close(sub)
                    self._warn(f"{self._where(dir_key)}: skipped, cannot list: {e.strerror or e}")
                    continue
                if entries:
                    stack.append((sub, dir_key, entries))
                else:
                    close(sub)
        finally:
            for fd, _, _ in stack:
                close(fd)
        return found

    def _scan_above(
        self, fd: int, rel: str, prefix: str, delimiter: str, found: dict[str, None],
        temps: builtins.list[str],
    ) -> builtins.list[str]:  # builtins.: `list` here is the method
        """`_scan` for a directory the prefix reaches into (`rel` shorter than the prefix)."""
        descend = []
        plen, dlen = len(prefix), len(delimiter)
        with os.scandir(fd) as it:
            for entry in it:
                name = entry.name
                if (name[0] == "." or not name.isascii()) and not self._listable(rel, name, temps):
                    continue
                key = rel + name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue  # vanished
                if is_dir:
                    dir_key = key + "/"
                    if dir_key.startswith(prefix):
                        if delimiter and (i := dir_key.find(delimiter, plen)) >= 0:
                            found[dir_key[: i + dlen]] = None
                            continue
                    elif not prefix.startswith(dir_key):
                        continue
                    descend.append(name)
                elif key.startswith(prefix):
                    if delimiter and (i := key.find(delimiter, plen)) >= 0:
                        key = key[: i + dlen]
                    found[key] = None
        descend.sort(reverse=True)
        return descend

    def _listable(self, rel: str, name: str, temps: builtins.list[str]) -> bool:
        """False for our own in-flight or stale temporaries (never objects; `rel` goes into
        `temps`) and, with a warning, for a name that is not UTF-8 (surrogate-escaped bytes)."""
        if name[0] == "." and is_temp_name(name):
            temps.append(rel)
            return False
        if name.isascii():
            return True
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            shown = os.fsencode(name).decode("utf-8", "backslashreplace")
            self._warn(f"{self._where(rel + shown)}: skipped, the name is not UTF-8")
            return False
        return True

    def read(self, key: str) -> bytes:
        parts = self._parts(key)
        with self._errors(key, "read"):
            fd, st = self._open_file(key, parts)
            try:
                return read_fd(fd, 0, st.st_size)
            finally:
                os.close(fd)

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        parts = self._parts(key)
        with self._errors(key, "read"):
            fd, st = self._open_file(key, parts)
            try:
                return read_fd(fd, offset, max(0, min(length, st.st_size - offset)))
            finally:
                os.close(fd)

    def size(self, key: str) -> int:
        parts = self._parts(key)
        with self._errors(key, "stat"):
            fd, st = self._open_file(key, parts)
            os.close(fd)
        return st.st_size

    def write_new(self, key: str, data: bytes) -> None:
        parts = self._parts(key)
        if not parts:
            raise StorageError(f"{self._where(key)}: empty file name")
        with self._errors(key, "write"):
            dir_fd = self._anchor.walk(self._base + parts[:-1], mkdirs=True)
            assert isinstance(dir_fd, int)
            try:
                removed = [] if self._no_stale_temps(parts[:-1]) else remove_stale_temps(dir_fd)
                if removed:
                    self._warn(
                        f"{self._where(join_key(*parts[:-1]))}: removed {len(removed)} stale "
                        "temporary file(s) left by killed rewrap runs"
                    )
                create_new(dir_fd, parts[-1], data)
            finally:
                os.close(dir_fd)

    def _no_stale_temps(self, dir_parts: builtins.list[str]) -> bool:
        """True when a listing of this storage's root, which is `dir_parts`, saw none of our
        temporaries less than STALE_AFTER_SECONDS / 2 ago: a temporary there now was created
        after that listing, so it is too young to count as stale, and the scan that
        remove_stale_temps makes (~8 syscalls, per backup in ALTER ALL) would remove nothing."""
        at = self._root_clean_at
        return not dir_parts and at is not None and time.monotonic() - at < STALE_AFTER_SECONDS / 2

    def child(self, path: str) -> LocalStorage:
        key = join_key(path)
        return self._derive(key, self._parts(key))

    def take_warnings(self) -> builtins.list[str]:
        return self._warnings.take()

    def add_warning(self, message: str) -> None:
        """A warning from another process that used this storage (a split ALTER ALL's helper)."""
        self._warn(message)

    def __getstate__(self) -> dict[str, object]:
        """Pickles (for a split ALTER ALL's helper process) without the warnings and their lock:
        the copy collects its own, which the helper sends back."""
        state = dict(self.__dict__)
        del state["_warnings"]
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._warnings = _Warnings()

    def _warn(self, message: str) -> None:
        self._warnings.add(message)
