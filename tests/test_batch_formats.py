"""Batch mode polish: every --format (known-answer bytes), every exit code, progress only on a
terminal or with --progress (JSON events with --format json), --dry-run, no secret anywhere in
what batch mode writes, and no textual / prompt_toolkit import on the batch path."""

from __future__ import annotations

import io
import json
import os
import pty
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from engine.demo import write_demo
from tui.batch.output import write_rows

REWRAP = str(Path(sys.executable).parent / "rewrap")
COLL = "nodelocal://self/coll"
KMS = "testkms:///demo-key"
SECRETS = ("s3cr3t-new-key-value", "t0ken-old-value", "storage-secret-xyz")
ALTER = (
    f"ALTER BACKUP ALL IN '{COLL}' ADD NEW_KMS = 'testkms:///new?AWS_SECRET_ACCESS_KEY={SECRETS[0]}' "
    f"WITH OLD_KMS = 'testkms:///demo-key?AWS_SESSION_TOKEN={SECRETS[1]}'"
)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("demo")
    write_demo(d / "coll", seed=5)
    return d


@pytest.fixture
def io_dir(demo_dir: Path, tmp_path: Path) -> Path:
    d = tmp_path / "extern"
    shutil.copytree(demo_dir, d)
    return d


def env_for(io_dir: Path) -> dict[str, str]:
    return {**os.environ, "REWRAP_EXTERNAL_IO_DIR": str(io_dir), "REWRAP_DATA_DIR": str(io_dir.parent / "data")}


def rewrap(io_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [REWRAP, *args], input=stdin, capture_output=True, text=True, env=env_for(io_dir), timeout=60
    )


# -- formats: known answers built by hand -----------------------------------------------------

COLUMNS = ["name", "n", "when", "flag", "note"]
ROWS = [
    ("plain", 7, datetime(2026, 11, 24, 2, 0, 12, 340000), True, None),
    (" lead, comma", -12, None, False, 'say "hi"\nthere'),
    ("\\.", 0, None, None, "tab\there"),
]


def render(fmt: str) -> str:
    out = io.StringIO()
    write_rows(out, fmt, COLUMNS, ROWS)
    return out.getvalue()


def test_csv_quotes_like_cockroach_go_csv_writer() -> None:
    # pkg/util/encoding/csv/writer.go: quote on delimiter, quote, CR/LF, leading space, `\.`
    assert render("csv") == (
        "name,n,when,flag,note\n"
        "plain,7,2026-11-24 02:00:12.34,true,NULL\n"
        '" lead, comma",-12,NULL,false,"say ""hi""\nthere"\n'
        '"\\.",0,NULL,NULL,tab\there\n'
    )


def test_tsv_uses_the_same_rules_with_a_tab_delimiter() -> None:
    assert render("tsv") == (
        "name\tn\twhen\tflag\tnote\n"
        "plain\t7\t2026-11-24 02:00:12.34\ttrue\tNULL\n"
        '" lead, comma"\t-12\tNULL\tfalse\t"say ""hi""\nthere"\n'
        '"\\."\t0\tNULL\tNULL\t"tab\there"\n'
    )


def test_json_lines_keep_types() -> None:
    lines = [json.loads(line) for line in render("json").splitlines()]
    assert lines[0] == {"name": "plain", "n": 7, "when": "2026-11-24 02:00:12.34", "flag": True, "note": None}
    assert lines[1]["note"] == 'say "hi"\nthere' and lines[2]["flag"] is None


def test_table_is_aligned_with_numbers_right_and_a_row_count() -> None:
    out = io.StringIO()
    write_rows(out, "table", ["path", "rows"], [("/a", 5), ("/bb", 120)])
    assert out.getvalue() == "  path | rows\n-------+------\n  /a   |    5\n  /bb  |  120\n(2 rows)\n"


def test_every_format_through_the_command(io_dir: Path) -> None:
    sql = f"SHOW BACKUP FROM LATEST IN '{COLL}' WITH KMS = '{KMS}'"
    outs = {fmt: rewrap(io_dir, "--format", fmt, "-e", sql) for fmt in ("table", "tsv", "csv", "json")}
    assert {fmt: p.returncode for fmt, p in outs.items()} == dict.fromkeys(outs, 0)
    n = len(outs["json"].stdout.splitlines())
    assert n > 0
    assert len(outs["csv"].stdout.splitlines()) == len(outs["tsv"].stdout.splitlines()) == n + 1
    assert outs["csv"].stdout.startswith("database_name,parent_schema_name,object_name,")
    assert outs["table"].stdout.rstrip().endswith(f"({n} rows)")
    assert all(p.stderr == "" for p in outs.values())


