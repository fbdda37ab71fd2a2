"""CHECK_FILES over a 1 GiB encrypted chain (32 SSTs) against raw AES-GCM over the same files,
for row (Pebble v2) and columnar (Pebble v7) SSTs, big (4 KB) and demo-sized (180 B) rows; and
the peak RSS of CHECK_FILES, measured in a child process. Ratios and their inputs come from one
run; nothing here asserts an absolute time.

    .venv/bin/python tests/bench/bench_check_files.py [--mib 1024] [--files 32]
        [--formats v2,v7] [--row-bytes 4096,180] [--repeat 2] [--dir DIR] [--no-rss] [--floor]

Per (format, row size) case, best of --repeat, runs interleaved:
  raw AES-GCM   read every data file and open each sealed chunk with a reused AESGCM, output
                dropped: the floor of any check (bench_check_columnar.py's definition).
  CHECK_FILES   SHOW BACKUP LATEST IN ... WITH KMS = 'testkms:///cmk', CHECK_FILES (the
                defaults), and engine.reader.check_chain_files over the same chain (the data
                files only: manifests and the KMS unwrap done once before) with every
                CheckOptions the matrix names: native scanner off/on (on only if
                engine.formats._blockscan is built), pipelined off/on, 1 or 2 scan workers.
Printed: MiB/s of each, "raw / CHECK_FILES" (goal >= 0.5), and peak RSS of a child process
running the same CHECK_FILES against the largest data file (goal <= 1.2 x largest + 50 MB),
with the child's RSS after its imports for reference. The peak is the child's VmHWM
(/proc/self/status); resource.getrusage's ru_maxrss is printed too, but on Linux it starts at
the RSS this (large) parent had when it forked the child, so it over-states the child.

With --floor, then the floor breakdown, per stored MiB of the same files, each part timed on its own: raw
AES-GCM, read + decrypt into one buffer (what CHECK_FILES does), block checksums, block
decompression, and the walk (check_table minus checksums and decompression). From these:
"serial" (all parts one after another), "no walk" (the best any serial design reaches: the walk
free), "2 cores" (the best two threads could do if checksums and decompression ran GIL-free
beside AES-GCM and the walk); with the native module, "nat scan" (its scan_blocks over every
data block) and "nat 2c" (read + AES-GCM and that scan split evenly over two cores: the bound
of the native pipeline). Last, a GIL probe on one file's compressed blocks: snappy
(cramjam) and CRC-32C (google_crc32c) alone and beside a thread spinning in Python, which is
what decides whether "2 cores" is reachable with these libraries.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "bench"))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

from bench_check_columnar import KEY, best_of, build_chain  # noqa: E402
from engine.formats.encrypted_file import HEADER_SIZE, SEALED_CHUNK_SIZE, chunk_nonce  # noqa: E402
from engine.formats.keys import encode_uvarint_ascending, table_prefix  # noqa: E402
from engine.formats.mvcc import encode_mvcc_key  # noqa: E402
from engine.formats.encrypted_file import DecryptingReader  # noqa: E402
from engine.formats.sst import check_sst  # noqa: E402
from engine.formats import blockscan  # noqa: E402
from engine.formats.sst_check import check_table  # noqa: E402
from engine.formats.sst_pipeline import CheckOptions  # noqa: E402
from engine.formats.sst_format import block_checksum, decompress  # noqa: E402
from engine.formats.sst_reader import Table  # noqa: E402
from engine.formats.sst_writers import write_table  # noqa: E402

SQL = "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk', CHECK_FILES"

CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
from engine.execute import Executor
from engine.storage import StorageSettings
from syntax import parse
ex = Executor(StorageSettings(external_io_dir=sys.argv[2]))
stmts = parse(sys.argv[3])
import engine.statements.show_backup, engine.reader, engine.kms  # imports before the baseline
start = {k: int(v.split()[0]) for k, v in (l.split(":", 1) for l in open("/proc/self/status")) if k == "VmRSS"}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for s in stmts:
    ex.run(s)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
hwm = {k: int(v.split()[0]) for k, v in (l.split(":", 1) for l in open("/proc/self/status")) if k in ("VmHWM", "VmRSS")}
print(json.dumps({"before_kib": before, "peak_kib": after, "hwm_kib": hwm["VmHWM"], "start_kib": start["VmRSS"], "rss_kib": hwm["VmRSS"]}))
"""


