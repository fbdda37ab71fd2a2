"""Where rewrap keeps its own state, in one table.

| file                         | written by                  | read by               | mode |
|------------------------------|-----------------------------|-----------------------|------|
| `<data>/audit.jsonl`         | ALTER BACKUP (engine)       | people, scripts       | 0600 |
| `<data>/extern/`             | `rewrap demo` (first run)   | nodelocal:// URIs     |      |
| `<data>/history` (TUI/shell) | the TUI and shell           | the TUI and shell     | 0600 |

`<data>` is `$REWRAP_DATA_DIR` when set, else the platform's user data dir
(`~/.local/share/rewrap` on Linux). The external-IO dir can be moved on its own with
`--external-io-dir` / `$REWRAP_EXTERNAL_IO_DIR`; the audit journal with `$REWRAP_AUDIT_LOG`.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    env = os.environ.get("REWRAP_DATA_DIR")
    if env:
        return Path(env)
    from platformdirs import user_data_path

    return user_data_path("rewrap")


def audit_journal_path() -> Path:
    env = os.environ.get("REWRAP_AUDIT_LOG")
    return Path(env) if env else data_dir() / "audit.jsonl"
