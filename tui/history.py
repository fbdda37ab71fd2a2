"""Statement history shared by the TUI and the line shell: redacted, across runs, mode 0600.

One statement per entry; the file is JSON lines so multi-line statements survive. Every entry is
redacted with the one redaction function before it touches the disk (statements are stored as
syntax.format_statement(..., redact=True) when they parse, else with each quoted URI redacted).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.paths import open_private
from syntax.redact import redact_text

MAX_ENTRIES = 5000


def history_path() -> Path:
    from engine.paths import data_dir

    return data_dir() / "history"


def redact_statement(text: str) -> str:
    """The statement with every URI in it redacted (the one redaction function)."""
    return redact_text(text)


class History:
    """Append-only history file; `entries()` oldest first."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_path()

    def append(self, statement: str) -> None:
        text = redact_statement(statement.strip())
        if not text:
            return
        fd = open_private(self.path)  # 0600 in a 0700 dir whatever the umask, never a symlink
        try:
            os.write(fd, (json.dumps(text) + "\n").encode())
        finally:
            os.close(fd)

    def entries(self) -> list[str]:
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines[-MAX_ENTRIES:]:
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, str):
                out.append(value)
        return out
