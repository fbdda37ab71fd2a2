"""End to end, as a new user would: the installed `rewrap --external-io-dir DIR` in tmux, an
ALTER BACKUP typed character by character, Esc, F5; then the engine checks the new key."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.execute import Executor
from engine.storage import StorageSettings
from syntax import parse

NEW_KMS = "testkms:///tmux-key"
REWRAP = Path(sys.executable).with_name("rewrap")

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None or not REWRAP.exists(), reason="needs tmux and the installed rewrap"
)


def tmux(*args: str, socket: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], check=True, capture_output=True,
                          text=True).stdout


def wait_screen(socket: str, needle: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", "rw", socket=socket)
        if needle in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{needle!r} never appeared; screen was:\n{screen}")


def test_type_alter_backup_in_tmux(tmp_path: Path) -> None:
    extern = tmp_path / "extern"
    socket = f"rewrap-test-{os.getpid()}"
    env = {**os.environ, "REWRAP_DATA_DIR": str(tmp_path / "data"), "TERM": "xterm-256color"}
    env.pop("REWRAP_EXTERNAL_IO_DIR", None)
    for name in ("COLUMNS", "LINES"):  # pytest-xdist sets 80x24; Textual would obey it, not tmux
        env.pop(name, None)
    cmd = f"{REWRAP} --external-io-dir {extern}"
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "rw", "-x", "160", "-y", "45",  # noqa: E501
                    cmd], check=True, env=env)
    try:
        wait_screen(socket, "LATEST")  # the demo collection is listed
        sql = (f"ALTER BACKUP LATEST IN 'nodelocal://self/demo' ADD NEW_KMS = '{NEW_KMS}' "
               "WITH OLD_KMS = 'testkms:///demo-key';")
        for ch in sql:
            tmux("send-keys", "-t", "rw", "-l", ch, socket=socket)
        tmux("send-keys", "-t", "rw", "Escape", socket=socket)
        time.sleep(0.3)
        tmux("send-keys", "-t", "rw", "F5", socket=socket)
        screen = wait_screen(socket, "  added")  # the backup's row in the progress pane
        assert "failed" not in screen
        tmux("send-keys", "-t", "rw", "C-q", socket=socket)
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
    # The engine, in this process, opens the backup with the new key alone.
    settings = StorageSettings(external_io_dir=extern)
    check = parse(f"SHOW BACKUP LATEST IN 'nodelocal://self/demo' WITH KMS = '{NEW_KMS}'")[0]
    assert Executor(storage_settings=settings).run(check).rows
