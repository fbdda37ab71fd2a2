"""The console's first frame and full UI (the demo collection listed) load nothing they do not
need (issue 14: the console in 0.5 s; tests/bench/bench_console.py measures the time, this
guards what is imported, with no timing).

A fresh interpreter (sys.modules is per process): `tui.app.listing` (what tui/cli.py starts
before Textual) imports no Textual; `tui.app.main` and the app run headless until the tree shows
LATEST load none of HEAVY (but WARM, which the listing thread loads for the editor's first
keystroke once the listing is done); F1 then loads the help screen (a lazy import is seen).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Not needed before the user asks for something: dialogs and help (markdown_it), the statement
# engine (ALTER's writer, journal, executor), key files and crypto, cloud SDKs and protobuf, the
# demo writer, the parser, completion and diagnostics (an empty editor has nothing to check).
HEAVY = [
    "markdown_it", "cryptography", "google.protobuf", "boto3", "botocore", "google.cloud",
    "azure", "pygments",
    "engine.rewrap.run", "engine.rewrap.backup", "engine.rewrap.journal", "engine.execute",
    "engine.statements", "engine.encryption", "engine.demo", "engine.reader", "engine.retirement",
    "engine.kms.aws", "engine.kms.gcp", "engine.kms.azure", "engine.kms.external",
    "syntax.parser", "syntax.completion", "syntax.diagnostics", "syntax.catalog", "syntax.lexer",
    "tui.app.screens.help_screen", "tui.app.screens.rotation_modal", "tui.app.screens.retirement",
    "tui.app.screens.export", "tui.app.screens.secret_prompt", "tui.app.screens.text_modal",
    "tui.app.widgets.editor_screens", "tui.app.widgets.buffer_format",
]

from tui.app.listing import WARM  # noqa: E402

SCRIPT = r"""
import asyncio, json, sys
heavy, warm = json.loads(sys.argv[1]), json.loads(sys.argv[2])
loaded = lambda skip=(): sorted(m for m in heavy if m in sys.modules and m not in skip)
out = {}
import tui.cli
import tui.app.listing
out["textual_before_app"] = sorted(m for m in sys.modules if m.split(".")[0] == "textual")
import tui.app.main
out["at_import"] = loaded()

async def main():
    from tui.app.main import RewrapApp
    app = RewrapApp(cursor_blink=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        tree = app.query_one("#browser")
        out["tree"] = [str(n.label) for c in tree.root.children for n in c.children]
        out["full_ui"] = loaded(skip=warm)
        await pilot.press("f1")
        await pilot.pause()
        out["after_f1"] = loaded()

asyncio.run(main())
print(json.dumps(out))
"""


def test_first_frame_and_listing_import_nothing_heavy(tui_env: Path) -> None:
    run = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(HEAVY), json.dumps(WARM)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["textual_before_app"] == []
    assert out["at_import"] == []
    assert any("LATEST" in label for label in out["tree"]), out["tree"]  # the full UI was reached
    assert out["full_ui"] == []
    assert "tui.app.screens.help_screen" in out["after_f1"]  # a lazy import is seen when it happens
