"""Helpers for the local-storage tests: the installed `rewrap` command and what its output must
look like."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REWRAP = str(Path(sys.executable).parent / "rewrap")
DEMO_KMS = "testkms:///demo-key"


def full_backups(coll_dir: Path) -> list[Path]:
    """The full backup directories of a collection, oldest first."""
    return sorted(p.parent for p in coll_dir.glob("[0-9]*/*/*/BACKUP_MANIFEST"))


def rewrap(io_dir: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The installed command, with every state file under the test's directory."""
    env = {
        **os.environ,
        "REWRAP_EXTERNAL_IO_DIR": str(io_dir),
        "REWRAP_DATA_DIR": str(io_dir.parent / "data"),
    }
    return subprocess.run(
        [REWRAP, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env,
        timeout=timeout,
    )


def assert_clean_error(p: subprocess.CompletedProcess, *needles: str) -> None:
    """Exit 1, an ERROR: line naming what was wrong, and no traceback."""
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr
    assert "ERROR:" in p.stderr, p.stderr
    for n in needles:
        assert n in p.stderr, p.stderr


def assert_no_traceback(p: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr
    assert p.returncode in (0, 1), (p.returncode, p.stderr)
