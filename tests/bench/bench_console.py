"""Console start-up as a person sees it: the time from starting the program in tmux (160x48)
until its full UI is on screen, polled every 10 ms with `capture-pane`, interleaved in one run.

- full UI of rewrap: until the collection tree shows `LATEST` (the demo collection listed);
- first frame of rewrap: until the SQL editor's border title (`─ SQL ─`) is drawn;
- harlequin (a peer Textual SQL IDE, from its own venv, never the project's dependencies):
  full UI until its Data Catalog lists the database of a small SQLite file (`main db`);
  first frame until its first drawn chrome, the Data Catalog panel's border title
  (`Data Catalog`): before it the screen is blank, and it is painted in harlequin's first
  frame (its Query Editor's border comes in a later one).

    .venv/bin/python tests/bench/bench_console.py [--runs N] [--harlequin PATH]
        [--rewrap PATH ...]   (several: each is measured, e.g. main's and this branch's)
        [--no-bytecode-cache]

Bytecode: every program runs with PYTHONPYCACHEPREFIX set to one temporary directory and
PYTHONDONTWRITEBYTECODE unset, so the (uncounted) warm-up run compiles each program's modules
once and the counted runs load them as an installed package does (pip writes .pyc at install;
an editable install's sources are compiled on first import unless the environment forbids it).
`--no-bytecode-cache` keeps the caller's environment instead (with PYTHONDONTWRITEBYTECODE=1 an
editable install recompiles its own modules on every start, ~0.1 s for rewrap here).

Prints medians and mins and the ratios rewrap / harlequin (the goals: first frame <= 0.5 s and
<= harlequin's first frame; full UI <= 0.5 s and <= 0.5x harlequin's, same run). Nothing is
asserted.
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
HARLEQUIN_FIRST = "Data Catalog"  # its first drawn chrome: the catalog panel's border title
REWRAP_FIRST = "─ SQL ─"  # the editor's border title (a bare "SQL" could be any text)
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
    ap.add_argument("--no-bytecode-cache", action="store_true",
                    help="run with the caller's PYTHONDONTWRITEBYTECODE / PYTHONPYCACHEPREFIX")
    args = ap.parse_args()
    rewraps = args.rewrap or [str(DEFAULT_REWRAP)]
    tmp = Path(tempfile.mkdtemp())
    db = tmp / "bench.sqlite"
    with sqlite3.connect(db) as c:
        c.execute(f"CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, note TEXT)")
    env = {**os.environ, "TERM": "xterm-256color", "REWRAP_DATA_DIR": str(tmp / "data"),
           "REWRAP_EXTERNAL_IO_DIR": str(tmp / "extern"), "HOME": str(tmp / "home")}
    (tmp / "home").mkdir()
    if not args.no_bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    cmds = {r: f"{r}" for r in rewraps}
    harl = f"{args.harlequin} -a sqlite {db}"
    # Warm-up (writes the demo collection once, fills the page cache), not counted.
    for r in rewraps:
        time_until(cmds[r], ["LATEST"], env)
    time_until(harl, [HARLEQUIN_READY], env)
    full: dict[str, list[float]] = {r: [] for r in rewraps}
    paint: dict[str, list[float]] = {r: [] for r in rewraps}
    peer_full: list[float] = []
    peer_paint: list[float] = []
    for _ in range(args.runs):
        for r in rewraps:
            p, f = time_until(cmds[r], [REWRAP_FIRST, "LATEST"], env)
            paint[r].append(p)
            full[r].append(f)
        p, f = time_until(harl, [HARLEQUIN_FIRST, HARLEQUIN_READY], env)
        peer_paint.append(p)
        peer_full.append(f)
    hf, hp = statistics.median(peer_full), statistics.median(peer_paint)
    cache = "caller's environment" if args.no_bytecode_cache else "bytecode cached by the warm-up"
    print(f"tmux {COLS}x{ROWS}, polled every {POLL_S * 1000:.0f} ms, {args.runs} interleaved runs, "
          f"{cache}; medians (min); ratios of medians to harlequin's")
    print(f"{'program':<50} {'first frame':>14} {'vs harl.':>8} {'full UI':>14} {'vs harl.':>8}")
    print(f"{'harlequin -a sqlite (Data Catalog / main db)':<50} {hp:6.3f} ({min(peer_paint):.3f}) "
          f"{1.0:7.2f}x {hf:6.3f} ({min(peer_full):.3f}) {1.0:7.2f}x")
    for r in rewraps:
        f = statistics.median(full[r])
        p = statistics.median(paint[r])
        print(f"{('rewrap ' + r)[-50:]:<50} {p:6.3f} ({min(paint[r]):.3f}) {p / hp:7.2f}x "
              f"{f:6.3f} ({min(full[r]):.3f}) {f / hf:7.2f}x")


if __name__ == "__main__":
    main()
