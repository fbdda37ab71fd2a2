"""Console start-up as a person sees it: the time from starting the program in tmux (160x48)
until its full UI is on screen, polled every 10 ms with `capture-pane`, interleaved in one run.

- rewrap: until the collection tree shows `LATEST` (the demo collection listed);
- harlequin (a peer Textual SQL IDE, from its own venv, never the project's dependencies):
  until its Data Catalog lists the database of a small SQLite file;
- first paint of rewrap: until the SQL editor's border title is drawn.

    .venv/bin/python tests/bench/bench_console.py [--runs N] [--harlequin PATH]
        [--rewrap PATH ...]   (several: each is measured, e.g. main's and this branch's)

Prints medians and mins and the ratio rewrap / harlequin (the goal: full UI <= 0.5 s and
<= 0.5x harlequin's, same run). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REWRAP = Path(sys.executable).with_name("rewrap")
DEFAULT_HARLEQUIN = ROOT / ".bench-venv" / "bin" / "harlequin"
COLS, ROWS = 160, 48
POLL_S = 0.010
TABLE = "rewrap_bench_marker"
HARLEQUIN_READY = "main db"  # its Data Catalog lists the database (collapsed by default)
_RUN = 0


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], check=True, capture_output=True,
                          text=True).stdout


def time_until(cmd: str, needles: list[str], env: dict[str, str], timeout: float = 30.0) -> list[float]:
    """Seconds from `new-session` until each needle is on screen (in order of appearance)."""
    global _RUN
    _RUN += 1
    socket = f"rw-bench-{os.getpid()}-{_RUN}"  # a fresh server each time: no shutdown race
    found: dict[str, float] = {}
    t0 = time.perf_counter()
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "b", "-x", str(COLS), "-y",
                    str(ROWS), cmd], check=True, env=env)
    try:
        while len(found) < len(needles):
            if time.perf_counter() - t0 > timeout:
                screen = tmux(socket, "capture-pane", "-p", "-t", "b")
                raise SystemExit(f"{cmd}: {needles} not all seen in {timeout}s; screen:\n{screen}")
            screen = tmux(socket, "capture-pane", "-p", "-t", "b")
            now = time.perf_counter() - t0
            for n in needles:
                if n not in found and n in screen:
                    found[n] = now
            time.sleep(POLL_S)
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
    return [found[n] for n in needles]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--rewrap", action="append", default=None)
    ap.add_argument("--harlequin", default=str(DEFAULT_HARLEQUIN))
    args = ap.parse_args()
    rewraps = args.rewrap or [str(DEFAULT_REWRAP)]
    tmp = Path(tempfile.mkdtemp())
    db = tmp / "bench.sqlite"
    with sqlite3.connect(db) as c:
        c.execute(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, note TEXT)")
    env = {**os.environ, "TERM": "xterm-256color", "REWRAP_DATA_DIR": str(tmp / "data"),
           "REWRAP_EXTERNAL_IO_DIR": str(tmp / "extern"), "HOME": str(tmp / "home")}
    (tmp / "home").mkdir()
    cmds = {r: f"{r}" for r in rewraps}
    harl = f"{args.harlequin} -a sqlite {db}"
    # Warm-up (writes the demo collection once, fills the page cache), not counted.
    for r in rewraps:
        time_until(cmds[r], ["LATEST"], env)
    time_until(harl, [HARLEQUIN_READY], env)
    full: dict[str, list[float]] = {r: [] for r in rewraps}
    paint: dict[str, list[float]] = {r: [] for r in rewraps}
    peer: list[float] = []
    for _ in range(args.runs):
        for r in rewraps:
            p, f = time_until(cmds[r], ["SQL", "LATEST"], env)
            paint[r].append(p)
            full[r].append(f)
        peer.append(time_until(harl, [HARLEQUIN_READY], env)[0])
    h = statistics.median(peer)
    print(f"tmux {COLS}x{ROWS}, polled every {POLL_S * 1000:.0f} ms, {args.runs} interleaved runs; "
          "medians (min)")
    print(f"{'program':<58} {'first paint':>12} {'full UI':>14} {'vs harlequin':>13}")
    print(f"{'harlequin -a sqlite (catalog lists main db)':<58} {'':>12} "
          f"{h:8.3f} ({min(peer):.3f}) {1.0:12.2f}x")
    for r in rewraps:
        f = statistics.median(full[r])
        p = statistics.median(paint[r])
        print(f"{('rewrap ' + r)[-58:]:<58} {p:6.3f} ({min(paint[r]):.3f}) {f:6.3f} ({min(full[r]):.3f}) "
              f"{f / h:12.2f}x")


if __name__ == "__main__":
    main()
