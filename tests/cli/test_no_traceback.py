"""No traceback from the command line, whatever the output or the input (issue 15, item 8, CLI).

Before: output to /dev/full ended in "Exception ignored ... OSError: [Errno 28]" (exit 120), a
closed stdout in an AttributeError traceback, and `-f /dev/zero` / `</dev/zero` read until
memory ran out. Now each is one clear line on stderr and exit 1 (results could not be written)
or 2 (the input is not a SQL script).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli.cli_support import COLL, REWRAP, demo_io_dir, env_for, run

SHOW = f"SHOW BACKUPS IN '{COLL}'"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return env_for(tmp_path, demo_io_dir(tmp_path))


def shell(cmd: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", cmd], capture_output=True, env={**env, "REWRAP": REWRAP},
                          timeout=120, stdin=subprocess.DEVNULL)


def test_output_to_dev_full_is_a_clear_error(env: dict[str, str]) -> None:
    with open("/dev/full", "wb") as full:
        p = subprocess.run([REWRAP, "-e", SHOW], stdout=full, stderr=subprocess.PIPE, env=env,
                           stdin=subprocess.DEVNULL, timeout=120)
    err = p.stderr.decode()
    assert p.returncode == 1, err
    assert err == "rewrap: cannot write results to standard output: No space left on device\n"


def test_closed_stdout_is_a_clear_error_and_runs_nothing(env: dict[str, str], tmp_path: Path) -> None:
    p = shell(f'exec "$REWRAP" -e "{SHOW}" >&-', env)
    err = p.stderr.decode()
    assert p.returncode == 1, err
    assert err == "rewrap: standard output is closed: there is nowhere to write results\n"


def test_closed_stderr_still_writes_results(env: dict[str, str]) -> None:
    p = shell(f'exec "$REWRAP" --format tsv -e "{SHOW}" 2>&-', env)
    assert p.returncode == 0
    assert p.stdout.decode().startswith("path\n")


def test_closed_stdin_runs_nothing(env: dict[str, str]) -> None:
    p = shell('exec "$REWRAP" <&-', env)
    assert (p.returncode, p.stdout, p.stderr) == (0, b"", b"")


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_endless_input_is_refused_with_a_bound(env: dict[str, str], how: str) -> None:
    if how == "file":
        p = run(["-f", "/dev/zero"], env, stdin=None)
        what = "/dev/zero"
    else:
        with open("/dev/zero", "rb") as zero:
            p = subprocess.run([REWRAP], stdin=zero, capture_output=True, env=env, timeout=120)
        what = "standard input"
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert err == f"rewrap: {what} is larger than 16 MiB: not a SQL script\n"



@pytest.mark.parametrize("target", ["file", "/proc/x"])
def test_demo_onto_an_existing_file_or_proc_is_a_clear_error(env: dict[str, str], tmp_path: Path, target: str) -> None:
    if target == "file":
        path = tmp_path / "a-file"
        path.write_text("x")
        target = str(path)
    p = run(["demo", target], env)
    err = p.stderr.decode()
    assert p.returncode == 1, err
    assert err.startswith(f"ERROR: {target}: ") and "Traceback" not in err, err
    assert "demo" in err or "No such file" in err, err
