"""The append-only audit journal of ALTER BACKUP runs (JSON lines, mode 0600).

One line per backup touched: when, the statement (redacted), the backup (redacted URI), the key
fingerprints involved, the file written and the verification result. Lines are appended with
O_APPEND in a single write each, so concurrent rewrap processes and threads never interleave a
line and need no lock. Outside a batch each append is fsynced before it returns. A statement
(run_rewrap) opens a batch: appends are written at once, in order, but fsynced together when the
batch ends, before the statement returns (so the record is still durable before the statement
reports), instead of one fsync per backup on each worker's critical path (~3 ms of a 60 ms
backup against a 20 ms KMS). The file and its directory come from engine.paths (0600/0700
whatever the umask, tightened when found looser).
"""

from __future__ import annotations

import errno
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.paths import open_private


class AuditJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._dir_synced = False
        self._lock = threading.Lock()
        self._batching = 0  # open batches (statements may overlap in the console)
        self._batch_fd: int | None = None
        self._unsynced = 0

    def append(self, record: dict[str, Any]) -> None:
        """Append one line; durably unless in a batch (then `end_batch` makes it durable).
        OSError if it could not be written (e.g. a full disk)."""
        line = json.dumps({"time": datetime.now(UTC).isoformat(), **record}, sort_keys=False)
        data = (line + "\n").encode()
        if self._batching:
            with self._lock:
                if self._batch_fd is None:
                    self._batch_fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
                fd = self._batch_fd
                _write_line(fd, data)
                self._unsynced += 1
            return
        fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            _write_line(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        self._sync_dir()

    def begin_batch(self) -> None:
        """Defer fsyncs until `end_batch` (which the caller must reach, e.g. in a finally)."""
        with self._lock:
            self._batching += 1

    def end_batch(self) -> tuple[int, OSError] | None:
        """fsync what the batch appended; None when all of it is on disk, else (how many
        records may not be, the error)."""
        with self._lock:
            self._batching -= 1
            fd = self._batch_fd
            count, self._unsynced = self._unsynced, 0
            try:
                if fd is not None and count:
                    os.fsync(fd)  # covers every line written so far, other batches' too
                    self._sync_dir()
            except OSError as e:
                return count, e
            finally:
                if fd is not None and not self._batching:
                    self._batch_fd = None
                    os.close(fd)
        return None

    def _sync_dir(self) -> None:
        if not self._dir_synced:  # the journal's own directory entry, once per process
            dfd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
            self._dir_synced = True


def _write_line(fd: int, data: bytes) -> None:
    written = os.write(fd, data)
    if written != len(data):
        # O_APPEND writes are one piece or nothing on local filesystems; a short one means the
        # disk is full: the record is not there, say so.
        raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes written")
