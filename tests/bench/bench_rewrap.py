"""ALTER BACKUP at scale, as ratios measured in one run (no absolute time is asserted).

1. `ALTER BACKUP ALL` over N local backups (default 1,000) with a KMS that sleeps 20 ms per call
   (the registered `sleepkms` scheme, testkms bytes): wall time against the lower bound
   total KMS time / concurrency, at concurrency 1, 8 and 32. The backups are one write_demo full
   backup hard-linked under N dated names (rewrap only ever adds files, so links are safe).
   Concurrency 1 runs over at most --serial-backups backups (its ratio does not depend on N).
2. ALTER on one backup whose data/ holds 0, 10,000 and 100,000 files: the time must not grow
   with the file count (rewrap never lists data/); storage list calls and entries are counted.

    .venv/bin/python tests/bench/bench_rewrap.py [--backups N] [--serial-backups M] [--sleep-ms S]
        [--data-files 0 10000 100000] [--repeats R] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.collection import Collection  # noqa: E402
from engine.demo import write_demo  # noqa: E402
from engine.formats.latest_name import backup_subdir_for  # noqa: E402
from engine.kms import register_kms_scheme  # noqa: E402
from engine.kms import testkms  # noqa: E402
from engine.kms.base import KMS, KMSEnv, KMSURI  # noqa: E402
from engine.cloud.gourl import GoURL  # noqa: E402
from engine.rewrap.events import Status  # noqa: E402
from engine.rewrap.run import run_rewrap  # noqa: E402
from engine.storage import DelegatingStorage, ExternalStorage, open_storage  # noqa: E402

# -- a slow KMS ------------------------------------------------------------------------------------


class SleepingKMS(testkms.TestKMS):
    """testkms bytes, after a fixed delay per call (a KMS round trip)."""

    delay = 0.020
    calls = 0
    _lock = threading.Lock()

    def _call(self) -> None:
        with SleepingKMS._lock:
            SleepingKMS.calls += 1
        time.sleep(SleepingKMS.delay)

    def encrypt(self, plaintext: bytes) -> bytes:
        self._call()
        return super().encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        self._call()
        return super().decrypt(ciphertext)


class _SleepProvider:
    def parse(self, uri: str, url: GoURL) -> KMSURI:
        return testkms.parse(uri, url)

    def open_kms(self, parsed: KMSURI, env: KMSEnv) -> KMS:
        return SleepingKMS(parsed)


register_kms_scheme("sleepkms", _SleepProvider())

# -- a storage that counts listings ----------------------------------------------------------------


class CountingStorage(DelegatingStorage):
    """Delegates to a real storage; counts list calls and the entries they return."""

    def __init__(self, inner: ExternalStorage, counts: dict[str, int]) -> None:
        super().__init__(inner)
        self.counts = counts

    def list(self, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        self.counts["list calls"] += 1
        for key in self.inner.list(prefix, delimiter):
            self.counts["entries listed"] += 1
            yield key

    def child(self, path: str) -> CountingStorage:
        return CountingStorage(self.inner.child(path), self.counts)


# -- building collections ----------------------------------------------------------------------------


def template(root: Path) -> tuple[Path, Path]:
    """One demo full backup (no incrementals): (collection dir, its backup dir)."""
    coll = root / "template"
    write_demo(coll, seed=5, full_backups=1, incrementals=0)
    (backup,) = [p for p in (coll / "2026" / "11").iterdir()]
    return coll, backup


def many_backups(backup: Path, dest: Path, n: int) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    for i in range(n):
        target = dest / backup_subdir_for(start + timedelta(minutes=i)).strip("/")
        shutil.copytree(backup, target, copy_function=os.link)


def file_url(path: Path) -> str:
    return f"file://{path}"


# -- 1: ALTER BACKUP ALL with a slow KMS -------------------------------------------------------------


def bench_all(backup: Path, work: Path, n: int, serial_n: int) -> None:
    rows = []
    for concurrency, count in ((1, min(n, serial_n)), (8, n), (32, n)):
        coll_dir = work / f"all-{concurrency}"
        many_backups(backup, coll_dir, count)
        t0 = time.perf_counter()
        coll = Collection(open_storage(file_url(coll_dir)))
        backups = [coll.full_backup(p) for p in coll.full_backups()]
        SleepingKMS.calls = 0
        outcomes = run_rewrap(
            backups,
            new_kms=["sleepkms:///new-key"],
            old_kms=["sleepkms:///demo-key"],
            concurrency=concurrency,
        )
        wall = time.perf_counter() - t0
        assert all(o.status is Status.ADDED for o in outcomes), outcomes[:3]
        calls = SleepingKMS.calls
        assert calls == 3 * count, calls  # old decrypt, new encrypt, new round-trip decrypt
        bound = calls * SleepingKMS.delay / concurrency
        rows.append((concurrency, count, calls, wall, bound))
        shutil.rmtree(coll_dir)
    print(f"\nALTER BACKUP ALL, KMS sleeping {SleepingKMS.delay * 1000:.0f} ms per call")
    print(f"{'concurrency':>11} {'backups':>8} {'KMS calls':>10} {'wall s':>8} {'bound s':>8} {'wall/bound':>11}")
    for c, count, calls, wall, bound in rows:
        print(f"{c:>11} {count:>8} {calls:>10} {wall:>8.2f} {bound:>8.2f} {wall / bound:>11.2f}")
    base = rows[0][3] / rows[0][1]
    for c, count, _, wall, _ in rows[1:]:
        print(f"speed-up per backup, concurrency {c} vs 1: {base / (wall / count):.1f}x")


# -- 2: data/ size does not matter ---------------------------------------------------------------------


def bench_data_files(backup: Path, work: Path, sizes: list[int], repeats: int) -> None:
    rows = []
    for size in sizes:
        coll_dir = work / f"data-{size}"
        many_backups(backup, coll_dir, 1)
        (sub,) = [p for p in (coll_dir / "2020" / "01").iterdir()]
        data = sub / "data"
        t0 = time.perf_counter()
        for i in range(size):
            os.close(os.open(data / f"{900_000_000 + i}.sst", os.O_CREAT | os.O_WRONLY, 0o644))
        build = time.perf_counter() - t0
        times = []
        counts = {"list calls": 0, "entries listed": 0}
        for r in range(repeats):
            counts = {"list calls": 0, "entries listed": 0}
            storage = CountingStorage(open_storage(file_url(coll_dir)), counts)
            t0 = time.perf_counter()
            coll = Collection(storage)
            target = coll.full_backup(coll.full_backups()[0])
            (out,) = run_rewrap([target], new_kms=[f"testkms:///k{r}"], old_kms=["testkms:///demo-key"])
            times.append(time.perf_counter() - t0)
            assert out.status is Status.ADDED, out
        rows.append((size, build, statistics.median(times), counts["list calls"], counts["entries listed"]))
        shutil.rmtree(coll_dir)
    print(f"\nALTER on one backup (SHOW BACKUPS listing + ALTER), median of {repeats} runs")
    print(f"{'data files':>10} {'built s':>8} {'ALTER ms':>9} {'vs 0 files':>11} {'list calls':>11} {'entries':>8}")
    base = rows[0][2]
    for size, build, t, calls, entries in rows:
        print(f"{size:>10} {build:>8.1f} {t * 1000:>9.2f} {t / base:>11.2f} {calls:>11} {entries:>8}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backups", type=int, default=1000)
    ap.add_argument("--serial-backups", type=int, default=200, help="backups for the concurrency-1 run")
    ap.add_argument("--sleep-ms", type=float, default=20.0)
    ap.add_argument("--data-files", type=int, nargs="*", default=[0, 10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument(
        "--dir",
        default="/dev/shm" if os.access("/dev/shm", os.W_OK) else None,
        help="where to build the collections (default /dev/shm when writable: creating 100,000 "
        "files on a slow disk takes longer than everything else together)",
    )
    args = ap.parse_args()
    SleepingKMS.delay = args.sleep_ms / 1000
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        _, backup = template(work)
        bench_all(backup, work, args.backups, args.serial_backups)
        bench_data_files(backup, work, args.data_files, args.repeats)


if __name__ == "__main__":
    main()
