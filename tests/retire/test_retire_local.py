"""SHOW KMS RETIREMENT through the installed `rewrap` on a local collection, graded with the
independent reader (tests/rewrap/chain_reader.py on tests/crdb_fixtures.py, nothing of engine/).

CockroachDB's rule the proof must follow, looked up in cockroachdb/cockroach
pkg/backup/backupencryption/encryption.go (commit 200d56f7485c02271360970eeb9b4c0477d67e79):
ReadEncryptionOptions reads every ENCRYPTION-INFO* file, lexically last first, and fails the
whole read on one it cannot parse; GetEncryptionFromBaseStore takes the first file whose map
holds the key id (ValidateKMSURIsAgainstFullBackup) and decrypts that entry, no other.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path

import pytest

import chain_reader as cr
import rewrap_support as rs
import tests.crdb_fixtures as fx

OLD = rs.DEMO_KMS
SECRET = "retire-s3cr3t-VALUE"
NEW = f"testkms:///new?AWS_SECRET_ACCESS_KEY={SECRET}"  # testkms ignores it; it must never show
COLL = rs.COLL_URI


def retire_sql(remaining: str = f"'{NEW}'", old: str = OLD, coll: str = f"'{COLL}'") -> str:
    return f"SHOW KMS RETIREMENT '{old}' IN {coll} WITH KMS = {remaining}"


def run(io_dir: Path, *args: str) -> tuple[int, list[dict], str]:
    p = rs.rewrap_cli(io_dir, "--format", "json", *args)
    everything = p.stdout + p.stderr
    assert SECRET not in everything, "a secret leaked"
    assert "Traceback" not in everything
    return p.returncode, [json.loads(line) for line in p.stdout.splitlines()], p.stderr


def error_line(stderr: str) -> str:
    (line,) = [ln for ln in stderr.splitlines() if ln.startswith("ERROR:")]
    return line


def rotate(io_dir: Path) -> None:
    p = rs.rewrap_cli(io_dir, "-e", f"ALTER BACKUP ALL IN '{COLL}' ADD NEW_KMS = '{NEW}' WITH OLD_KMS = '{OLD}'")
    assert p.returncode == 0, p.stderr


def journal(io_dir: Path) -> list[dict]:
    path = io_dir.parent / "data" / "audit.jsonl"
    if not path.exists():
        return []
    return [json.loads(ln) for ln in path.read_text().splitlines() if "kms-retirement" in ln]


def test_before_rotation_every_backup_is_named(io_dir: Path, coll_dir: Path) -> None:
    fulls = cr.full_backups(coll_dir)
    code, rows, err = run(io_dir, "-e", retire_sql())
    assert code == 1
    assert [(r["backup"], r["verdict"], r["incrementals"]) for r in rows] == [(f, "needs ALTER", 3) for f in fulls]
    assert all(r["kms_calls"] == 0 and r["opened_by"] is None for r in rows)  # nothing to unwrap
    line = error_line(err)
    assert line.startswith(f"ERROR: '{OLD}' cannot be retired: 3 of 3 backups open only with it: ")
    assert all(f in line for f in fulls)
    assert "ALTER BACKUP" in rows[0]["detail"]  # what fixes it
    for f in fulls:  # independently: the new key is in no file, the old one opens the chain
        with pytest.raises(AssertionError):
            cr.crdb_wrapped(coll_dir / f.strip("/"), "new")
        assert cr.crdb_open_chain(coll_dir, f, "demo-key") == 4
    assert len(journal(io_dir)) == 3  # one audit record per check


def test_after_alter_all_every_backup_is_safe_with_report(io_dir: Path, coll_dir: Path, tmp_path: Path) -> None:
    rotate(io_dir)
    report = tmp_path / "retire-report"
    code, rows, err = run(io_dir, "--report", str(report), "-e", retire_sql())
    assert code == 0, err
    assert [r["verdict"] for r in rows] == ["safe"] * 3
    assert all(r["kms_calls"] == 1 for r in rows)  # one decrypt per backup, shared by the chain
    fp = hashlib.sha256(b"new").hexdigest()[:8]
    assert all(r["opened_by"] == f"testkms:///new?AWS_SECRET_ACCESS_KEY=redacted ({fp})" for r in rows), rows
    for f in cr.full_backups(coll_dir):  # CockroachDB's entry for the new key opens all 4 manifests
        assert cr.crdb_open_chain(coll_dir, f, "new") == 4
    md, js = Path(f"{report}.md").read_text(), Path(f"{report}.json").read_text()
    assert SECRET not in md + js
    data = json.loads(js)
    assert data["retirable"] is True and data["kms_calls"] == 3 and data["rewrap_version"]
    assert [b["verdict"] for b in data["backups"]] == ["safe"] * 3
    assert all(b["cells"][fp] == "proven" for b in data["backups"])
    assert "can be retired" in md and fp in md
    assert len(journal(io_dir)) == 3


def test_planted_entry_wrapping_the_wrong_key_is_not_safe(io_dir: Path, coll_dir: Path) -> None:
    rotate(io_dir)
    fulls = cr.full_backups(coll_dir)
    victim = coll_dir / fulls[1].strip("/")
    # ENCRYPTION-INFO-3 sorts after -2, so CockroachDB takes its entry for "new" and no other,
    # although ENCRYPTION-INFO-2 holds a good one.
    wrong = fx.encryption_info(kms={hashlib.sha256(b"new").digest(): fx.testkms_wrap("new", os.urandom(32))})
    (victim / "ENCRYPTION-INFO-3").write_bytes(wrong)
    with pytest.raises(Exception):  # the independent reader agrees: CockroachDB's entry is bad
        cr.crdb_open_chain(coll_dir, fulls[1], "new")
    code, rows, err = run(io_dir, "-e", retire_sql())
    assert code == 1
    assert [r["verdict"] for r in rows] == ["safe", "unreadable", "safe"]
    assert "ENCRYPTION-INFO-3" in rows[1]["detail"]
    line = error_line(err)
    assert "1 of 3 backups" in line and fulls[1] in line and fulls[0] not in line and fulls[2] not in line


def test_unparseable_extra_encryption_info_is_unreadable(io_dir: Path, coll_dir: Path) -> None:
    rotate(io_dir)
    fulls = cr.full_backups(coll_dir)
    (coll_dir / fulls[0].strip("/") / "ENCRYPTION-INFO-7").write_bytes(b"\xff\xff\xff not a proto")
    code, rows, err = run(io_dir, "-e", retire_sql())
    assert code == 1
    assert [r["verdict"] for r in rows] == ["unreadable", "safe", "safe"]
    assert "ENCRYPTION-INFO-7" in rows[0]["detail"] and "move" in rows[0]["detail"]
    assert rows[0]["kms_calls"] == 0
    line = error_line(err)
    assert "1 of 3" in line and fulls[0] in line and fulls[1] not in line


def test_unreachable_kms_is_never_safe(io_dir: Path, coll_dir: Path) -> None:
    """A listener that accepts connections and never answers; --kms-timeout bounds the wait."""
    key_id = "alias/retire-silent"
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        uri = (f"aws:///{key_id}?REGION=us-east-1&AWS_ENDPOINT=http://127.0.0.1:{port}"
               f"&AWS_ACCESS_KEY_ID=AK&AWS_SECRET_ACCESS_KEY={SECRET}")
        entry = fx.encryption_info(kms={hashlib.sha256(key_id.encode()).digest(): os.urandom(64)})
        for f in cr.full_backups(coll_dir):
            (coll_dir / f.strip("/") / "ENCRYPTION-INFO-2").write_bytes(entry)
        code, rows, err = run(io_dir, "--kms-timeout", "1", "-e", retire_sql(f"'{uri}'"))
    assert code == 1
    assert [r["verdict"] for r in rows] == ["unreadable"] * 3
    assert all("timed out" in r["detail"] or "not tried" in r["detail"] for r in rows), rows
    assert "3 of 3" in error_line(err)


def test_backup_newer_than_the_rotation_is_called_out(io_dir: Path, coll_dir: Path) -> None:
    rotate(io_dir)
    # a schedule still on the old key writes a new full backup after the rotation
    when = fx.utc(2026, 12, 1, 2, 0, 0)
    sub = fx.subdir(when)
    key = os.urandom(32)
    w = fx.Writer(coll_dir, data_key=key)
    table = fx.FixtureTable(id=104, name="users", rows=5, size=100)
    w.backup_dir(sub.strip("/"), fx.manifest(start=None, end=when, db=(100, "movr"), tables=[table]))
    w.put(f"{sub.strip('/')}/ENCRYPTION-INFO",
          fx.encryption_info(kms={hashlib.sha256(b"demo-key").digest(): fx.testkms_wrap("demo-key", key)}))
    assert cr.open_chain(coll_dir, sub, "demo-key") == 1
    code, rows, err = run(io_dir, "-e", retire_sql())
    assert code == 1
    assert [r["verdict"] for r in rows] == ["safe", "safe", "safe", "needs ALTER"]
    detail = rows[3]["detail"]
    assert "written after the rotation" in detail
    assert "ALTER BACKUP SCHEDULE <id> SET WITH kms = 'testkms:///new?AWS_SECRET_ACCESS_KEY=redacted'" in detail
    assert f"ALTER BACKUP '{sub}' IN '{COLL}' ADD NEW_KMS" in detail
    line = error_line(err)
    assert "1 of 4" in line and sub in line
    assert "schedule" in err  # the notice


def test_kms_calls_are_one_per_file_and_key(io_dir: Path, kms_calls: list) -> None:
    """Two remaining keys both present: the first proves each backup, one decrypt each; the
    old key's KMS is never called."""
    rs.run_sql(io_dir, rs.alter_sql("('countkms:///a', 'countkms:///b')", target="ALL"))
    kms_calls.clear()
    result = rs.run_sql(io_dir, retire_sql("('countkms:///a', 'countkms:///b')", old="countkms:///demo-key"),
                        concurrency=2)
    assert result.ok and result.error is None
    assert [r[5] for r in result.rows] == [1, 1, 1]
    assert sorted(kms_calls) == [("decrypt", "countkms", "a")] * 3


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        (retire_sql(f"('{NEW}', '{OLD}')"), "is the key to retire"),
        (retire_sql("'testkms:///demo-key?x=1'"), "is the key to retire"),  # same key id
        (retire_sql("'no-scheme'"), "WITH KMS 'no-scheme'"),
        (retire_sql(old="nope://x"), "the key to retire"),
        (retire_sql(coll="'nodelocal://self/nothing-here'"), "holds no full backup"),
        (retire_sql(coll="'nope://bucket/x'"), "collection 'nope://bucket/x': "),  # unknown scheme
        (retire_sql(coll="'s3://'"), "collection 's3://': "),  # malformed URI
    ],
)
def test_bad_input_is_a_clear_error_and_nothing_is_written(io_dir: Path, coll_dir: Path, tmp_path: Path,
                                                           sql: str, words: str) -> None:
    before = cr.snapshot(coll_dir)
    report = tmp_path / "r"
    code, rows, err = run(io_dir, "--report", str(report), "-e", sql)
    assert code == 1 and rows == []
    assert words in error_line(err), err
    assert cr.snapshot(coll_dir) == before
    assert not Path(f"{report}.md").exists() and not Path(f"{report}.json").exists()
    assert journal(io_dir) == []


