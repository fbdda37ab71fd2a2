"""Local filesystem storage: `nodelocal://<node|self>/path` and `file:///abs/path`.

nodelocal paths resolve under the external-IO dir like CockroachDB's --external-io-dir, and may
not escape it (no `..`, no symlink pointing outside). `file://` is a rewrap extension for any
absolute path. Create-only writes go through a temp file, fsync and link(2), which fails if the
name exists, so a reader never sees a partial file and two writers never clobber each other.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from engine.storage.base import (
    AlreadyExists,
    ExternalStorage,
    NotFound,
    StorageError,
    collapse,
    join_key,
)


class LocalStorage(ExternalStorage):
    """A directory tree. `jail`, when set, is the directory no path may leave."""

    def __init__(self, root: Path, display_uri: str, *, jail: Path | None = None) -> None:
        self.root = root
        self.display_uri = display_uri
        self.jail = jail.resolve() if jail is not None else None

    # -- paths -------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        parts = [p for p in key.split("/") if p]
        if any(p == ".." for p in parts):
            raise StorageError(f"{self.display_uri}: path {key!r} may not contain '..'")
        path = self.root.joinpath(*parts)
        self._check_jail(path, key)
        return path

    def _check_jail(self, path: Path, key: str) -> None:
        if self.jail is None:
            return
        real = Path(os.path.realpath(path))
        if real != self.jail and self.jail not in real.parents:
            raise StorageError(
                f"{self.display_uri}: path {key!r} resolves outside the external IO directory"
            )

    def _where(self, key: str) -> str:
        return f"{self.display_uri.rstrip('/')}/{key.lstrip('/')}" if key else self.display_uri

    # -- interface ---------------------------------------------------------------------------

    def list(self, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        # Walk from the deepest directory the prefix names, pruning directories that collapse.
        base_dir = prefix[: prefix.rfind("/") + 1] if "/" in prefix else ""
        start = self._path(base_dir) if base_dir else self.root
        if base_dir:
            self._check_jail(start, base_dir)
        found: set[str] = set()
        stack: list[tuple[Path, str]] = [(start, base_dir)]
        while stack:
            directory, rel = stack.pop()
            try:
                entries = list(os.scandir(directory))
            except FileNotFoundError:
                continue
            except NotADirectoryError:
                continue
            except OSError as e:
                raise StorageError(f"{self._where(rel)}: cannot list: {e.strerror}") from None
            for entry in entries:
                key = rel + entry.name
                if entry.is_symlink() and not self._inside_jail(entry.path):
                    continue  # never list (or later read) through a link out of the jail
                if entry.is_dir():
                    dir_key = key + "/"
                    if dir_key.startswith(prefix):
                        if delimiter and dir_key.find(delimiter, len(prefix)) >= 0:
                            # Everything below collapses to one entry: do not descend (an
                            # empty directory shows up too; object stores have none).
                            found.add(collapse(dir_key, prefix, delimiter))
                            continue
                    elif not prefix.startswith(dir_key):
                        continue
                    stack.append((Path(entry.path), dir_key))
                elif key.startswith(prefix):
                    found.add(collapse(key, prefix, delimiter))
        yield from sorted(found, key=lambda k: k.encode())

    def _inside_jail(self, path: str) -> bool:
        if self.jail is None:
            return True
        real = Path(os.path.realpath(path))
        return real == self.jail or self.jail in real.parents

    def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"{self._where(key)}: no such file") from None
        except IsADirectoryError:
            raise NotFound(f"{self._where(key)}: is a directory, not a file") from None
        except OSError as e:
            raise StorageError(f"{self._where(key)}: cannot read: {e.strerror}") from None

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                return f.read(length)
        except FileNotFoundError:
            raise NotFound(f"{self._where(key)}: no such file") from None
        except OSError as e:
            raise StorageError(f"{self._where(key)}: cannot read: {e.strerror}") from None

    def size(self, key: str) -> int:
        path = self._path(key)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise NotFound(f"{self._where(key)}: no such file") from None
        except OSError as e:
            raise StorageError(f"{self._where(key)}: cannot stat: {e.strerror}") from None
        if not path.is_file():
            raise NotFound(f"{self._where(key)}: not a file")
        return st.st_size

    def write_new(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if not path.name:
            raise StorageError(f"{self._where(key)}: empty file name")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._check_jail(path.parent, key)
            tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.link(tmp, path)  # atomic, fails with EEXIST instead of replacing
            finally:
                tmp.unlink(missing_ok=True)
            _fsync_dir(path.parent)
        except FileExistsError:
            raise AlreadyExists(f"{self._where(key)}: already exists") from None
        except OSError as e:
            if e.errno == errno.EEXIST:
                raise AlreadyExists(f"{self._where(key)}: already exists") from None
            raise StorageError(f"{self._where(key)}: cannot write: {e.strerror}") from None

    def child(self, path: str) -> LocalStorage:
        key = join_key(path)
        child_root = self._path(key) if key else self.root
        uri = self.display_uri.rstrip("/") + ("/" + key if key else "")
        return LocalStorage(child_root, uri, jail=self.jail)


def _fsync_dir(directory: Path) -> None:
    """Make the new directory entry durable (a crash after return keeps the file)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
