"""The installed `rewrap` command in batch mode: inputs, formats, exit codes, stdout/stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.demo import write_demo

REWRAP = str(Path(sys.executable).parent / "rewrap")
KMS = "testkms:///demo-key"


@pytest.fixture(scope="module")
def io_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("extern")
    write_demo(d / "coll", seed=11)
    return d


def rewrap(io_dir: Path, *args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [REWRAP, "--external-io-dir", str(io_dir), *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_show_backups_as_json_lines(io_dir: Path) -> None:
    p = rewrap(io_dir, "--format", "json", "-e", "SHOW BACKUPS IN 'nodelocal://self/coll'")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(rows) == 3 and set(rows[0]) == {"path"}
    assert rows[0]["path"].startswith("/2026/11/24-")


def test_show_backup_table_tsv_and_json_agree(io_dir: Path) -> None:
    sql = f"SHOW BACKUP FROM LATEST IN 'nodelocal://self/coll' WITH KMS = '{KMS}'"
    table = rewrap(io_dir, "-e", sql)
    tsv = rewrap(io_dir, "--format", "tsv", "-e", sql)
    js = rewrap(io_dir, "--format", "json", "-e", sql)
    assert table.returncode == tsv.returncode == js.returncode == 0
    rows = [json.loads(line) for line in js.stdout.splitlines()]
    assert len(rows) == len(tsv.stdout.splitlines()) - 1
    assert table.stdout.rstrip().endswith(f"({len(rows)} rows)")
    assert list(rows[0]) == [
        "database_name", "parent_schema_name", "object_name", "object_type", "backup_type",
        "start_time", "end_time", "size_bytes", "rows", "is_full_cluster", "regions",
    ]
    users = [r for r in rows if r["object_name"] == "users"]
    assert users[0]["backup_type"] == "full" and users[0]["rows"] == 500
    assert users[0]["start_time"] is None and users[1]["start_time"] == users[0]["end_time"]


def test_file_and_stdin_inputs(io_dir: Path, tmp_path: Path) -> None:
    script = tmp_path / "q.sql"
    script.write_text("-- a comment\nSHOW BACKUPS IN 'nodelocal://self/coll';\n\nSHOW BACKUPS IN 'nodelocal://self/coll';\n")
    p = rewrap(io_dir, "--format", "tsv", "-f", str(script))
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("path\n") == 2
    q = rewrap(io_dir, "--format", "tsv", stdin="SHOW BACKUPS IN 'nodelocal://self/coll'")
    assert q.returncode == 0 and q.stdout.count("/2026/") == 3


def test_errors_go_to_stderr_with_exit_1_and_stop_the_script(io_dir: Path) -> None:
    p = rewrap(
        io_dir, "-e",
        "SHOW BACKUP LATEST IN 'nodelocal://self/coll' WITH KMS = 'aws:///k?REGION=r&AWS_ACCESS_KEY_ID=A&AWS_SECRET_ACCESS_KEY=hunter2'; "
        "SHOW BACKUPS IN 'nodelocal://self/coll'",
    )
    assert p.returncode == 1
    assert p.stdout == ""  # the second statement did not run
    assert p.stderr.startswith("ERROR: ") and "hunter2" not in p.stderr
    assert "Traceback" not in p.stderr


def test_syntax_error_is_exit_1_with_position(io_dir: Path) -> None:
    p = rewrap(io_dir, "-e", "SHOW BACKUPS ON 'x'")
    assert p.returncode == 1
    assert 'at or near "on": syntax error' in p.stderr.lower()


def test_cluster_statements_explain_themselves(io_dir: Path) -> None:
    p = rewrap(io_dir, "-e", "BACKUP INTO 'nodelocal://self/x'")
    assert p.returncode == 1 and "needs a CockroachDB cluster" in p.stderr


def test_usage_error_is_exit_2(io_dir: Path) -> None:
    p = rewrap(io_dir, "--format", "xml", "-e", "SHOW BACKUPS IN 'x'")
    assert p.returncode == 2
    p = rewrap(io_dir, "-f", "/does/not/exist.sql")
    assert p.returncode == 2 and "cannot read" in p.stderr


def test_no_arguments_creates_and_shows_the_demo(tmp_path: Path) -> None:
    p = subprocess.run(
        [REWRAP], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
        env={**os.environ, "REWRAP_EXTERNAL_IO_DIR": str(tmp_path)},
    )
    # stdin is not a terminal here, so rewrap reads (empty) SQL from it: nothing to do
    assert p.returncode == 0, p.stderr
    # what the console opens on first use: the demo collection, written under the external-IO dir
    code = (
        "import sys\n"
        "from engine.demo import DEFAULT_DEMO_KMS, DEMO_COLLECTION, ensure_demo_collection\n"
        "from tui.cli import run_batch\n"
        "from tui.settings import load_settings\n"
        "s = load_settings()\n"
        "ensure_demo_collection(s.engine.storage)\n"
        "sql = f\"SHOW BACKUP FROM LATEST IN '{DEMO_COLLECTION}' WITH KMS = '{DEFAULT_DEMO_KMS}'\"\n"
        "sys.exit(run_batch(sql, fmt='tsv', out=sys.stdout, err=sys.stderr, settings=s))\n"
    )
    q = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "REWRAP_EXTERNAL_IO_DIR": str(tmp_path)})
    assert q.returncode == 0, q.stderr
    assert (tmp_path / "demo" / "metadata" / "latest").is_dir()
    assert "movr" in q.stdout


def test_rewrap_demo_command(tmp_path: Path) -> None:
    p = subprocess.run([REWRAP, "demo", str(tmp_path / "d"), "--seed", "1"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "3 full backups" in p.stdout
    again = subprocess.run([REWRAP, "demo", str(tmp_path / "d")], capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "not empty" in again.stderr


def test_batch_mode_never_imports_textual(io_dir: Path) -> None:
    code = (
        "import sys, io; from tui.cli import run_batch\n"
        f"rc = run_batch(\"SHOW BACKUP LATEST IN 'nodelocal://self/coll' WITH KMS = '{KMS}'\", fmt='json', out=io.StringIO(), err=sys.stderr)\n"
        "assert rc == 0, rc\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'prompt_toolkit')))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "REWRAP_EXTERNAL_IO_DIR": str(io_dir)}, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"