def test_table_output_rows_then_error(io_dir: Path) -> None:
    p = rs.rewrap_cli(io_dir, "-e", retire_sql())
    assert p.returncode == 1
    assert [w for w in p.stdout.splitlines()[0].split() if w != "|"][:4] == ["collection", "backup", "incrementals", "verdict"]
    assert p.stderr.rstrip().splitlines()[-1].startswith(f"ERROR: '{OLD}' cannot be retired: 3 of 3")


def test_the_same_key_named_twice_costs_one_call(io_dir: Path, kms_calls: list) -> None:
    """A refusing KMS and then the same key id again: one decrypt of that entry, not two."""
    rs.run_sql(io_dir, rs.alter_sql("'countkms:///a'", target="ALL"))
    kms_calls.clear()
    result = rs.run_sql(io_dir, retire_sql("('refusekms:///a', 'countkms:///a?x=1')"))
    assert not result.ok and [r[3] for r in result.rows] == ["unreadable"] * 3
    assert [r[5] for r in result.rows] == [1, 1, 1]
    assert all("key is disabled" in r[6] for r in result.rows)
    assert len(kms_calls) == 3


class _InFlight(rs.CountingKMS):
    """testkms bytes after a short wait, recording how many calls overlap."""

    lock = __import__("threading").Lock()
    now = 0
    peak = 0

    def decrypt(self, ciphertext: bytes) -> bytes:
        import time

        with _InFlight.lock:
            _InFlight.now += 1
            _InFlight.peak = max(_InFlight.peak, _InFlight.now)
        try:
            time.sleep(0.05)
            return super().decrypt(ciphertext)
        finally:
            with _InFlight.lock:
                _InFlight.now -= 1


def test_kms_calls_never_exceed_the_concurrency(io_dir: Path, coll_dir: Path) -> None:
    """--concurrency bounds the KMS calls in flight, though more threads read ahead."""
    from engine.kms import register_kms_scheme

    register_kms_scheme("inflightkms", rs._Provider(_InFlight))
    # nine full backups: the demo's three, copied under later names
    import shutil

    fulls = cr.full_backups(coll_dir)
    for n, f in enumerate(fulls * 2):
        target = coll_dir / "2027" / "01" / f"0{n + 1}-000000.00"
        shutil.copytree(coll_dir / f.strip("/"), target)
    rs.run_sql(io_dir, rs.alter_sql("'inflightkms:///k'", target="ALL"))
    for concurrency in (2, 3):
        _InFlight.peak = 0
        result = rs.run_sql(io_dir, retire_sql("'inflightkms:///k'"), concurrency=concurrency)
        assert result.ok, result.error
        assert len(result.rows) == 9
        assert _InFlight.peak == concurrency, (_InFlight.peak, concurrency)
