"""Types as a check: `mypy engine syntax tui` under pyproject's [tool.mypy] reports nothing.

mypy runs in a subprocess with its cache under the test's tmp directory, so a run never reads
a stale or concurrently written cache (a cold run takes some seconds; the suite's budget allows
it, and it is one test, so xdist runs it once). The second test proves the configuration still
puts a module of engine/ under strict rules, so the first cannot pass by loosening them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ["engine", "syntax", "tui"]
TIMEOUT = 240  # seconds: far above a cold run on a loaded machine, below any suite deadline


def _mypy(args: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
         "--cache-dir", str(cache), "--no-color-output", *args],
        cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
    )


def test_mypy_finds_no_errors(tmp_path: Path) -> None:
    proc = _mypy(TARGETS, ROOT, tmp_path / "mypy_cache")
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert proc.returncode == 0 and not errors, (
        f"mypy {' '.join(TARGETS)}: {len(errors)} error(s)\n" + (proc.stdout + proc.stderr).strip()
    )


def test_engine_modules_are_checked_strictly(tmp_path: Path) -> None:
    """An untyped function in a module named engine.* fails under the same configuration."""
    pkg = tmp_path / "engine"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "loose.py").write_text("def f(x):\n    return x\n")
    proc = _mypy(["engine"], tmp_path, tmp_path / "mypy_cache")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "[no-untyped-def]" in proc.stdout, proc.stdout