def make_table(file_bytes: int, row_bytes: int, seed: int, fmt: str) -> bytes:
    """An SST of about `file_bytes` (snappy shrinks the rows: one small trial table sets the
    row count)."""
    trial = _table(1 << 20, row_bytes, seed, fmt)
    return _table(int(file_bytes * (1 << 20) / len(trial)), row_bytes, seed, fmt)


def _table(raw_bytes: int, row_bytes: int, seed: int, fmt: str) -> bytes:
    """/Table/<id>/1/<pk> MVCC rows of about `row_bytes` (key + value) until `raw_bytes`,
    values half random and half repetitive so snappy keeps some blocks."""
    rng = random.Random(seed)
    prefix = table_prefix(106 + seed) + encode_uvarint_ascending(1)
    rows = []
    size = i = 0
    while size < raw_bytes:
        pk = prefix + encode_uvarint_ascending(i) + b"\x88"
        key = encode_mvcc_key(pk, 1_700_000_000_000_000_000 + i * 1000, 0)
        n = max(8, row_bytes - len(key))
        value = rng.randbytes(n // 2) + (b"r%07d " % i * (n // 18 + 1))[: n - n // 2]
        rows.append((key, value))
        size += len(key) + len(value) + 4
        i += 1
    return write_table(rows, f"pebble,{fmt}")


def floor(paths: list[Path]) -> dict[str, float]:
    """Seconds over all `paths` of each part of a check, each measured on its own so their sum is
    what a serial design pays: AES-GCM (raw, as the baseline), reading + decrypting into one
    buffer (what CHECK_FILES does), every block checksum, every decompression, and the rest of
    check_table (the key-order and structure walk: check_table's time minus the two before);
    with the native module, also its scan_blocks over every data block (checksum,
    decompression and walk in C, GIL released). The blocks are the ones check_table reads,
    recorded from one run of it."""
    out = dict.fromkeys(("decrypt", "checksum", "decompress", "check_table"), 0.0)
    aead_key = KEY
    for p in paths:
        size = p.stat().st_size
        with open(p, "rb") as f:
            def read_range(off: int, n: int, f=f) -> bytes:
                f.seek(off)
                return f.read(n)

            t = time.perf_counter()
            plain = DecryptingReader(read_range, size, aead_key, name=str(p)).plaintext()
            out["decrypt"] += time.perf_counter() - t
        handles: list[tuple[int, int]] = []
        original = Table.read_block

        def recording(self, handle, what):  # type: ignore[no-untyped-def]
            handles.append(handle)
            return original(self, handle, what)

        Table.read_block = recording  # type: ignore[method-assign]
        try:
            table = Table(plain, str(p))
            check_table(table, native=False)  # every block through read_block
        finally:
            Table.read_block = original  # type: ignore[method-assign]
        view = memoryview(plain)
        kind = table.footer.checksum
        t = time.perf_counter()
        for off, n in handles:
            block_checksum(kind, bytes(view[off : off + n + 1]))
        out["checksum"] += time.perf_counter() - t
        blocks = [(bytes(view[off : off + n]), view[off + n]) for off, n in handles]
        t = time.perf_counter()
        for raw, indicator in blocks:
            decompress(raw, indicator, "f", "b")
        out["decompress"] += time.perf_counter() - t
        del blocks
        t = time.perf_counter()
        check_table(Table(plain, str(p)), native=False)
        out["check_table"] += time.perf_counter() - t
        if blockscan.AVAILABLE:  # checksums, decompression and walk of every data block in C
            data_handles = [h for _, h in table.data_handles()]
            t = time.perf_counter()
            blockscan.scan_blocks(plain, data_handles, end=table.footer.end,
                                  checksum=kind, pebble_version=table.version,
                                  cockroach=True, columnar=table.columnar)
            out["native_scan"] = out.get("native_scan", 0.0) + time.perf_counter() - t
        del view, plain, table
    out["walk"] = max(0.0, out["check_table"] - out["checksum"] - out["decompress"])
    return out


def gil_probe(path: Path) -> dict[str, float]:
    """Seconds to decompress and to checksum one file's blocks alone and beside a thread that
    spins in Python (as a concurrent walk would). A call that releases the GIL must take it back
    after every block, which the spinning thread delays by up to sys.getswitchinterval()."""
    import threading

    import cramjam
    import google_crc32c

    size = path.stat().st_size
    with open(path, "rb") as f:
        data = f.read()
    plain = DecryptingReader(lambda off, n: data[off : off + n], size, KEY).plaintext()
    table = Table(plain, str(path))
    view = memoryview(plain)
    blocks = [bytes(view[off : off + n]) for _, (off, n) in table.data_handles()][:512]
    # snappy beside a spinner waits up to a switch interval per block: 64 blocks keep that
    # under a second
    few = blocks[:64]

    reps = [1]

    def unsnap() -> None:
        for b in few:
            cramjam.snappy.decompress_raw(b)

    def crc() -> None:
        for _ in range(reps[0]):
            for b in blocks:
                google_crc32c.value(b)

    t = time.perf_counter()
    crc()
    reps[0] = max(1, int(0.02 / (time.perf_counter() - t)))  # ~20 ms: 4 switch intervals

    def idle() -> None:
        time.sleep(0.03)

    out: dict[str, float] = {"blocks": float(len(blocks) * reps[0]), "snappy_blocks": float(len(few))}
    for name, work in (("sleep", idle), ("snappy", unsnap), ("crc32c", crc)):
        t = time.perf_counter()
        work()
        out[name] = time.perf_counter() - t
        stop: list[int] = []
        loops = [0]

        def spin() -> None:
            n = 0
            while not stop:
                n += 1
            loops[0] = n

        spinner = threading.Thread(target=spin)
        spinner.start()
        time.sleep(0.01)  # the spinner holds the GIL before the work starts, as a walk would
        t = time.perf_counter()
        work()
        out[name + "_beside"] = time.perf_counter() - t
        stop.append(1)
        spinner.join()
        out[name + "_spin"] = loops[0] / (out[name + "_beside"] + 0.01)  # loops per second
    return out


def parallel_probe(repeat: int = 5) -> float:
    """Speed-up of two threads each opening the same 64 MiB of chunks over one thread doing
    both halves. About 2 only if AES-GCM releases the GIL and a second core is free. An earlier
    session measured about 1.0 (AES-GCM holding the GIL); on 2026-12-03, cryptography 50.0.2,
    an idle 2-core box: 1.3-2.0 (pyca/cryptography#15359 releases the GIL in one-shot AEAD
    calls of 2 KiB or more). Either way the pipeline's gain comes from the native scan running
    beside AES-GCM with the GIL released. Read it with the load average printed next to it."""
    import threading

    aead = AESGCM(KEY)
    nonce = bytes(12)
    sealed = aead.encrypt(nonce, bytes(64 << 10), None)

    def work() -> None:
        out = bytearray(64 << 10)
        for _ in range(512):
            aead.decrypt_into(nonce, sealed, None, out)  # type: ignore[attr-defined]

    one = two = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        work()
        work()
        one = min(one, time.perf_counter() - t)
        threads = [threading.Thread(target=work) for _ in range(2)]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        two = min(two, time.perf_counter() - t)
    return one / two


def matrix() -> list[tuple[str, CheckOptions]]:
    """The CheckOptions timed per case, with their column names."""
    out = [("py serial", CheckOptions(native=False, pipelined=False)),
           ("py piped", CheckOptions(native=False, pipelined=True))]
    if blockscan.AVAILABLE:
        out += [("nat serial", CheckOptions(native=True, pipelined=False)),
                ("nat piped", CheckOptions(native=True, pipelined=True)),
                ("nat piped w2", CheckOptions(native=True, pipelined=True, workers=2))]
    return out


def run_case(args: argparse.Namespace, fmt: str, row_bytes: int) -> dict:
    from engine.collection import open_collection_target
    from engine.encryption import DataKey
    from engine.execute import Executor
    from engine.reader import check_chain_files, read_contents
    from engine.storage import StorageSettings
    from syntax import parse

    file_bytes = (args.mib << 20) // args.files
    started = time.perf_counter()
    tables = [make_table(file_bytes, row_bytes, seed, fmt) for seed in range(args.distinct)]
    made = time.perf_counter() - started
    for t in tables:
        check_sst(t)
    work = Path(tempfile.mkdtemp(prefix="bench-checkfiles-", dir=args.dir))
    try:
        io_dir = work / "io"
        per_file_mib = len(tables[0]) / (1 << 20)
        layers = args.incrementals + 1
        total_mib = max(1, int(args.files // layers * per_file_mib)) * layers  # files exactly
        paths = build_chain(io_dir / "c", tables, total_mib, args.incrementals)
        del tables
        stored = [p.stat().st_size for p in paths]
        plain_mib = sum(stored) / (1 << 20)
        aead = AESGCM(KEY)

        def raw() -> None:
            for p in paths:
                data = memoryview(p.read_bytes())
                iv = bytes(data[8:HEADER_SIZE])
                body = data[HEADER_SIZE:]
                opened = aead.decrypt
                for i, s in enumerate(range(0, len(body), SEALED_CHUNK_SIZE)):
                    opened(chunk_nonce(iv, i), body[s : s + SEALED_CHUNK_SIZE], None)

        executor = Executor(StorageSettings(external_io_dir=io_dir))
        stmts = parse(SQL)

        def check() -> None:
            for s in stmts:
                result = executor.run(s)
            assert result.rows

        _, backup = open_collection_target(executor.open_storage, "nodelocal://self/c", "LATEST")
        key = DataKey(KEY)
        contents = [read_contents(layer, key) for layer in backup.chain()]

        def checking(options: CheckOptions):  # type: ignore[no-untyped-def]
            def run() -> None:
                problems = check_chain_files(contents, key, options=options)
                assert not problems, problems
            return run

        configs = matrix()
        times = best_of(args.repeat, [("raw", raw), ("check", check)]
                        + [(name, checking(o)) for name, o in configs])
        t_raw, t_check = times[:2]
        parts = floor(paths) if args.floor else None
        probe = gil_probe(paths[0]) if args.floor else None
        out = {
            "format": fmt,
            "row_bytes": row_bytes,
            "files": len(paths),
            "stored_mib": plain_mib,
            "largest_mib": max(stored) / (1 << 20),
            "made_s": made,
            "raw_s": t_raw,
            "check_s": t_check,
            "configs": dict(zip((name for name, _ in configs), times[2:])),
            "floor": parts,
            "probe": probe,
            "load": os.getloadavg()[0],
        }
        if not args.no_rss:
            child = subprocess.run(
                [sys.executable, "-c", CHILD, str(ROOT), str(io_dir), SQL],
                capture_output=True, text=True, check=True,
            )
            rss = json.loads(child.stdout.strip().splitlines()[-1])
            out["rss_before_mb"] = rss["start_kib"] * 1024 / 1e6
            out["rss_peak_mb"] = rss["hwm_kib"] * 1024 / 1e6
            out["getrusage_mb"] = rss["peak_kib"] * 1024 / 1e6
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="plaintext MiB of data SSTs")
    parser.add_argument("--files", type=int, default=32, help="data SSTs in the chain")
    parser.add_argument("--formats", default="v2,v7", help="Pebble table formats, e.g. v2,v4,v7")
    parser.add_argument("--row-bytes", default="4096,180", help="row sizes (key + value)")
    parser.add_argument("--distinct", type=int, default=2, help="distinct SSTs generated per case")
    parser.add_argument("--incrementals", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--no-rss", action="store_true", help="skip the child-process RSS run")
    parser.add_argument("--floor", action="store_true", help="also the per-part floor and GIL probe")
    args = parser.parse_args()
    print(f"{args.mib} MiB over {args.files} files, best of {args.repeat}, interleaved; "
          f"native scanner {'built' if blockscan.AVAILABLE else 'NOT built'}")
    names = [name for name, _ in matrix()]
    head = f"{'format':<7} {'row B':>6} {'files':>5} {'MiB':>6} {'raw MiB/s':>10} {'check MiB/s':>12} {'raw/check':>10}"
    if not args.no_rss:
        head += f" {'largest MB':>10} {'RSS MB':>7} {'start MB':>8} {'RSS/(1.2L+50)':>14} {'ru_maxrss':>9}"
    print(head)
    floors = []
    for fmt in args.formats.split(","):
        for row_bytes in (int(r) for r in args.row_bytes.split(",")):
            r = run_case(args, fmt, row_bytes)
            line = (
                f"{fmt:<7} {row_bytes:>6} {r['files']:>5} {r['stored_mib']:6.0f} "
                f"{r['stored_mib'] / r['raw_s']:10.0f} {r['stored_mib'] / r['check_s']:12.0f} "
                f"{r['raw_s'] / r['check_s']:10.3f}"
            )
            if "rss_peak_mb" in r:
                largest = r["largest_mib"] * (1 << 20) / 1e6
                line += (
                    f" {largest:10.1f} {r['rss_peak_mb']:7.1f} {r['rss_before_mb']:8.1f} "
                    f"{r['rss_peak_mb'] / (1.2 * largest + 50):14.2f} {r['getrusage_mb']:9.1f}"
                )
            print(line, flush=True)
            floors.append(r)
    print("(check = the SQL statement with the default CheckOptions)")
    print()
    print("CHECK_FILES MiB/s / raw AES-GCM MiB/s (check_chain_files, per CheckOptions; same run):")
    bound = "nat serial" in names
    print(f"{'format':<7} {'row B':>6} {'raw MiB/s':>10} " + " ".join(f"{n:>12}" for n in names)
          + (f" {'2-core bound':>12}" if bound else ""))
    for r in floors:
        cells = [r["raw_s"] / r["configs"][n] for n in names]
        if bound:
            cells.append(2 * r["raw_s"] / r["configs"]["nat serial"])
        print(f"{r['format']:<7} {r['row_bytes']:>6} {r['stored_mib'] / r['raw_s']:10.0f} "
              + " ".join(f"{c:12.3f}" for c in cells))
    if bound:
        print("(2-core bound = 2 x nat serial: the serial native work split perfectly over two "
              "cores; no\nschedule of today's work beats it, so a row below 0.5 there needs less "
              "work, not more overlap)")
    print("goals: raw/check >= 0.5; RSS/(1.2L+50) <= 1.0 (L = largest data file, MB)")
    print(f"two threads of AES-GCM: {parallel_probe():.2f}x one thread (2 = it releases the GIL and "
          f"a core is free; 1 = it holds the GIL or no core is free); load average "
          f"{os.getloadavg()[0]:.2f}")
    if not args.floor:
        return 0
    print()
    print("floor, ms per stored MiB (each part timed on its own over the same files):")
    print(f"{'format':<7} {'row B':>6} {'AES raw':>8} {'read+AES':>9} {'checksum':>9} {'decomp':>7} "
          f"{'walk':>7} {'CHECK':>7} {'serial':>7} {'no walk':>8} {'2 cores':>8} {'nat scan':>9} "
          f"{'nat 2c':>7} {'load':>5}")
    for r in floors:
        f, mib = r["floor"], r["stored_mib"]
        aes, dec, crc, unz, walk = (x * 1000 / mib for x in (
            r["raw_s"], f["decrypt"], f["checksum"], f["decompress"], f["walk"]))
        check = r["check_s"] * 1000 / mib
        serial = aes / (dec + crc + unz + walk)
        no_walk = aes / (dec + crc + unz)
        # 2 cores: at best the whole serial cost splits evenly, and never below AES-GCM
        # (which holds the GIL) plus the Python walk (which does too).
        two = aes / max(dec + walk, (dec + crc + unz + walk) / 2)
        nat = f.get("native_scan", float("nan")) * 1000 / mib
        nat_two = aes / max(dec, (dec + nat) / 2)  # read+AES beside the C scan, split evenly
        print(f"{r['format']:<7} {r['row_bytes']:>6} {aes:8.3f} {dec:9.3f} {crc:9.3f} {unz:7.3f} "
              f"{walk:7.3f} {check:7.3f} {serial:7.3f} {no_walk:8.3f} {two:8.3f} {nat:9.3f} "
              f"{nat_two:7.3f} {r['load']:5.2f}")
    print("serial = AES raw / (read+AES + checksum + decomp + walk), the parts one after another;"
          "\nno walk = the same with a free walk (the best any serial design reaches); 2 cores = "
          "the best two threads\ncould do if checksums and decompression ran GIL-free beside "
          "AES-GCM and the walk (which hold the GIL);\nnat scan = the native module's "
          "scan_blocks over every data block (checksum, decompression, walk in C); nat 2c =\n"
          "AES raw / max(read+AES, (read+AES + nat scan) / 2), the best split of that work over "
          "two cores.")
    print()
    print("GIL probe on one file's first data blocks: ms alone / ms beside a thread spinning in "
          "Python, and the\nspinner's speed meanwhile as a share of its speed beside a sleep "
          "(overlap needs both near 1x):")
    for r in floors:
        p = r["probe"]
        cells = []
        for name, blocks in (("snappy", "snappy_blocks"), ("crc32c", "blocks")):
            share = p[name + "_spin"] / p["sleep_spin"]
            cells.append(f"{name} {int(p[blocks])} blocks {p[name] * 1000:.1f} / "
                         f"{p[name + '_beside'] * 1000:.1f} ms, spinner {share:.2f}x")
        print(f"{r['format']:<7} {r['row_bytes']:>6} " + "; ".join(cells))
    print("(snappy releases the GIL, but must take it back after every block, which a busy Python "
          "thread delays\nup to the 5 ms switch interval; crc32c keeps it. So no thread pipeline "
          "of these calls beats serial.)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
