"""ALTER BACKUP ALL through the real boto3 client, against a bare boto3 thread pool, same run.

A local AWS KMS stand-in (tests/bench/fake_kms_latency.py: the KMS JSON protocol, a fixed 20 ms
per call) runs in its own process. N backups (default 1,000) are one write_demo full backup to
which an `aws:///old-key` entry was added, hard-linked under N dated names. For each concurrency
(1, 8, 32) two processes are timed from start to exit, one after the other:

- the `rewrap` CLI: `ALTER BACKUP ALL IN ... ADD NEW_KMS = aws:///new-key WITH OLD_KMS =
  aws:///old-key` (3 KMS calls per backup: unwrap, wrap, round-trip check), audit journal on;
- the peer: a Python process that imports boto3, builds one KMS client and makes the same 3 calls
  per backup in a ThreadPoolExecutor of the same size (no files read or written).

Both pay interpreter start and the boto3 import. rewrap runs as users get it: at 32 workers and
1,000 backups it spreads the backups over itself and one helper process (engine/rewrap/split.py;
its CPU is in rewrap's, `--baseline` shows main's single process), and makes its AWS KMS calls in
the calling thread with the deadline enforced at the socket (engine.deadline.call_inline). On a
machine whose cores are busy with other work, a second process gains little: compare CPU seconds
too, and run --repeats 3 (medians). Printed: each side's CPU seconds and its wall
time split by the stand-in's clock into start-up (until its first call arrives), the calls, and
exit (after the last answer); then wall times, the lower bound
(calls x latency / concurrency), and the ratio rewrap / peer (the goal is <= 1.1). The stand-in's
call counter checks that both made 3 x N calls. Concurrency 1 uses --serial-backups backups
(its ratio does not depend on N; 1,000 serial backups take 60 s each side).

    .venv/bin/python tests/bench/bench_alter_aws.py [--backups N] [--serial-backups M]
        [--latency-ms 20] [--repeats R] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.demo import write_demo  # noqa: E402
from engine.collection import Collection  # noqa: E402
from engine.rewrap.events import Status  # noqa: E402
from engine.rewrap.run import run_rewrap  # noqa: E402
from engine.storage import open_storage  # noqa: E402

sys.path.insert(0, str(ROOT / "tests" / "bench"))
from bench_rewrap import many_backups  # noqa: E402

PEER = r"""
import sys, base64, time
from concurrent.futures import ThreadPoolExecutor
import boto3
from botocore.config import Config
endpoint, n, conc, blob = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), base64.b64decode(sys.argv[4])
client = boto3.session.Session().client(
    "kms", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="AKIAFAKE",
    aws_secret_access_key="fake/secret", config=Config(max_pool_connections=max(conc, 10),
    retries={"mode": "standard", "total_max_attempts": 3}))
def one(_):
    key = client.decrypt(KeyId="old-key", CiphertextBlob=blob)["Plaintext"]
    new = client.encrypt(KeyId="new-key", Plaintext=key)["CiphertextBlob"]
    assert client.decrypt(KeyId="new-key", CiphertextBlob=new)["Plaintext"] == key
with ThreadPoolExecutor(conc) as pool:
    list(pool.map(one, range(n)))
"""


def kms_uri(key: str, port: int) -> str:
    return (f"aws:///{key}?REGION=us-east-1&AWS_ACCESS_KEY_ID=AKIAFAKE&AWS_SECRET_ACCESS_KEY=fake%2Fsecret"
            f"&AWS_ENDPOINT=http://127.0.0.1:{port}")


def calls(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
        return int(json.loads(r.read())["calls"])


def phases(port: int, since: int, t0: float, t1: float) -> tuple[float, float, float]:
    """(start-up, calls, exit) seconds of a run timed t0..t1 (time.monotonic) whose KMS calls
    were numbered from `since`: until its first call arrived, first call to last answer, after."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/?since={since}", timeout=5) as r:
        d = json.loads(r.read())
    return d["first"] - t0, d["last"] - d["first"], t1 - d["last"]


def old_blob(coll_dir: Path) -> bytes:
    """The aws old-key entry of the template backup (what the peer decrypts)."""
    from engine.formats.encryption_info import EncryptionInfo, key_id_hash

    (backup,) = [p for p in (coll_dir / "2026" / "11").iterdir()]
    info = EncryptionInfo.from_bytes((backup / "ENCRYPTION-INFO-2").read_bytes(), name="ENCRYPTION-INFO-2")
    return info.encrypted_data_keys[key_id_hash("old-key")]


