"""The append-only audit journal of ALTER BACKUP runs (JSON lines, mode 0600).

One line per backup touched: when, the statement (redacted), the backup (redacted URI), the key
fingerprints involved, the file written and the verification result. Lines are appended with
O_APPEND in a single write each, so concurrent rewrap processes and threads never interleave a
line and need no lock; each append is fsynced before it returns (durable before the statement
reports), and threads fsync in parallel, so the kernel commits them together instead of one after
another. The file and its directory come from engine.paths (0600/0700 whatever the umask,
tightened when found looser).
"""

from __future__ import annotations

import errno
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.paths import open_private


class AuditJournal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._dir_synced = False

    def append(self, record: dict[str, Any]) -> None:
        """Append one line, durably; OSError if it is not all on disk (e.g. a full disk)."""
        line = json.dumps({"time": datetime.now(UTC).isoformat(), **record}, sort_keys=False)
        data = (line + "\n").encode()
        fd = open_private(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            written = os.write(fd, data)
            if written != len(data):
                # O_APPEND writes are one piece or nothing on local filesystems; a short one
                # means the disk is full: the record is not there, say so.
                raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes written")
            os.fsync(fd)
        finally:
            os.close(fd)
        if not self._dir_synced:  # the journal's own directory entry, once per process
            dfd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
            self._dir_synced = True

    def records(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]
