"""check_table with the native scanner on, before and after blockscan.check_boundaries: the
Python time outside scan_blocks (total minus the time in _Blocks._scan), as ratios from one
run (no absolute time is asserted anywhere).

    .venv/bin/python tests/bench/bench_check_boundaries.py [--before REV] [--repeat 5]

"before" is engine/formats/sst_check.py at git revision REV (default: the commit before
check_boundaries), loaded beside the current one; both use the same built extension. Tables:
a columnar (Pebble v7, crdb1) table as tests/bench/bench_check_columnar.py writes it and a row
(v2) table of 180-byte rows as tests/bench/bench_check_files.py writes it.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "bench"))

import bench_check_columnar  # noqa: E402
import bench_check_files  # noqa: E402

from engine.formats import sst_check  # noqa: E402
from engine.formats.sst_reader import Table  # noqa: E402


def load_before(rev: str) -> ModuleType:
    src = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:engine/formats/sst_check.py"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "sst_check_before.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("sst_check_before", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def timed(mod: ModuleType, data: bytes, repeat: int) -> tuple[float, float, int]:
    """Best (total, outside scan_blocks) seconds of check_table(native=True), and its count."""
    best_total = best_outside = float("inf")
    count = 0
    scan = mod._Blocks._scan
    for _ in range(repeat):
        in_scan = [0.0]

        def wrapped(self, handles, _scan=scan, _acc=in_scan):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return _scan(self, handles)
            finally:
                _acc[0] += time.perf_counter() - t

        mod._Blocks._scan = wrapped
        try:
            table = Table(data, "bench.sst")
            t0 = time.perf_counter()
            count = mod.check_table(table, native=True)
            total = time.perf_counter() - t0
        finally:
            mod._Blocks._scan = scan
        best_total = min(best_total, total)
        best_outside = min(best_outside, total - in_scan[0])
    return best_total, best_outside, count


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="b310b29~1")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    before = load_before(args.before)
    tables = {
        "columnar v7": bench_check_columnar.make_table(16, 1, "pebble,v7"),
        "v2 180-byte rows": bench_check_files.make_table(32 << 20, 180, 1, "v2"),
    }
    print(f"{'table':18} {'MiB':>5} {'blocks':>6} {'before ms':>10} {'after ms':>9} "
          f"{'outside scan before/after ms':>29} {'ratio':>6}")  # fmt: skip
    for name, data in tables.items():
        b_total, b_out, b_count = timed(before, data, args.repeat)
        a_total, a_out, a_count = timed(sst_check, data, args.repeat)
        assert a_count == b_count
        blocks = sum(1 for _ in Table(data, "b").data_handles())
        print(f"{name:18} {len(data) / (1 << 20):5.1f} {blocks:6d} {b_total * 1e3:10.2f} "
              f"{a_total * 1e3:9.2f} {b_out * 1e3:14.2f} / {a_out * 1e3:8.2f}    "
              f"{b_out / a_out:6.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
