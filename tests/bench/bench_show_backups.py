"""SHOW BACKUPS over local collections of 10,000 and 100,000 full backups, against a bare scandir.

Each full backup has a manifest and a data/ directory with files in it; rewrap must list with the
`data/` delimiter and never walk data/. The peer is the least a program can do to answer the same
question: a bare `os.scandir` over root/YYYY/MM/ (3 directory levels) and then each backup
directory, keeping those that hold BACKUP_MANIFEST, sorted. Printed per size, median of
--repeats interleaved runs, each a fresh process (warm page cache): SHOW BACKUPS (`Collection.full_backups`) wall time,
the peer's, their ratio (the goal is <= 1.5), list calls, directories scanned; with --baseline
another checkout's interpreter (e.g. /work/main/.venv/bin/python) is timed on the same tree too.

    .venv/bin/python tests/bench/bench_show_backups.py [--backups 10000 100000] [--data-files M]
        [--repeats R] [--baseline PYTHON] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.collection import Collection  # noqa: E402
from engine.formats.latest_name import backup_subdir_for  # noqa: E402
from engine.storage import open_storage  # noqa: E402

TIMED = """
import sys, time
sys.path.insert(0, sys.argv[2])
from engine.collection import Collection
from engine.storage import open_storage
coll = Collection(open_storage("file://" + sys.argv[1]))
t0 = time.perf_counter()
n = len(coll.full_backups())
print(time.perf_counter() - t0, n, coll.list_calls)
"""
BARE = """
import sys, time
sys.path.insert(0, sys.argv[2])
from tests.bench.bench_show_backups import bare_scandir
t0 = time.perf_counter()
n = len(bare_scandir(sys.argv[1]))
print(time.perf_counter() - t0, n, 0)
"""
REPO = str(Path(__file__).resolve().parents[2])


def timed(python: str, script: str, root: Path, repo: str, backups: int) -> tuple[float, int]:
    """Seconds and list calls of one fresh process (each starts with the same small heap)."""
    out = subprocess.run([python, "-c", script, str(root), repo], capture_output=True, text=True, check=True)
    seconds, count, calls = out.stdout.split()
    assert int(count) == backups, (python, count)
    return float(seconds), int(calls)


def build(root: Path, backups: int, data_files: int) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(backups):
        d = root / backup_subdir_for(start + timedelta(hours=i)).strip("/")
        os.makedirs(d / "data")
        with open(d / "BACKUP_MANIFEST", "wb") as f:
            f.write(b"m")
        for j in range(data_files):
            os.close(os.open(d / "data" / f"{j}.sst", os.O_CREAT | os.O_WRONLY, 0o644))


def bare_scandir(root: str) -> list[str]:
    """Full backups as root/YYYY/MM/<dir> holding BACKUP_MANIFEST, with nothing else done."""
    out = []
    for year in os.scandir(root):
        if not year.is_dir(follow_symlinks=False):
            continue
        for month in os.scandir(year.path):
            if not month.is_dir(follow_symlinks=False):
                continue
            for backup in os.scandir(month.path):
                if not backup.is_dir(follow_symlinks=False):
                    continue
                if any(e.name == "BACKUP_MANIFEST" for e in os.scandir(backup.path)):
                    out.append(f"/{year.name}/{month.name}/{backup.name}")
    out.sort(key=str.encode)
    return out


def one_size(work: Path, backups: int, data_files: int, repeats: int, baseline: str | None) -> tuple:
    root = work / f"coll-{backups}"
    t0 = time.perf_counter()
    build(root, backups, data_files)
    build_s = time.perf_counter() - t0
    # Same answer, and how many directories rewrap opens (data/ never).
    scanned = 0
    real_scandir = os.scandir

    def counting_scandir(path):  # type: ignore[no-untyped-def]
        nonlocal scanned
        scanned += 1
        return real_scandir(path)

    os.scandir = counting_scandir  # type: ignore[assignment]
    try:
        paths = Collection(open_storage(f"file://{root}")).full_backups()
    finally:
        os.scandir = real_scandir  # type: ignore[assignment]
    assert paths == bare_scandir(str(root)), "SHOW BACKUPS and the bare scandir disagree"
    ours, bare, base = [], [], []
    calls = 0
    for _ in range(repeats):  # interleaved, each in a fresh process
        bare.append(timed(sys.executable, BARE, root, REPO, backups)[0])
        seconds, calls = timed(sys.executable, TIMED, root, REPO, backups)
        ours.append(seconds)
        if baseline:
            base.append(timed(baseline, TIMED, root, str(Path(baseline).resolve().parents[2]), backups)[0])
    return backups, build_s, statistics.median(ours), statistics.median(bare), calls, scanned, (
        statistics.median(base) if base else None
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backups", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--data-files", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--baseline", default=None, help="python of another checkout, timed on the same tree")
    ap.add_argument("--dir", default="/dev/shm" if os.access("/dev/shm", os.W_OK) else None,
                    help="where to build (default /dev/shm: 100,000 backups are 500,000 files)")
    args = ap.parse_args()
    rows = []
    for n in args.backups:
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            rows.append(one_size(Path(tmp), n, args.data_files, args.repeats, args.baseline))
    print(f"\nSHOW BACKUPS, local collection, {args.data_files} data files per backup, median of {args.repeats}")
    print(f"{'backups':>8} {'built s':>8} {'SHOW ms':>8} {'µs/backup':>10} {'scandir ms':>11} {'ratio':>6} "
          f"{'list calls':>11} {'dirs scanned':>13}" + (f" {'baseline ms':>12} {'base ratio':>11}" if args.baseline else ""))
    for n, build_s, ours, bare, calls, scanned, base in rows:
        line = (f"{n:>8} {build_s:>8.1f} {ours * 1000:>8.0f} {ours / n * 1e6:>10.1f} {bare * 1000:>11.0f} "
                f"{ours / bare:>6.2f} {calls:>11} {scanned:>13}")
        if base is not None:
            line += f" {base * 1000:>12.0f} {base / bare:>11.2f}"
        print(line)
    if args.baseline:
        print(f"baseline: {args.baseline}")


if __name__ == "__main__":
    main()
