"""Ctrl+Q while an ALTER waits on a KMS that never answers (issue 12, item 3), end to end.

Before: Ctrl+Q left a blank terminal until the KMS deadline (the event loop's executor joined
the statement's thread at exit) and said nothing. Now the first Ctrl+Q says what it waits for
and the second quits at once. The installed `rewrap` runs in tmux with the KMS deadline set
far above what the test waits (a fraction of it): the exit can only come from the quit, not
from the deadline. Then the backup still opens with its old key.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from tests.cli.cli_support import (
    COLL,
    OLD_KMS,
    REWRAP,
    demo_io_dir,
    env_for,
    full_backups,
    run,
)
from tests.kms.hang_servers import HangServer
from tests.shell.tmux_term import EXIT_MARK, Terminal

KMS_DEADLINE = 120.0
BOUND = KMS_DEADLINE / 4  # every wait in this test: far below the deadline


def wait_words(term: Terminal, text: str) -> str:
    """The screen once a notification (Textual's toast: lines after `▌`) says `text`."""
    deadline = time.monotonic() + BOUND
    while True:
        screen = term.screen()
        toast = " ".join(line.rsplit("▌", 1)[1].strip(" │╮╯─") for line in screen.splitlines() if "▌" in line)
        words = " ".join(toast.split())
        if text in words:
            return screen
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not on screen after {BOUND}s:\n{screen}")
        time.sleep(0.05)


def wait_until(cond: Callable[[], bool], term: Terminal) -> None:
    """Wait (at most BOUND, a quarter of the KMS deadline) until `cond()`; fail showing the screen."""
    deadline = time.monotonic() + BOUND
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {BOUND}s:\n{term.screen()}")
        time.sleep(0.05)


def test_ctrl_q_twice_quits_during_a_hung_kms_call(tmp_path: Path) -> None:
    io_dir = demo_io_dir(tmp_path)
    env = {k: v for k, v in env_for(tmp_path, io_dir).items() if not k.startswith("TMUX")}
    env["TERM"] = "xterm-256color"
    with HangServer() as server:  # accepts, never answers
        new = ("aws:///alias/new?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=quitsecret"
               f"&REGION=us-east-1&AWS_ENDPOINT={server.http}")
        term = Terminal([REWRAP, "--kms-timeout", str(KMS_DEADLINE), "--collection", COLL], env,
                        width=160, height=48)
        try:
            term.wait_for("LATEST", timeout=BOUND)  # the collection is listed
            sql = f"ALTER BACKUP LATEST IN '{COLL}' ADD NEW_KMS = '{new}' WITH OLD_KMS = '{OLD_KMS}'"
            term.tmux("set-buffer", "--", sql)  # pasted (bracketed): no quote auto-closing
            term.tmux("paste-buffer", "-p", "-t", "t")
            # F5 is a priority binding: sent before the paste is applied, it runs an empty editor
            term.wait_for(re.escape(f"OLD_KMS = '{OLD_KMS}'"), timeout=BOUND)
            term.keys("Escape")  # a completion menu, if one opened
            term.keys("F5")
            wait_until(lambda: server.connections > 0, term)  # the wrap call is out, never to return
            term.keys("C-q")
            said = wait_words(term, "waiting for 1 KMS call to finish; press Ctrl+Q again to quit now")
            assert "Quit" in said
            assert EXIT_MARK not in term.screen()  # the first press waits: the call is still out
            term.keys("C-q")
            # gone while the call is still out: the wait is a quarter of the KMS deadline
            code = term.wait_for(re.escape(EXIT_MARK) + r"(\d+)\]", timeout=BOUND)
        finally:
            term.close()
    assert code.group(1) == "0"
    assert "quitsecret" not in code.string
    for backup in full_backups(io_dir):  # the key files are whole: each opens with the old key
        subdir = "/" + str(backup.relative_to(io_dir / "coll"))
        p = run(["-e", f"SHOW BACKUP '{subdir}' IN '{COLL}' WITH KMS = '{OLD_KMS}'"], env)
        assert p.returncode == 0, p.stderr.decode()
