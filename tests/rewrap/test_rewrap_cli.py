"""ALTER BACKUP through the installed `rewrap` command: --format json rows and events, a bulk run
with failing backups (rows for all, exit 1), --dry-run, --concurrency, and the audit journal
(one redacted line per backup, mode 0600; no secret on stdout, stderr or in the journal)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import chain_reader as cr
import rewrap_support as rs

SECRET_NEW, SECRET_OLD = "hunter2-new-secret", "s3cr3t-old-token"
ALL = (
    f"ALTER BACKUP ALL IN '{rs.COLL_URI}' ADD NEW_KMS = 'testkms:///new?AWS_SECRET_ACCESS_KEY={SECRET_NEW}' "
    f"WITH OLD_KMS = 'testkms:///demo-key?AWS_SESSION_TOKEN={SECRET_OLD}'"
)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_json_rows_on_stdout_and_json_events_on_stderr(io_dir: Path, coll_dir: Path) -> None:
    p = rs.rewrap_cli(io_dir, "--format", "json", "--concurrency", "2", "-e", ALL)
    assert p.returncode == 0, p.stderr
    rows = json_lines(p.stdout)
    assert [list(r) for r in rows] == [["backup", "status", "file", "error"]] * 3
    assert [r["backup"] for r in rows] == cr.full_backups(coll_dir)
    assert {(r["status"], r["file"], r["error"]) for r in rows} == {("added", "ENCRYPTION-INFO-2", None)}
    events = json_lines(p.stderr)  # every stderr line is a JSON event
    kinds = [e["event"] for e in events]
    assert kinds[0] == "plan" and kinds[-1] == "finished"
    assert events[0]["concurrency"] == 2 and len(events[0]["backups"]) == 3
    assert kinds.count("backup_started") == kinds.count("backup_done") == 3
    assert {e["step"] for e in events if e["event"] == "step"} == {
        "reading keys", "unwrapping", "verifying manifest", "wrapping", "verifying new keys",
        "writing", "reading back",
    }
    assert events[-1]["counts"] == {"added": 3}


def test_bulk_run_with_failing_backups_reports_all_and_exits_1(io_dir: Path, coll_dir: Path) -> None:
    first, second, third = cr.full_backups(coll_dir)
    (coll_dir / first.strip("/") / "ENCRYPTION-INFO").unlink()  # now unencrypted
    manifest = coll_dir / second.strip("/") / "BACKUP_MANIFEST"
    damaged = bytearray(manifest.read_bytes())
    damaged[40] ^= 0xFF
    manifest.write_bytes(bytes(damaged))
    p = rs.rewrap_cli(io_dir, "--format", "json", "--concurrency", "1", "-e", ALL)
    assert p.returncode == 1
    rows = {r["backup"]: r for r in json_lines(p.stdout)}
    assert list(rows) == [first, second, third]
    assert rows[first]["status"] == "failed" and "not encrypted" in rows[first]["error"]
    assert rows[second]["status"] == "failed" and "does not decrypt the backup's manifest" in rows[second]["error"]
    assert (rows[third]["status"], rows[third]["file"]) == ("added", "ENCRYPTION-INFO-2")
    assert cr.open_chain(coll_dir, third, "new") == 4
    table = rs.rewrap_cli(io_dir, "-e", ALL)  # default output: error lines name each backup
    assert table.returncode == 1
    assert f"ERROR: {first}: " in table.stderr and f"ERROR: {second}: " in table.stderr
    assert "ERROR: 2 of 3 backups failed" in table.stderr
    assert "Traceback" not in p.stderr + table.stderr


def test_dry_run_writes_nothing(io_dir: Path, coll_dir: Path) -> None:
    before = cr.snapshot(coll_dir)
    p = rs.rewrap_cli(io_dir, "--dry-run", "--format", "json", "-e", ALL)
    assert p.returncode == 0, p.stderr
    assert [(r["status"], r["file"]) for r in json_lines(p.stdout)] == [("would add", None)] * 3
    assert json_lines(p.stderr)[0]["dry_run"] is True
    assert cr.snapshot(coll_dir) == before


def test_audit_journal_is_redacted_one_line_per_backup_and_private(io_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "private" / "audit.jsonl"
    env = rs.cli_env(io_dir, REWRAP_AUDIT_LOG=str(log))
    ok = rs.rewrap_cli(io_dir, "-e", ALL, env=env)
    assert ok.returncode == 0, ok.stderr
    wrong = rs.rewrap_cli(
        io_dir, "-e", rs.alter_sql("'testkms:///x'", old=f"'testkms:///nope?AWS_SECRET_ACCESS_KEY={SECRET_OLD}'"), env=env
    )
    assert wrong.returncode == 1 and "no key in OLD_KMS matches" in wrong.stderr
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    for secret in (SECRET_NEW, SECRET_OLD):
        assert secret not in text
        assert secret not in ok.stdout + ok.stderr + wrong.stdout + wrong.stderr
    records = json_lines(text)
    assert [r["status"] for r in records] == ["added"] * 3 + ["failed"]
    assert len({r["backup"] for r in records[:3]}) == 3
    assert all("AWS_SECRET_ACCESS_KEY=redacted" in r["statement"] for r in records)
    assert records[0]["verified"] == {"manifest": True, "round_trip": True, "read_back": True}
    assert not (io_dir.parent / "data" / "audit.jsonl").exists()  # REWRAP_AUDIT_LOG wins
