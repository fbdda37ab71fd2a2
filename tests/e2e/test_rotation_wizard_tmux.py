"""End to end, as an operator would: the installed `rewrap` in tmux at 100x30, the guided rotation
from "Add key" on the demo collection through the dry run and the run to its last step, "Can the
old key be retired?", and its verdict over the key-coverage matrix. Graded on the screen, in the
audit journal and with the independent reader (tests/rewrap/chain_reader.py, nothing of engine/).

tmux is required: a missing tmux fails this test (CI=true or not), it is never skipped.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "shell"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rewrap"))

import chain_reader as cr  # noqa: E402
from tmux_term import Terminal  # noqa: E402

REWRAP = Path(sys.executable).with_name("rewrap")
SECRET = "wizard-s3cret-VALUE"
NEW = f"testkms:///wizard-key?AWS_SECRET_ACCESS_KEY={SECRET}"  # testkms ignores it; never shown


def start(tmp_path: Path) -> Terminal:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed: the wizard's end-to-end test needs it")
    assert REWRAP.exists(), f"the installed rewrap is missing: {REWRAP}"
    env = {"REWRAP_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path), "TERM": "xterm-256color",
           "PATH": "/usr/bin:/bin"}
    return Terminal([str(REWRAP), "--external-io-dir", str(tmp_path / "extern")], env, width=120, height=30)  # a 36-column sidebar: LATEST fits


def test_wizard_from_add_key_to_the_retirement_verdict(tmp_path: Path) -> None:
    term = start(tmp_path)
    try:
        term.wait_for(r"LATEST", timeout=30)  # the demo collection is listed
        term.keys("F3")  # the browser: focusing it puts the cursor on its first node, the collection
        term.wait_for(r"full backups\s+3")  # the details of the collection node
        term.keys("k")
        term.wait_for(r"Add key to every full backup in nodelocal://self/demo")
        # F6 is a priority binding: the app handles it at once, before characters still queued
        # for the field (under load the dry run saw half a URI). So: type, see it all, then F6.
        term.type("'")
        term.wait_for(r"▊ ' +▎")  # the new-key field holding just the quote
        term.type(f"{NEW}'")
        term.wait_for(r"▊ 'testkms:///wizard-key\?AWS_SECRET_ACCESS_KEY=•{%d}' " % len(SECRET))
        term.keys("F6")
        term.wait_for(r"plan ready: 3 backup\(s\)")
        term.keys("F7")
        term.wait_for(r"Key added\. Can the old key be retired\?", timeout=30)
        term.wait_for(r"'testkms:///demo-key' can be retired: every backup opens with a", timeout=30)
        screen = term.screen()
        assert SECRET not in screen, "a secret was drawn"
        # the matrix: the verdict above it, three full backups, the old key present, the new proven
        rows = [ln for ln in screen.splitlines() if "/2026/" in ln and " safe " in ln]
        assert len(rows) == 3, screen
        assert all("○" in r and "✓" in r and "✗" not in r and "!" not in r for r in rows), screen
        shown = [r.split("/2026/")[1].split()[0] for r in rows]
        assert shown == sorted(shown, reverse=True), "newest first"
        assert screen.index("can be retired") < screen.index(rows[0])
        assert "retire demo-key" in screen and "keep wizard-key" in screen
        term.keys("C-r")  # the report key, below the matrix
        term.wait_for(r"report written:")
        term.keys("Escape")
        term.wait_gone(r"Can the old key be retired")
        term.keys("C-q")
        assert term.exit_status() == 0
    finally:
        term.close()
    data = tmp_path / "data"
    (js,) = (data / "reports").glob("retirement-*.json")
    report = json.loads(js.read_text())
    assert report["retirable"] is True and [b["verdict"] for b in report["backups"]] == ["safe"] * 3
    assert SECRET not in js.read_text() + js.with_suffix(".md").read_text()
    records = [json.loads(ln) for ln in (data / "audit.jsonl").read_text().splitlines()]
    assert sum(r.get("event") == "kms-retirement-check" for r in records) == 3  # one per backup
    coll = tmp_path / "extern" / "demo"
    for full in cr.full_backups(coll):  # independently: CockroachDB's entry for the new key opens it
        assert cr.crdb_open_chain(coll, full, "wizard-key") >= 1
