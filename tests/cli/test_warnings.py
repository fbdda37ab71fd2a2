"""Warnings always reach stderr in batch mode (issue 15, item 4).

Before: without --progress and with stderr not a terminal, the engine's Notice events were
dropped, so a full disk under the audit journal gave exit 0, an empty stderr and a 0-byte
journal, and ALTER's "skipped unreadable ENCRYPTION-INFO" notice was never seen. Now each is one
`WARNING: ` line (a JSON `warning` event with --format json).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.cli_support import COLL, OLD_KMS, demo_io_dir, env_for, full_backups, run

ALTER = f"ALTER BACKUP LATEST IN '{COLL}' ADD NEW_KMS = 'testkms:///new-key' WITH OLD_KMS = '{OLD_KMS}'"


def test_audit_journal_on_a_full_disk_is_a_warning(tmp_path: Path) -> None:
    io_dir = demo_io_dir(tmp_path)
    env = env_for(tmp_path, io_dir, REWRAP_AUDIT_LOG="/dev/full")  # every write: ENOSPC
    p = run(["-e", ALTER], env)
    err = p.stderr.decode()
    assert p.returncode == 0, err  # the key file was written: the run succeeded
    warnings = [line for line in err.splitlines() if line.startswith("WARNING: ")]
    assert len(warnings) == 1, err
    assert "audit journal" in warnings[0] and "not written" in warnings[0] and "/dev/full" in warnings[0]
    assert "Traceback" not in err


def test_skipped_unreadable_encryption_info_is_a_warning(tmp_path: Path) -> None:
    io_dir = demo_io_dir(tmp_path)
    latest = full_backups(io_dir)[-1]
    (latest / "ENCRYPTION-INFO-2").write_bytes(b"\x0a\xff not a protobuf")
    env = env_for(tmp_path, io_dir)
    p = run(["-e", ALTER], env)
    err = p.stderr.decode()
    assert p.returncode == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("WARNING: ")]
    assert len(warnings) == 1 and "ENCRYPTION-INFO-2" in warnings[0], err


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_show_backup_notices_are_warnings_too(tmp_path: Path, fmt: str) -> None:
    io_dir = demo_io_dir(tmp_path)
    latest = full_backups(io_dir)[-1]
    (latest / "ENCRYPTION-INFO-2").write_bytes(b"\x0a\xff not a protobuf")
    env = env_for(tmp_path, io_dir)
    p = run(["--format", fmt, "-e", f"SHOW BACKUP LATEST IN '{COLL}' WITH KMS = '{OLD_KMS}'"], env)
    err = p.stderr.decode()
    assert p.returncode == 0, err
    if fmt == "json":  # every stderr line is one JSON object
        events = [json.loads(line) for line in err.splitlines()]
        assert [e["event"] for e in events] == ["warning"] and "ENCRYPTION-INFO-2" in events[0]["message"]
    else:
        assert err.startswith("WARNING: ") and "ENCRYPTION-INFO-2" in err and err.count("\n") == 1