# -- exit codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "stderr_has"),
    [
        (["-e", f"SHOW BACKUPS IN '{COLL}'"], 0, None),
        (["-e", f"SHOW BACKUP LATEST IN '{COLL}' WITH KMS = 'testkms:///wrong'"], 1, "ERROR: "),
        (["-e", "SHOW BACKUPS ON 'x'"], 1, "syntax error"),
        (["--format", "xml", "-e", "SHOW BACKUPS IN 'x'"], 2, "invalid choice"),
        (["-e", "SHOW BACKUPS IN 'x'", "-f", "q.sql"], 2, "not allowed with"),
        (["-f", "/does/not/exist.sql"], 2, "cannot read"),
        (["--concurrency", "0", "-e", f"SHOW BACKUPS IN '{COLL}'"], 2, "between 1 and 256"),
        # issue 15: 20000 started a thread per backup (504 MB); now a usage error
        (["--concurrency", "20000", "-e", f"SHOW BACKUPS IN '{COLL}'"], 2, "between 1 and 256, not 20000"),
        (["--kms-timeout", "0", "-e", f"SHOW BACKUPS IN '{COLL}'"], 2, "--kms-timeout must be more than 0"),
        (["--storage-timeout", "soon", "-e", f"SHOW BACKUPS IN '{COLL}'"], 2, "--storage-timeout must be a number"),
    ],
)
def test_exit_codes(io_dir: Path, args: list[str], code: int, stderr_has: str | None) -> None:
    p = rewrap(io_dir, *args)
    assert p.returncode == code, p.stderr
    if stderr_has:
        assert stderr_has in p.stderr and "Traceback" not in p.stderr


def test_sql_on_stdin_and_a_failure_stops_the_script(io_dir: Path) -> None:
    p = rewrap(
        io_dir, "--format", "csv",
        stdin=f"SHOW BACKUPS IN '{COLL}'; SHOW BACKUPS IN 'nodelocal://self/coll?X=1'; SHOW BACKUPS IN '{COLL}';",
    )
    assert p.returncode == 1
    assert p.stdout.count("path\n") == 1  # the first ran, the third did not


# -- progress ---------------------------------------------------------------------------------


def test_no_progress_when_stderr_is_not_a_terminal(io_dir: Path) -> None:
    p = rewrap(io_dir, "--dry-run", "-e", ALTER)
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""
    assert p.stdout.count("would add") == 3


def test_progress_flag_forces_lines(io_dir: Path) -> None:
    p = rewrap(io_dir, "--dry-run", "--progress", "-e", ALTER)
    assert p.returncode == 0, p.stderr
    lines = p.stderr.splitlines()
    assert lines[0].startswith("ALTER BACKUP: 3 backup(s), checking (dry run)")
    assert sum(line.startswith("[") for line in lines) == 3 and lines[-1].startswith("ALTER BACKUP: 3 would add")


def test_progress_lines_on_a_terminal_without_the_flag(io_dir: Path) -> None:
    leader, follower = pty.openpty()
    try:
        p = subprocess.run(
            [REWRAP, "--dry-run", "-e", ALTER], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=follower, env=env_for(io_dir), timeout=60,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the writer side is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert p.returncode == 0
    err = b"".join(chunks).decode()
    assert "ALTER BACKUP: 3 backup(s)" in err and "would add (dry run)" in err


def test_json_format_writes_json_events(io_dir: Path) -> None:
    p = rewrap(io_dir, "--dry-run", "--format", "json", "-e", ALTER)
    assert p.returncode == 0, p.stderr
    events = [json.loads(line) for line in p.stderr.splitlines()]
    assert events[0]["event"] == "plan" and events[0]["dry_run"] is True
    assert events[-1] == {**events[-1], "event": "finished", "counts": {"would add": 3}}


# -- secrets ----------------------------------------------------------------------------------


def test_no_secret_in_stdout_stderr_json_or_journal(io_dir: Path) -> None:
    runs = [
        rewrap(io_dir, "--format", "json", "--progress", "-e", ALTER),
        rewrap(io_dir, "--progress", "-e", ALTER),  # second time: already present
        rewrap(io_dir, "--format", "csv", "-e", ALTER.replace("demo-key?", "nope?").replace("/new?", "/other?")),  # fails
        rewrap(io_dir, "-e", f"SHOW BACKUPS IN '{COLL}?AWS_SECRET_ACCESS_KEY={SECRETS[2]}'"),  # fails
        rewrap(io_dir, "-e", f"SHOW BACKUP KEYS FROM LATEST IN '{COLL}' WITH KMS = 'testkms:///new?AWS_SECRET_ACCESS_KEY={SECRETS[0]}'"),
    ]
    assert [p.returncode for p in runs] == [0, 0, 1, 1, 0], [p.stderr for p in runs]
    assert "redacted" in runs[0].stderr  # the plan names the keys, redacted
    assert "already present" in runs[1].stdout
    written = "".join(p.stdout + p.stderr for p in runs)
    written += "".join(f.read_text(errors="replace") for f in (io_dir.parent / "data").rglob("*") if f.is_file())
    for secret in SECRETS:
        assert secret not in written


def test_batch_command_never_imports_textual_or_prompt_toolkit(io_dir: Path) -> None:
    code = (
        "import sys; from tui.cli import main\n"
        f"rc = main(['--format', 'csv', '-e', \"SHOW BACKUP LATEST IN '{COLL}' WITH KMS = '{KMS}'\"])\n"
        "assert rc == 0, rc\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'textual', 'prompt_toolkit', 'pygments'}),"
        " file=sys.stderr)\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_for(io_dir), timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stderr.strip() == "[]"
