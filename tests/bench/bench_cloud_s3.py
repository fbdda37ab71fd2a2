"""Benchmark: rewrap against moto S3 + KMS, counting the requests that really reach the server.

Run: .venv/bin/python tests/bench/bench_cloud_s3.py [--backups 200] [--data-files 10000]

Every request goes through a counting proxy in front of moto_server (AWS_ENDPOINT points at the
proxy), so the counts are what the wire saw: KMS calls by X-Amz-Target, S3 list calls by
`list-type=2`. Prints two tables from one run:
1. `ALTER BACKUP ALL` over N full backups via the installed `rewrap` command: wall time, and KMS,
   list, GET and PUT requests per backup.
2. Listing cost for one backup directory holding 10,000 data files: the engine's listings
   (collection scan with delimiter `data/`, backup directory with `/`) against a naive listing
   without a delimiter: list requests and objects returned. The engine's never touch data/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.collection import Collection  # noqa: E402
from engine.demo import write_demo  # noqa: E402
from engine.storage import open_storage  # noqa: E402
from tests.servers.aws import REGION, MotoServer, _moto_answers, moto_binary  # noqa: E402
from tests.servers.process import free_port, wait_until_ready  # noqa: E402
from tests.servers.fake_flaky_proxy import FlakyProxy  # noqa: E402

REWRAP = str(Path(sys.executable).parent / "rewrap")


def classify(log: list[tuple[str, str, str]]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for method, path, target in log:
        if target.startswith("TrentService."):
            kinds["kms:" + target.split(".", 1)[1]] += 1
        elif "list-type=2" in path:
            kinds["s3:list"] += 1
        elif method in ("GET", "HEAD"):
            kinds["s3:get"] += 1
        elif method == "PUT":
            kinds["s3:put"] += 1
        else:
            kinds[f"other:{method}"] += 1
    return kinds


def upload_tree(moto: MotoServer, bucket: str, local: Path, prefix: str) -> int:
    s3 = moto.client("s3")
    files = [p for p in local.rglob("*") if p.is_file()]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda p: s3.put_object(Bucket=bucket, Key=f"{prefix}/{p.relative_to(local)}",
                                              Body=p.read_bytes()), files))
    return len(files)


def bench_alter_all(moto: MotoServer, proxy: FlakyProxy, backups: int) -> list[tuple[str, str]]:
    bucket = moto.new_bucket("bench")
    moto.new_key("alias/bench-old")
    moto.new_key("alias/bench-new")
    q = f"AWS_ENDPOINT={proxy.endpoint}&AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=b"
    old = f"aws:///alias/bench-old?{q}&REGION={REGION}"
    new = f"aws:///alias/bench-new?{q}&REGION={REGION}"
    with tempfile.TemporaryDirectory() as tmp:
        write_demo(Path(tmp) / "c", kms_uri=old, seed=1, full_backups=backups, incrementals=0)
        objects = upload_tree(moto, bucket, Path(tmp) / "c", "c")
    coll = f"s3://{bucket}/c?{q}"
    proxy.log.clear()
    t = time.perf_counter()
    p = subprocess.run([REWRAP, "--format", "json", "-e",
                        f"ALTER BACKUP ALL IN '{coll}' ADD NEW_KMS = '{new}' WITH OLD_KMS = '{old}'"],
                       capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"ALTER BACKUP ALL failed: {p.stderr}")
    statuses = Counter(json.loads(line)["status"] for line in p.stdout.splitlines())
    kinds = classify(proxy.log)
    kms_calls = sum(v for k, v in kinds.items() if k.startswith("kms:"))
    n = backups
    return [
        ("backups altered (status)", ", ".join(f"{k}={v}" for k, v in sorted(statuses.items()))),
        ("objects in the collection", str(objects)),
        ("wall time, total (s)", f"{wall:.2f}"),
        ("wall time per backup (ms)", f"{1000 * wall / n:.1f}"),
        ("KMS calls per backup", f"{kms_calls / n:.2f}  ({', '.join(f'{k}={v}' for k, v in sorted(kinds.items()) if k.startswith('kms:'))})"),
        ("S3 list calls per backup", f"{kinds['s3:list'] / n:.3f}  (total {kinds['s3:list']})"),
        ("S3 GET/HEAD per backup", f"{kinds['s3:get'] / n:.2f}"),
        ("S3 PUT per backup", f"{kinds['s3:put'] / n:.2f}"),
    ]


def bench_listing(moto: MotoServer, proxy: FlakyProxy, data_files: int) -> list[tuple[str, str, str, str]]:
    bucket = moto.new_bucket("listing")
    q = f"AWS_ENDPOINT={proxy.endpoint}&AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=b"
    with tempfile.TemporaryDirectory() as tmp:
        write_demo(Path(tmp) / "c", seed=2, full_backups=1, incrementals=0)
        upload_tree(moto, bucket, Path(tmp) / "c", "c")
    storage = open_storage(f"s3://{bucket}/c?{q}")
    collection = Collection(storage)
    subdir = collection.full_backups()[0].strip("/")
    s3 = moto.client("s3")
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket=bucket, Key=f"c/{subdir}/data/{900000 + i}.sst", Body=b"x"),
                      range(data_files)))
    rows = []

    def measure(name: str, fn) -> None:  # type: ignore[no-untyped-def]
        proxy.log.clear()
        t = time.perf_counter()
        got = list(fn())
        ms = 1000 * (time.perf_counter() - t)
        rows.append((name, str(classify(proxy.log)["s3:list"]), str(len(got)), f"{ms:.0f}"))

    measure("engine: SHOW BACKUPS scan (delimiter 'data/')", lambda: Collection(storage).full_backups())
    backup = collection.full_backup(subdir)
    measure("engine: backup dir files (delimiter '/')", backup.list_top_level)
    measure("naive: backup dir, no delimiter", lambda: storage.child(subdir).list(""))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backups", type=int, default=200)
    parser.add_argument("--data-files", type=int, default=10_000)
    args = parser.parse_args()
    binary = moto_binary()
    if binary is None:
        raise SystemExit("moto_server not found: pip install -e '.[test]'")
    port = free_port()
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        moto = MotoServer(f"http://127.0.0.1:{port}", proc)
        wait_until_ready(lambda: _moto_answers(moto.endpoint), proc, "moto_server", timeout=20)
        with FlakyProxy(moto.endpoint, failures=0) as proxy:
            alter = bench_alter_all(moto, proxy, args.backups)
            listing = bench_listing(moto, proxy, args.data_files)
    finally:
        proc.terminate()
        proc.wait(10)
    print(f"\nALTER BACKUP ALL over {args.backups} full backups (moto S3 + KMS via counting proxy)")
    w = max(len(k) for k, _ in alter)
    for k, v in alter:
        print(f"  {k:<{w}}  {v}")
    print(f"\nListing one backup directory holding {args.data_files} data files")
    header = ("listing", "list calls", "objects returned", "ms")
    widths = [max(len(r[i]) for r in [header, *listing]) for i in range(4)]
    for r in [header, tuple("-" * x for x in widths), *listing]:
        print("  " + " | ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(r)))
    naive = int(listing[2][2])
    engine = int(listing[1][2])
    print(f"\n  objects returned, naive / engine: {naive / max(engine, 1):.0f}x")


if __name__ == "__main__":
    main()
