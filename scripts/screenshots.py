"""Regenerate the README's screenshots: drives the TUI headlessly and writes SVGs to screenshots/.

    .venv/bin/python scripts/screenshots.py [OUT_DIR]

Uses a throw-away data dir and a demo collection written with a fixed seed, so the pictures only
change when the UI does. So that a rotation can be caught while it runs, this process registers
its own `testkms` provider that behaves exactly like CockroachDB's test KMS but takes
KMS_DELAY seconds per call (engine.kms.register_kms_scheme; nothing outside this script is
affected). Rerun it whenever the UI changes. Writes:
  editor-completion.svg  the editor with highlighting, a diagnostic and the completion dropdown
  browser-details.svg    the collection tree (LATEST marked) and the details panel
  rotation-plan.svg      "Add key" on the collection: KMS fields, the exact statement, the dry-run plan
  rotation-progress.svg  the progress pane while ALTER BACKUP ALL runs
  retirement-matrix.svg  the rotation's last step, "Can the old key be retired?": verdict, key-coverage matrix
  results.svg            SHOW BACKUP rows in the results table
  console-80x24.svg      at 80x24: a wrong OLD_KMS, its error opened whole (every URI's reason)
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZE = (140, 42)
KMS_DELAY = 0.4  # seconds per KMS call while the screenshots are taken
DEMO = "nodelocal://self/demo"
KMS = "testkms:///demo-key"
NEW = "testkms:///new-key-2027"


async def until(pilot, cond, tries: int = 300) -> None:
    for _ in range(tries):
        if cond():
            break
        await pilot.pause(0.05)
    await pilot.pause(0.3)


async def shoot(out: Path) -> None:
    from tui.app.main import RewrapApp

    app = RewrapApp(cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one("#browser")
        editor = app.query_one("#editor")
        await until(pilot, lambda: browser.root.children and len(browser.root.children[0].children) >= 3)

        editor.load_text(f"SHOW BACKUPS IN '{DEMO}';\nSHOW BACKUP LATEST IN '{DEMO}' WITH KMS = 'aws:///x';\n"
                         "SHOW BACKUP ")
        editor.move_cursor(editor.document.end)
        editor.check_now()
        await pilot.press("ctrl+@")
        await until(pilot, lambda: True)
        app.save_screenshot(str(out / "editor-completion.svg"))
        await pilot.press("escape")

        browser.focus()
        latest = browser.root.children[0].children[0]
        browser.move_cursor(latest)
        latest.expand()
        panel = app.query_one("#details")
        await until(pilot, lambda: bool(panel.fields) and len(latest.children) >= 3)
        app.save_screenshot(str(out / "browser-details.svg"))

        browser.move_cursor(browser.root.children[0])  # the collection: rotate every backup
        await pilot.pause(0.2)
        await pilot.press("k")
        await until(pilot, lambda: type(app.screen).__name__ == "RotationModal")
        modal = app.screen
        await pilot.press(*f"'{NEW}'")
        await pilot.press("f6")
        await until(pilot, lambda: modal.planned is not None)
        app.save_screenshot(str(out / "rotation-plan.svg"))
        await pilot.press("f7")
        progress = app.query_one("#progress")
        await until(pilot, lambda: app.running and progress.display, tries=100)
        await pilot.pause(KMS_DELAY * 1.5)  # mid-run: keys being unwrapped / wrapped
        app.save_screenshot(str(out / "rotation-progress.svg"))
        await until(pilot, lambda: not app.running)
        # the rotation goes on: "Can the old key be retired?" checks every backup, then the matrix
        await until(pilot, lambda: type(app.screen).__name__ == "RetireStep")
        step = app.screen
        await until(pilot, lambda: step.report is not None)
        app.save_screenshot(str(out / "retirement-matrix.svg"))
        await pilot.press("escape")
        await until(pilot, lambda: type(app.screen).__name__ != "RetireStep")

        editor.load_text(f"SHOW BACKUP LATEST IN '{DEMO}' WITH KMS = '{NEW}';")
        editor.move_cursor(editor.document.end)
        editor.focus()
        await pilot.press("f5")
        table = app.query_one("#results-table")
        await until(pilot, lambda: not app.running and table.row_count > 0)
        table.focus()
        await pilot.pause(0.2)
        app.save_screenshot(str(out / "results.svg"))


async def shoot_small(out: Path) -> None:
    """The console at 80x24 (a narrow sidebar): a failed ALTER's error cell opened in full."""
    from tui.app.main import RewrapApp

    app = RewrapApp(cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        browser = app.query_one("#browser")
        editor = app.query_one("#editor")
        await until(pilot, lambda: browser.root.children and len(browser.root.children[0].children) >= 3)
        editor.load_text(f"ALTER BACKUP LATEST IN '{DEMO}' ADD NEW_KMS = '{NEW}' WITH OLD_KMS = "
                         "('testkms:///wrong', 'aws:///x?REGION=us-east-1');")
        editor.move_cursor(editor.document.end)
        await pilot.press("f5")
        table = app.query_one("#results-table")
        await until(pilot, lambda: not app.running and table.row_count > 0)
        table.focus()
        table.move_cursor(row=0, column=3)  # the error column
        await pilot.press("enter")
        await until(pilot, lambda: len(app.screen_stack) > 1)
        app.save_screenshot(str(out / "console-80x24.svg"))


def slow_testkms() -> None:
    """Register a testkms that is byte-identical to CockroachDB's but slow (see docstring)."""
    import time

    from engine.kms import register_kms_scheme, testkms

    class SlowTestKMS(testkms.TestKMS):
        def encrypt(self, plaintext: bytes) -> bytes:
            time.sleep(KMS_DELAY)
            return super().encrypt(plaintext)

        def decrypt(self, ciphertext: bytes) -> bytes:
            time.sleep(KMS_DELAY)
            return super().decrypt(ciphertext)

    class Provider:
        parse = staticmethod(testkms.parse)

        @staticmethod
        def open_kms(parsed, env):  # type: ignore[no-untyped-def]
            return SlowTestKMS(parsed)

    register_kms_scheme("testkms", Provider)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="rewrap-shots-"))
    os.environ["REWRAP_DATA_DIR"] = str(tmp / "data")
    os.environ["REWRAP_EXTERNAL_IO_DIR"] = str(tmp / "extern")
    from engine.demo import write_demo

    write_demo(tmp / "extern" / "demo", seed=2026)
    slow_testkms()
    asyncio.run(shoot(out.resolve()))
    asyncio.run(shoot_small(out.resolve()))
    for svg in sorted(out.glob("*.svg")):
        print(svg.relative_to(ROOT) if svg.is_relative_to(ROOT) else svg)


if __name__ == "__main__":
    main()
