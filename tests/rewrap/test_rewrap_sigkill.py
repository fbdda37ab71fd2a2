"""SIGKILL at every step of an ALTER, and inside the write: the chain opens with the old key,
no ENCRYPTION-INFO* file is partial or unparseable, and a re-run in a fresh process completes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import chain_reader as cr
import rewrap_support as rs
from engine.rewrap.events import Step

CHILD = str(Path(__file__).with_name("kill_child.py"))
POINTS = [s.name for s in Step] + ["LINK"]
NEW = "testkms:///k-new"


@pytest.mark.parametrize("point", POINTS)
def test_sigkill_then_rerun(point: str, io_dir: Path, coll_dir: Path) -> None:
    latest = cr.full_backups(coll_dir)[-1]
    backup_dir = coll_dir / latest.strip("/")
    child = subprocess.run(
        [sys.executable, CHILD, str(io_dir), point, NEW], capture_output=True, text=True, timeout=60
    )
    assert child.returncode == -signal.SIGKILL, (child.stdout, child.stderr)
    assert cr.open_chain(coll_dir, latest, "demo-key") == 4
    files = cr.all_entries(backup_dir)  # asserts every visible file is whole
    written = point == Step.READING_BACK.name  # killed after the write published the file
    assert sorted(files) == (["ENCRYPTION-INFO", "ENCRYPTION-INFO-2"] if written else ["ENCRYPTION-INFO"])
    temps = [p.name for p in backup_dir.iterdir() if ".tmp-" in p.name]
    assert temps == []  # O_TMPFILE: a file has no name at all until linkat(2) publishes it

    rerun = rs.rewrap_cli(io_dir, "--format", "json", "-e", rs.alter_sql(f"'{NEW}'"))
    assert rerun.returncode == 0, rerun.stderr
    (row,) = [json.loads(line) for line in rerun.stdout.splitlines()]
    expected = ("already present", None) if written else ("added", "ENCRYPTION-INFO-2")
    assert (row["status"], row["file"]) == expected
    assert cr.open_chain(coll_dir, latest, "k-new") == 4
    assert cr.open_chain(coll_dir, latest, "demo-key") == 4
    assert cr.key_count(backup_dir, "k-new") == 1