CPU: dict[str, float] = {}  # executable -> CPU seconds (user + system) of its last run
SPAN: dict[str, tuple[float, float]] = {}  # executable -> (time.monotonic() at start, at exit)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    SPAN[cmd[0]] = (t0, t0 + wall)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU[cmd[0]] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backups", type=int, default=1000)
    ap.add_argument("--serial-backups", type=int, default=200)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--concurrency", type=int, nargs="*", default=[1, 8, 32])
    ap.add_argument("--repeats", type=int, default=1, help="pairs per concurrency (median shown)")
    ap.add_argument("--baseline", default=None,
                    help="another rewrap executable (e.g. /work/main/.venv/bin/rewrap), timed too")
    ap.add_argument("--dir", default=None, help="where the collections go (default: the temp dir, a disk)")
    args = ap.parse_args()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/bench/fake_kms_latency.py"), "--latency-ms", str(args.latency_ms)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
            run(Path(tmp), port, args)
    finally:
        server.terminate()
        server.wait()


def run(work: Path, port: int, args: argparse.Namespace) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
               AWS_EC2_METADATA_DISABLED="true", REWRAP_DATA_DIR=str(work / "data"))
    os.environ.update({k: env[k] for k in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED")})
    template = work / "template"
    write_demo(template, seed=5, full_backups=1, incrementals=0)
    coll = Collection(open_storage(f"file://{template}"))
    (out,) = run_rewrap([coll.full_backup(coll.full_backups()[0])], new_kms=[kms_uri("old-key", port)],
                        old_kms=["testkms:///demo-key"])
    assert out.status is Status.ADDED, out
    (backup,) = [p for p in (template / "2026" / "11").iterdir()]
    blob = __import__("base64").b64encode(old_blob(template)).decode()
    rewrap = str(Path(sys.executable).parent / "rewrap")
    latency = args.latency_ms / 1000
    rows = []
    for conc in args.concurrency:
        n = args.backups if conc > 1 else min(args.backups, args.serial_backups)
        ours, peers, bases, cpu = [], [], [], {}
        for r in range(args.repeats):
            before = calls(port)
            peers.append(timed([sys.executable, "-c", PEER, f"http://127.0.0.1:{port}", str(n), str(conc), blob], env))
            assert calls(port) - before == 3 * n, (calls(port) - before, n)
            cpu["peer"] = CPU[sys.executable]
            split = {"peer": phases(port, before, *SPAN[sys.executable])}
            for exe, times in ((rewrap, ours), (args.baseline, bases)):
                if exe is None:
                    continue
                coll_dir = work / f"c{conc}-{r}"
                many_backups(backup, coll_dir, n)
                before = calls(port)
                sql = (f"ALTER BACKUP ALL IN 'file://{coll_dir}' ADD NEW_KMS = '{kms_uri('new-key', port)}' "
                       f"WITH OLD_KMS = '{kms_uri('old-key', port)}'")
                times.append(timed([exe, "--concurrency", str(conc), "-e", sql], env))
                cpu[exe] = CPU[exe]
                assert calls(port) - before == 3 * n, (exe, calls(port) - before, n)
                split[exe] = phases(port, before, *SPAN[exe])
                added = list(coll_dir.glob("*/*/*/ENCRYPTION-INFO-3"))
                assert len(added) == n, len(added)
                shutil.rmtree(coll_dir)
        base = statistics.median(bases) if bases else float("nan")
        rows.append((conc, n, statistics.median(ours), statistics.median(peers), 3 * n * latency / conc, base))
        print(f"concurrency {conc}: CPU s (last run) rewrap {cpu[rewrap]:.2f}, peer {cpu['peer']:.2f}"
              + (f", baseline {cpu[args.baseline]:.2f}" if args.baseline else ""), flush=True)
        for who, exe in (("rewrap", rewrap), ("peer", "peer"), ("baseline", args.baseline)):
            if exe in split:
                start, span, tail = split[exe]
                print(f"  {who}: start-up to first call {start:.2f} s, calls {span:.2f} s, "
                      f"last answer to exit {tail:.2f} s", flush=True)
    print(f"\nALTER BACKUP ALL via boto3, local KMS stand-in with {args.latency_ms:g} ms per call "
          f"(median of {args.repeats}; processes timed start to exit)")
    print(f"{'concurrency':>11} {'backups':>8} {'calls':>6} {'rewrap s':>9} {'boto3 peer s':>13} "
          f"{'bound s':>8} {'rewrap/peer':>12} {'peer/bound':>11}"
          + (f" {'baseline s':>11} {'baseline/peer':>14}" if args.baseline else ""))
    for conc, n, ours_s, peer_s, bound, base in rows:
        print(f"{conc:>11} {n:>8} {3 * n:>6} {ours_s:>9.2f} {peer_s:>13.2f} {bound:>8.2f} "
              f"{ours_s / peer_s:>12.2f} {peer_s / bound:>11.2f}"
              + (f" {base:>11.2f} {base / peer_s:>14.2f}" if args.baseline else ""))
    if args.baseline:
        print(f"baseline: {args.baseline}")


if __name__ == "__main__":
    main()
