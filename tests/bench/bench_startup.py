"""Start-up cost of batch mode: `rewrap -e "SHOW BACKUPS IN ..."` on a local demo collection
against a bare `python -c pass`, both measured in this run, interleaved so machine load hits
both alike. The goal is that batch mode costs under 0.3 s more than a bare Python.

Also runs the same statement with `-X importtime` and lists the heaviest imports, so a change
that makes start-up slow is easy to find.

    .venv/bin/python tests/bench/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.demo import write_demo  # noqa: E402

REWRAP = str(Path(sys.executable).parent / "rewrap")
SQL = "SHOW BACKUPS IN 'nodelocal://self/coll'"
BUDGET_S = 0.3


def wall(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def heaviest_imports(env: dict[str, str], n: int = 8) -> list[tuple[int, str]]:
    """Top-level-ish imports by cumulative microseconds, from -X importtime."""
    p = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tui.cli", "-e", SQL],
        env=env, capture_output=True, text=True, check=True,
    )
    rows = []
    for line in p.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) <= 3:  # depth 0 or 1
            rows.append((int(m.group(1)), m.group(3)))
    return sorted(rows, reverse=True)[:n]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write_demo(Path(tmp) / "coll", seed=1)
        env = {**os.environ, "REWRAP_EXTERNAL_IO_DIR": tmp, "REWRAP_DATA_DIR": str(Path(tmp) / "data")}
        bare_cmd = [sys.executable, "-c", "pass"]
        batch_cmd = [REWRAP, "-e", SQL]
        wall(bare_cmd, env), wall(batch_cmd, env)  # warm the page cache
        bare, batch = [], []
        for _ in range(args.runs):
            bare.append(wall(bare_cmd, env))
            batch.append(wall(batch_cmd, env))
        top = heaviest_imports(env)
    b, r = statistics.median(bare), statistics.median(batch)
    print(f"runs: {args.runs} each, interleaved; medians (min)")
    print(f"{'command':<44} {'median s':>9} {'min s':>7}")
    print(f"{'python -c pass':<44} {b:9.3f} {min(bare):7.3f}")
    print(f"{'rewrap -e SHOW BACKUPS IN (3 backups)':<44} {r:9.3f} {min(batch):7.3f}")
    print(f"ratio batch/bare: {r / b:.1f}x   difference: {r - b:+.3f} s "
          f"(min-to-min {min(batch) - min(bare):+.3f} s; budget {BUDGET_S:.1f} s)")
    print("heaviest imports on the batch path (cumulative ms):")
    for us, name in top:
        print(f"  {us / 1000:8.1f}  {name}")


if __name__ == "__main__":
    main()
