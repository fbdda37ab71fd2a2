"""SHOW KMS RETIREMENT over many backups with a KMS of fixed latency, as a ratio (no absolute
time is asserted): wall time against the lower bound calls x latency / concurrency. Goal <= 1.2.

The backups are one write_demo full backup (encrypted under testkms:///new) hard-linked under N
dated names; the remaining key is the registered `retiresleep` scheme (testkms bytes after a
fixed sleep per call), so each backup costs exactly one KMS decrypt plus the manifest proof.

    .venv/bin/python tests/bench/bench_retirement.py [--backups N] [--sleep-ms S]
        [--concurrency C ...] [--dir DIR]       # default: 1,000 backups, 20 ms, at 1, 8 and 32

Exits 1 when the worst ratio is above 1.2. Wall time includes listing the collection (once).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.cloud.gourl import GoURL  # noqa: E402
from engine.demo import write_demo  # noqa: E402
from engine.formats.latest_name import backup_subdir_for  # noqa: E402
from engine.kms import register_kms_scheme, testkms  # noqa: E402
from engine.kms.base import KMS, KMSEnv, KMSURI  # noqa: E402
from engine.retirement import SAFE, check_retirement  # noqa: E402
from engine.storage import open_storage  # noqa: E402


class SleepingKMS(testkms.TestKMS):
    delay = 0.020
    calls = 0
    _lock = threading.Lock()

    def decrypt(self, ciphertext: bytes) -> bytes:
        with SleepingKMS._lock:
            SleepingKMS.calls += 1
        time.sleep(SleepingKMS.delay)
        return super().decrypt(ciphertext)


class _Provider:
    def parse(self, uri: str, url: GoURL) -> KMSURI:
        return testkms.parse(uri, url)

    def open_kms(self, parsed: KMSURI, env: KMSEnv) -> KMS:
        return SleepingKMS(parsed)


register_kms_scheme("retiresleep", _Provider())


def build(work: Path, n: int) -> Path:
    template = work / "template"
    write_demo(template, kms_uri="testkms:///new", seed=5, full_backups=1, incrementals=0)
    (backup,) = [p for p in (template / "2026" / "11").iterdir()]
    coll = work / "coll"
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(n):
        target = coll / backup_subdir_for(start + timedelta(minutes=i)).strip("/")
        shutil.copytree(backup, target, copy_function=os.link)
    return coll


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backups", type=int, default=1000)
    ap.add_argument("--sleep-ms", type=float, default=20.0)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    SleepingKMS.delay = args.sleep_ms / 1000
    work = Path(tempfile.mkdtemp(prefix="bench-retire-", dir=args.dir))
    try:
        coll = build(work, args.backups)
        print(f"{args.backups} backups, KMS latency {args.sleep_ms:g} ms per call, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f} (the ratio grows when other processes take the CPU)")
        print(f"{'concurrency':>11} {'calls':>6} {'wall s':>8} {'cpu s':>6} {'bound s':>8} {'ratio':>6}")
        worst = 0.0
        for c in args.concurrency:
            SleepingKMS.calls = 0
            t0, c0 = time.perf_counter(), time.process_time()
            report = check_retirement(
                lambda uri: open_storage(uri), "testkms:///old", [f"file://{coll}"],
                ["retiresleep:///new"], concurrency=c,
            )
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            assert all(p.verdict == SAFE for p in report.proofs), "every backup must prove safe"
            assert report.kms_calls == SleepingKMS.calls == args.backups, (report.kms_calls, SleepingKMS.calls)
            bound = SleepingKMS.calls * SleepingKMS.delay / c
            ratio = wall / bound
            worst = max(worst, ratio)
            print(f"{c:>11} {SleepingKMS.calls:>6} {wall:>8.2f} {cpu:>6.2f} {bound:>8.2f} {ratio:>6.2f}")
        print(f"worst ratio {worst:.2f} (goal <= 1.2; wall <= 1.2 x calls x latency / concurrency)")
        return 0 if worst <= 1.2 else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
