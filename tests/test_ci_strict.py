"""With CI=true a skip fails the run; without it skips pass and are listed (tests/servers/ci_strict.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = '''
import pytest

@pytest.fixture
def stand_in():
    pytest.skip("moto_server not found")

def test_needs_a_stand_in(stand_in):
    pass

@pytest.mark.skipif(True, reason="needs tmux")
def test_needs_tmux():
    pass

def test_body_skip():
    pytest.skip("no azurite")

@pytest.mark.xfail(strict=True, reason="a known defect")
def test_known_defect():
    assert False

def test_fine():
    pass
'''


def run(tmp_path: Path, ci: str | None, *files: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.servers.ci_strict", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-rs", *files],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )


def test_skips_fail_under_ci_and_are_listed_otherwise(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    local = run(tmp_path, None, "test_sample.py")
    assert local.returncode == 0, local.stdout + local.stderr
    assert "3 skipped" in local.stdout and "1 xfailed" in local.stdout
    for reason in ("moto_server not found", "needs tmux", "no azurite"):
        assert "SKIPPED" in local.stdout and reason in local.stdout  # -rs lists each skip
    for ci in ("true",):
        strict = run(tmp_path, ci, "test_sample.py")
        assert strict.returncode == 1, strict.stdout + strict.stderr
        # a skip in a fixture fails the setup (an error), in a marker or body the test
        summary = strict.stdout.strip().splitlines()[-1]
        assert "1 failed" in summary and "2 errors" in summary, summary
        assert "1 passed" in summary and "1 xfailed" in summary and "skipped" not in summary, summary
        assert strict.stdout.count("CI=true: skipping is a failure") >= 3
        for reason in ("moto_server not found", "needs tmux", "no azurite"):
            assert reason in strict.stdout


def test_which_values_mean_ci(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.servers.ci_strict import ci_strict

    for value, strict in (("true", True), ("1", True), ("TRUE", True), ("false", False), ("", False)):
        monkeypatch.setenv("CI", value)
        assert ci_strict() is strict
    monkeypatch.delenv("CI")
    assert not ci_strict()


def test_a_module_level_skip_fails_under_ci(tmp_path: Path) -> None:
    (tmp_path / "test_mod.py").write_text(
        'import pytest\npytest.skip("fake-gcs-server binary not found", allow_module_level=True)\n'
        "def test_x():\n    pass\n"
    )
    strict = run(tmp_path, "true", "test_mod.py")
    assert strict.returncode == 2 and "fake-gcs-server binary not found" in strict.stdout, strict.stdout
