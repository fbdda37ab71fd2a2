"""`rewrap shell` driven through a real terminal (tmux): typing, multi-line input, the toolbar,
completion with live subdirectories, history across restarts (redacted, 0600), Ctrl+R and
suggestions, and Ctrl+C during a slow ALTER BACKUP that leaves the session and the backups
intact."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.demo import write_demo
from tmux_term import Terminal

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")

REWRAP = str(Path(sys.executable).parent / "rewrap")
SLOW_SHELL = str(Path(__file__).with_name("slow_shell.py"))
COLL = "nodelocal://self/coll"
SECRET = "hunter2-shell-secret"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("demo")
    write_demo(d / "coll", seed=7)
    return d


@pytest.fixture
def io_dir(demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo collection (ALTER writes into it)."""
    d = tmp_path / "extern"
    shutil.copytree(demo_dir, d)
    return d


@pytest.fixture
def open_shell(io_dir: Path, tmp_path: Path) -> Iterator:
    terms: list[Terminal] = []

    def start(*extra: str, argv: list[str] | None = None) -> Terminal:
        env = {
            "REWRAP_DATA_DIR": str(tmp_path / "data"),
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
        }
        cmd = argv or [REWRAP, "shell"]
        term = Terminal([*cmd, "--external-io-dir", str(io_dir), *extra], env)
        terms.append(term)
        term.wait_for(r"rewrap>")
        return term

    yield start
    for t in terms:
        t.close()


def backups(io_dir: Path) -> list[Path]:
    return sorted(p.parent for p in (io_dir / "coll").glob("*/*/*/ENCRYPTION-INFO"))


def test_multiline_input_runs_at_semicolon_with_toolbar_and_help(open_shell) -> None:
    t = open_shell()
    t.wait_for(r"\\\? help")  # the toolbar's hint for an empty input
    t.type(f"SHOW BACKUPS IN '{COLL}'")
    t.wait_for(r"ok: end with ; to run")
    t.keys("Enter")
    t.wait_for(r"\n\s*->")  # continuation line: nothing ran yet
    assert "(3 rows)" not in t.screen(200)
    t.type(";")
    t.keys("Enter")
    t.wait_for(r"path\n-+\n  /2026/11/24-\d{6}\.\d\d\n(?:.*\n){2}\(3 rows\)")
    t.type(f"ALTER BACKUP LATEST IN '{COLL}' ADD NEW_KMS = 'nope:///x' WITH OLD_KMS = 'testkms:///k'")
    t.wait_for(r"1:\d+ error: no factory method found for scheme nope")  # live diagnostics
    t.keys("C-c")  # clears the input, the session stays
    t.type("\\?")
    t.keys("Enter")
    t.wait_for(r"Ctrl\+R searches history")
    t.type(f"SHOW BACKUP LATEST IN '{COLL}' WITH KMS = 'testkms:///wrong-key';")
    t.keys("Enter")
    t.wait_for(r"ERROR: [^\n]*\n?[^\n]*wrong-key")
    t.type("\\q")
    t.keys("Enter")
    assert t.exit_status() == 0


def test_completion_of_keywords_and_live_subdirectories(open_shell, io_dir: Path) -> None:
    t = open_shell()
    t.type("sh")
    t.wait_for(r"SHOW\s+SHOW BACKUPS / SHOW BACKUP")  # completion while typing, with its detail
    t.keys("Tab")
    t.wait_for(r"(?m)^rewrap> SHOW\s*$")
    t.keys("C-c")
    t.wait_for(r"(?m)^rewrap>\s*$")  # a fresh prompt
    tail = f" IN '{COLL}' WITH KMS = 'testkms:///demo-key';"
    t.type(f"SHOW BACKUP FROM {tail}")
    t.wait_for(r"RESTORE\s+RESTORE \(needs")  # after `;`: the next statement's keywords
    t.keys(*["Left"] * len(tail))  # cursor in the subdirectory slot; moving closes the menu
    t.wait_gone(r"RESTORE\s+RESTORE \(needs")
    t.keys("Tab")
    subdirs = [f"/{p.relative_to(io_dir / 'coll').as_posix()}" for p in backups(io_dir)]
    t.wait_for(re.escape(subdirs[-1]))  # listed in the background, menu reopened
    screen = t.screen()
    assert "LATEST" in screen and all(s in screen for s in subdirs)
    t.keys("Tab", "Tab")  # select LATEST, then the first subdirectory: the newest
    t.wait_for(re.escape(f"SHOW BACKUP FROM '{max(subdirs)}' IN"))
    t.keys("End", "Enter")
    m = t.wait_for(r"\((\d+) rows\)")
    assert int(m.group(1)) > 0 and "movr" in t.screen(200)


