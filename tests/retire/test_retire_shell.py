"""`rewrap shell` runs SHOW KMS RETIREMENT in a real terminal (tmux, tests/shell/tmux_term.py):
the same rows as batch, then the verdict; secrets typed in the URI never show."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shell"))

from tmux_term import Terminal  # noqa: E402

import rewrap_support as rs  # noqa: E402

REWRAP = str(Path(sys.executable).parent / "rewrap")
SECRET = "shell-retire-s3cret"


def test_shell_prints_rows_then_the_verdict(io_dir: Path, tmp_path: Path) -> None:
    env = {"REWRAP_DATA_DIR": str(tmp_path / "data"), "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    term = Terminal([REWRAP, "shell", "--external-io-dir", str(io_dir)], env, width=200)
    try:
        term.wait_for(r"rewrap>")
        new = f"testkms:///new?AWS_SECRET_ACCESS_KEY={SECRET}"
        term.type(f"SHOW KMS RETIREMENT '{rs.DEMO_KMS}' IN '{rs.COLL_URI}' WITH KMS = '{new}';")
        term.keys("Enter")
        term.wait_for(r"cannot be retired: 3 of 3 backups open only with it")
        screen = term.screen(history=200)
        assert screen.count("needs ALTER") >= 3 and "verdict" in screen
        term.type(f"ALTER BACKUP ALL IN '{rs.COLL_URI}' ADD NEW_KMS = '{new}' WITH OLD_KMS = '{rs.DEMO_KMS}';")
        term.keys("Enter")
        term.wait_for(r"added")
        term.type(f"SHOW KMS RETIREMENT '{rs.DEMO_KMS}' IN '{rs.COLL_URI}' WITH KMS = '{new}';")
        term.keys("Enter")
        term.wait_for(r"'testkms:///demo-key' can be retired")
        screen = term.screen(history=400)
        assert screen.count("safe") >= 3
        assert SECRET not in screen
    finally:
        term.close()
