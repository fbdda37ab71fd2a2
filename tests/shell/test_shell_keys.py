"""The shell as a `cockroach sql` or pgcli user expects it (issue 12, item 10): Enter takes a
highlighted completion, KMS URIs of earlier sessions are offered, lines from a statement the user
stopped waiting for print above the prompt, a recalled statement ending in `;` runs, soft-wrapped
lines get no `->`, and results are followed by a `Time:` line."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from engine.rewrap.events import BackupFinished, PlanReady, Status
from test_shell_pty import COLL, SLOW_SHELL, demo_dir, io_dir, open_shell  # noqa: F401 - fixtures
from tui.history import History
from tui.shell.main import continuation, remembered_kms_uris
from tui.shell.progress import ShellProgress

SECRET = "shell-keys-secret-42"


def test_enter_on_a_highlighted_completion_takes_it(open_shell) -> None:
    t = open_shell()
    t.type(f"SHOW BACKUP LATEST IN '{COLL}' WITH KMS = 'testkms:///demo-key', CHEC")
    t.wait_for(r"CHECK_FILES\s+read and check")  # the menu is open
    t.keys("Down")  # highlight the completion
    t.keys("Enter")
    line = t.wait_for_input(r"CHECK_FILES$")
    assert line.endswith("CHECK_FILES")
    assert not re.search(r"(?m)^\s*->", t.screen()), t.screen()  # no new line was started
    t.type(";")
    t.keys("Enter")
    t.wait_for(r"file_bytes")  # and the statement runs as completed


def test_kms_uris_of_earlier_sessions_are_offered_without_secrets(open_shell, tmp_path: Path) -> None:
    history = History(tmp_path / "data" / "history")
    history.append(f"SHOW BACKUP LATEST IN '{COLL}' WITH KMS = 'testkms:///remembered-key';")
    history.append(f"SHOW BACKUP KEYS FROM LATEST IN '{COLL}' WITH KMS = "
                   f"'aws:///k?AUTH=specified&AWS_ACCESS_KEY_ID=AKIA&AWS_SECRET_ACCESS_KEY={SECRET}&REGION=x';")
    t = open_shell()
    t.type(f"ALTER BACKUP LATEST IN '{COLL}' ADD NEW_KMS = ")  # no history entry starts so
    t.wait_for(r"'testkms:///remembered-key'")  # so the completion menu, not a suggestion
    screen = t.screen()
    assert SECRET not in screen and "aws:///k" not in screen, screen


def test_remembered_kms_uris_newest_first_and_never_with_a_secret() -> None:
    entries = [
        "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = 'testkms:///old';",
        "not sql at all",
        "ALTER BACKUP LATEST IN 'nodelocal://self/c' ADD NEW_KMS = 'testkms:///new' "
        "WITH OLD_KMS = 'testkms:///old';",
        "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = "
        "'gs:///p/k?AUTH=specified&CREDENTIALS=redacted';",
    ]
    assert remembered_kms_uris(entries) == ["testkms:///new", "testkms:///old"]


def test_a_recalled_statement_ending_in_semicolon_runs(open_shell) -> None:
    t = open_shell()
    t.type(f"SHOW BACKUPS IN '{COLL}';")
    t.keys("Enter")
    t.wait_for(r"\(3 rows\)")
    t.keys("Up")
    t.wait_for_input(re.escape(f"SHOW BACKUPS IN '{COLL}';") + "$")
    t.wait_for(r"ok: Enter runs")
    t.keys("Enter")
    t.wait_for(r"\(3 rows\)(?:.*\n)+.*\(3 rows\)")


def test_soft_wrapped_lines_have_no_continuation_prefix(open_shell) -> None:
    t = open_shell()
    long = f"SHOW BACKUP LATEST IN '{COLL}' WITH KMS = 'testkms:///{'k' * 200}'"
    t.type(long)
    t.wait_for("k" * 100)
    assert not re.search(r"(?m)^\s*->", t.screen()), t.screen()
    t.keys("Enter")  # a real new line still gets its `->`
    t.wait_for(r"(?m)^\s*->")
    assert continuation(8, 1, 0) == "     -> " and continuation(8, 0, 1) == " " * 8


def test_results_are_followed_by_a_time_line(open_shell) -> None:
    t = open_shell()
    t.type(f"SHOW BACKUPS IN '{COLL}';")
    t.keys("Enter")
    t.wait_for(r"\(3 rows\)\n\nTime: \d+\.\d{3}s\n")


def test_lines_of_an_abandoned_alter_print_above_the_prompt(open_shell) -> None:
    t = open_shell("--concurrency", "1", argv=[sys.executable, SLOW_SHELL])
    t.type(f"ALTER BACKUP ALL IN '{COLL}' ADD NEW_KMS = 'testkms:///new-key' "
           "WITH OLD_KMS = 'slowkms:///demo-key';")
    t.keys("Enter")
    t.wait_for(r"ALTER BACKUP \[[#.]+\] \d/3")
    t.keys("C-c")
    t.wait_for(r"cancelling: backups in progress")
    t.keys("C-c")
    t.wait_for(r"Returned to the prompt")
    t.type("SHOW BACKUPS")
    # The worker ends its step, then says which backups it cancelled: above the prompt, whose
    # input stays whole on its own line.
    t.wait_for(r"/2026/\S+: cancelled\n(?:.*\n)*rewrap> SHOW BACKUPS", timeout=20)
    screen = t.screen(200)
    assert not re.search(r"rewrap> \S*(ALTER BACKUP \[|cancelled)", screen), screen
    assert t.wait_for_input(r"SHOW BACKUPS$").endswith("rewrap> SHOW BACKUPS")


def test_a_detached_bar_hands_its_lines_over_and_draws_nothing() -> None:
    out = io.StringIO()
    bar = ShellProgress(out)
    bar(PlanReady(backups=("/a", "/b"), new_kms=("testkms:///n",), old_kms=("testkms:///o",),
                  dry_run=False, concurrency=1))
    assert "ALTER BACKUP [" in out.getvalue()
    late: list[str] = []
    bar.detach(late.append)
    drawn = out.getvalue()
    bar(BackupFinished("/a", Status.FAILED, elapsed=0.1, error="boom"))
    bar(BackupFinished("/b", Status.CANCELLED, elapsed=0.1))
    assert late == ["/a: failed: boom", "/b: cancelled"]
    assert out.getvalue() == drawn
