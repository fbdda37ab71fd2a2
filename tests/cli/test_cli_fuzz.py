"""A fuzzer of command-line edge cases: random argv and stdin never produce a traceback.

Each case runs the installed `rewrap` with arguments drawn from flags, odd values, statements
and damaged fragments, and stdin drawn from SQL, bytes and nothing. The outcome must be one of
the documented exit codes (0, 1, 2, 130) with no "Traceback" on stdout or stderr. Fixed seed
and a small budget in the suite; REWRAP_TEST_CLI_FUZZ_CASES=N runs N cases (tests only read it).
`rewrap shell` is left out: it is the shell's own fuzzer's (tests/shell/) to drive.
"""

from __future__ import annotations

import os
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.cli.cli_support import COLL, OLD_KMS, REWRAP, demo_io_dir, env_for

SEED = 15
CASES = int(os.environ.get("REWRAP_TEST_CLI_FUZZ_CASES", "24"))

FLAGS = [
    "-e", "-f", "--format", "--concurrency", "--kms-timeout", "--storage-timeout", "--dry-run",
    "--progress", "--external-io-dir", "--collection", "--help", "-h", "--", "-", "--bogus",
    "--format=json", "--concurrency=0", "-e=", "--kms-timeout=nan", "--storage-timeout=inf",
]
VALUES = [
    "", " ", "0", "-1", "1", "256", "257", "20000", "99999999999999999999", "nan", "inf", "-inf",
    "1e309", "0.000001", "json", "csv", "tsv", "table", "xml", "/dev/null", "/dev/zero",
    "/dev/full", "/proc/self", "/", ".", "..", "\udcff\udcfe", "é", "x" * 5000, "'", "\"", "\\",
    "$1", "$" + "9" * 4400, "file:///", "nodelocal://self/", COLL, OLD_KMS, "--", "-e",
]
STATEMENTS = [
    f"SHOW BACKUPS IN '{COLL}'",
    f"SHOW BACKUP LATEST IN '{COLL}' WITH KMS = '{OLD_KMS}'",
    f"SHOW BACKUP FROM LATEST IN '{COLL}' WITH KMS = 'testkms:///wrong'",
    f"SHOW BACKUPS IN 'file:///proc/self'",
    "SHOW BACKUPS IN 'nodelocal://self/missing'",
    f"ALTER BACKUP LATEST IN '{COLL}' ADD NEW_KMS = 'testkms:///fz' WITH OLD_KMS = '{OLD_KMS}'",
    f"ALTER BACKUP ALL IN '{COLL}' ADD NEW_KMS = 'aws:///k?REGION=x' WITH OLD_KMS = '{OLD_KMS}'",
    "SHOW BACKUP $1 IN $2", "SHOW", ";", ";;;", "", "-- only a comment", "SELECT 1",
    "SHOW BACKUPS IN 'x\x00y'", "SHOW BACKUPS IN '", "BACKUP INTO 'nodelocal://self/x'",
    "SHOW BACKUP KEYS FROM LATEST IN 'nodelocal://self/coll'",
]


def random_text(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(STATEMENTS)
    if kind == 1:
        return ";".join(rng.choice(STATEMENTS) for _ in range(rng.randrange(1, 4)))
    if kind == 2:
        s = rng.choice(STATEMENTS)
        cut = rng.randrange(len(s) + 1)
        return s[:cut] + rng.choice(["'", "\"", "$", "\x00", "\udcff", "é", ";", "\n", ""]) + s[cut:]
    return "".join(chr(rng.randrange(1, 0x2FF)) for _ in range(rng.randrange(0, 40)))


def random_case(rng: random.Random) -> tuple[list[str], bytes | None]:
    argv: list[str] = []
    if rng.random() < 0.08:
        argv.append("demo")
    for _ in range(rng.randrange(0, 6)):
        r = rng.random()
        if r < 0.45:
            argv.append(rng.choice(FLAGS))
        elif r < 0.75:
            argv.append(rng.choice(VALUES))
        else:
            argv.append(random_text(rng))
    if rng.random() < 0.5:
        argv += ["-e", random_text(rng)]
    stdin_kind = rng.randrange(4)
    stdin: bytes | None
    if stdin_kind == 0:
        stdin = b""
    elif stdin_kind == 1:
        stdin = random_text(rng).encode("utf-8", "surrogateescape")
    elif stdin_kind == 2:
        stdin = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200)))
    else:
        stdin = None  # /dev/null
    argv = [a.replace("\x00", "") for a in argv]  # an argv string cannot hold NUL
    return argv, stdin


def run_case(argv: list[str], stdin: bytes | None, env: dict[str, str], cwd: Path) -> tuple[int, str]:
    encoded = [os.fsencode(a) for a in argv]
    p = subprocess.run(
        [REWRAP.encode(), *encoded], input=stdin if stdin is not None else None,
        stdin=subprocess.DEVNULL if stdin is None else None, capture_output=True, env=env,
        cwd=cwd, timeout=120,
    )
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def test_random_command_lines_never_trace_back(tmp_path: Path) -> None:
    io_dir = demo_io_dir(tmp_path)
    env = env_for(tmp_path, io_dir, REWRAP_KMS_TIMEOUT="3", REWRAP_STORAGE_TIMEOUT="3")
    rng = random.Random(SEED)
    cases = [random_case(rng) for _ in range(CASES)]
    work = tmp_path / "cwd"
    work.mkdir()
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda c: run_case(c[0], c[1], env, work), cases))
    bad = [
        (argv, stdin, code, text[-600:])
        for (argv, stdin), (code, text) in zip(cases, outcomes)
        if code not in (0, 1, 2, 130) or "Traceback" in text
    ]
    assert not bad, bad
