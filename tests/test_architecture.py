"""The layering README.md describes (docs/architecture.md): engine/ is headless, syntax/ is pure, formats/storage/kms are
independent. Checked twice: import-linter's static contracts, and a run-time import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is part of the test extra"
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_engine_and_batch_mode_never_import_ui_toolkits() -> None:
    code = (
        "import sys, engine.execute, engine.collection, engine.encryption, engine.demo, tui.cli\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'prompt_toolkit')]\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