def test_history_is_redacted_private_and_searchable_across_restarts(open_shell, tmp_path: Path) -> None:
    stmt = (
        f"SHOW BACKUP KEYS FROM LATEST IN '{COLL}' "
        f"WITH KMS = 'testkms:///demo-key?AWS_SECRET_ACCESS_KEY={SECRET}';"
    )
    first = open_shell()
    first.type(stmt)
    first.wait_for_input(r"AWS_SECRET_ACCESS_KEY=•+'")  # typed secrets are drawn as bullets
    assert SECRET not in first.screen()
    first.keys("Enter")
    first.wait_for(r"\(1 row\)")
    first.type("\\q")
    first.keys("Enter")
    assert first.exit_status() == 0
    path = tmp_path / "data" / "history"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert SECRET not in text and "AWS_SECRET_ACCESS_KEY=redacted" in text
    assert [json.loads(line) for line in text.splitlines()][-1] == "\\q"

    second = open_shell()
    second.keys("Up", "Up")  # \q, then the statement
    second.wait_for_input(r"^rewrap> SHOW BACKUP KEYS FROM LATEST")
    # Back to the new, empty line with Down (no Ctrl+C: that restarts the prompt, and keys tmux
    # sends in the moment between two prompts are echoed by the terminal, a race of the test).
    second.keys("Down", "Down")
    second.wait_for_input(r"^rewrap>$")
    second.keys("C-r")
    second.type("KEYS FROM")
    second.wait_for(r"i-search\)`KEYS FROM'|reverse-i-search")
    second.wait_for(r"SHOW BACKUP KEYS FROM LATEST")  # the search found the statement
    second.keys("C-g")  # leave the search: the line is empty again
    second.wait_for_input(r"^rewrap>$")
    second.type("SHOW BACKUP K")
    second.wait_for_input(r"^rewrap> SHOW BACKUP KEYS FROM LATEST IN .*redacted';$")  # suggestion
    second.keys("Right", "Enter")  # take the suggestion and run it (its secret is 'redacted')
    second.wait_for(r"\(1 row\)")
    assert SECRET not in second.screen(400)
    assert SECRET not in path.read_text()


def test_ctrl_c_cancels_a_slow_alter_and_the_session_goes_on(open_shell, io_dir: Path) -> None:
    t = open_shell("--concurrency", "1", argv=[sys.executable, SLOW_SHELL])
    t.type(
        f"ALTER BACKUP ALL IN '{COLL}' ADD NEW_KMS = 'testkms:///new-key' "
        "WITH OLD_KMS = 'slowkms:///demo-key';"
    )
    t.keys("Enter")
    t.wait_for(r"ALTER BACKUP \[[#.]+\] \d/3")  # the progress bar
    t.keys("C-c")
    t.wait_for(r"ALTER BACKUP cancelled")
    t.wait_for(r"(?m)^rewrap>\s*$")
    screen = t.screen(200)
    rows = re.findall(r"^\s+(/2026/\S+)\s+\|\s+(added|cancelled)\b", screen, re.M)
    assert len(rows) == 3 and rows[-1][1] == "cancelled", screen
    # Nothing half-written: a cancelled backup has only its original ENCRYPTION-INFO.
    for subdir, status in rows:
        files = sorted(p.name for p in (io_dir / "coll" / subdir.strip("/")).glob("ENCRYPTION-INFO*"))
        assert files == (["ENCRYPTION-INFO", "ENCRYPTION-INFO-2"] if status == "added" else ["ENCRYPTION-INFO"])
    t.type(f"SHOW BACKUPS IN '{COLL}';")
    t.keys("Enter")
    t.wait_for(r"\(3 rows\)")
    t.type("\\q")
    t.keys("Enter")
    assert t.exit_status() == 0


def test_passphrase_doubled_quotes_suggestion_and_menu_never_show_a_secret(open_shell, tmp_path: Path) -> None:
    """Issue 15 #2 in a real terminal: a KMS secret with a doubled quote and an
    ENCRYPTION_PASSPHRASE are bullets as typed, the error echo and history file hide them, and
    the earlier URI comes back in the history suggestion and the completion menu redacted."""
    secrets = ("ZQX", "UOTE17", "Pzq", "phrase9")
    stmt = (
        f"SHOW BACKUP LATEST IN '{COLL}' WITH KMS = 'testkms:///demo-key?AWS_SECRET_ACCESS_KEY=ZQX''UOTE17', "
        "encryption_passphrase = 'Pzq''phrase9';"
    )
    t = open_shell()
    t.type(stmt)
    t.wait_for(r"encryption_passphrase = '•{12}'")  # Pzq''phrase9, one bullet a character
    t.keys("Enter")
    t.wait_for(r"ERROR: ")
    t.type(f"SHOW BACKUP LATEST IN '{COLL}' WITH KMS = 'te")
    t.wait_for(r"•")  # the history suggestion, drawn after the cursor with its secrets as bullets
    t.keys("C-c")
    t.type(f"SHOW BACKUP LATEST IN '{COLL}' WITH KMS = ")
    t.keys("Tab")
    t.wait_for(r"AWS_SECRET_ACCESS_KEY=redacted")  # the menu offers the earlier URI, redacted
    screen = t.screen(400)
    assert not any(s in screen for s in secrets), screen
    history = (tmp_path / "data" / "history").read_text()
    assert not any(s in history for s in secrets) and "encryption_passphrase = '*****'" in history
