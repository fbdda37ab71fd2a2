"""CHECK_FILES over an encrypted chain of columnar SSTs against a one-shot AES-GCM decrypt of the
same bytes, as ratios from one run (no absolute time is asserted anywhere).

    .venv/bin/python tests/bench/bench_check_columnar.py [--mib 256] [--file-mib 16]
        [--format pebble,v7] [--incrementals 3] [--repeat 2] [--dir DIR]

The chain: one full backup and --incrementals incrementals, KMS-encrypted (testkms 'cmk'), laid
out as CockroachDB does (crdb_fixtures.Writer). Its data files hold at least --mib MiB of
plaintext Pebble columnar SSTs written by engine.formats.colblk_write (CockroachDB key schema,
snappy, 32 KiB blocks, as a 25.x backup's data files); a few distinct tables are generated and each
file is sealed separately, so no two files share ciphertext.

Rows (best of --repeat):
  raw AES-GCM       read every data file and open each sealed chunk with a reused AESGCM and
                    precomputed nonces, output dropped: the cost floor of any check.
  SHOW BACKUP       the same statement without CHECK_FILES (manifests, descriptors, KMS).
  CHECK_FILES       SHOW BACKUP LATEST ... WITH KMS = 'testkms:///cmk', CHECK_FILES.
  no help_scan      the same with CheckOptions.help_scan off: the decrypting thread, done first,
                    only waits for the checks instead of scanning batches from the table's back.
Printed: MiB/s, "raw / CHECK_FILES" and "raw / no help_scan" (the goal is >= 0.5: checking costs at most twice the bare
decrypt), and the share of CHECK_FILES spent in SST parsing (check_table as
engine.formats.sst_pipeline calls it, timed by wrapping it; in the pipelined default it runs on
a second thread beside the decryption, so the two shares overlap) and in everything else.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

import crdb_fixtures as fx  # noqa: E402
import engine.formats.sst_pipeline  # noqa: E402
import engine.reader  # noqa: E402
from engine.execute import Executor  # noqa: E402
from engine.formats.colblk_write import write_columnar_sst  # noqa: E402
from engine.formats.encrypted_file import HEADER_SIZE, SEALED_CHUNK_SIZE, chunk_nonce  # noqa: E402
from engine.formats.keys import encode_uvarint_ascending, table_prefix  # noqa: E402
from engine.formats.mvcc import encode_mvcc_key  # noqa: E402
from engine.formats.sst import check_sst, table_format  # noqa: E402
from engine.storage import StorageSettings  # noqa: E402
from syntax import parse  # noqa: E402

KEY = bytes(range(32))
DB = (104, "bench")


def make_table(mib: int, seed: int, fmt: str) -> bytes:
    """A columnar SST of about `mib` MiB: /Table/<id>/1/<pk> MVCC rows with ~120-byte values
    (half random, half repetitive, so snappy keeps some blocks and not others)."""
    rng = random.Random(seed)
    prefix = table_prefix(106 + seed) + encode_uvarint_ascending(1)  # /Table/<id>/1 (primary index)
    rows = []
    target = mib << 20
    size = 0
    i = 0
    while size < target:
        pk = prefix + encode_uvarint_ascending(i) + b"\x88"  # /<pk>/0 (column family 0)
        key = encode_mvcc_key(pk, 1_700_000_000_000_000_000 + i * 1000, 0)
        value = rng.randbytes(60) + b"row %08d " % i * 5
        rows.append((key, value))
        size += len(key) + len(value) + 4
        i += 1
    return write_columnar_sst(rows, table_format=fmt)


def build_chain(root: Path, tables: list[bytes], total_mib: int, incrementals: int) -> list[Path]:
    """Full + incrementals with data files cycling through `tables` until total_mib is reached."""
    w = fx.Writer(root, data_key=KEY)
    per_layer = -(-total_mib // (incrementals + 1))
    start = None
    end = fx.utc(2026, 11, 1, 10)
    full = fx.subdir(end).strip("/")
    wrapped = {hashlib.sha256(b"cmk").digest(): fx.testkms_wrap("cmk", KEY)}
    w.put(f"{full}/ENCRYPTION-INFO", fx.encryption_info(kms=wrapped))
    n = 0
    data_paths: list[Path] = []
    for layer in range(incrementals + 1):
        files: dict[str, bytes] = {}
        size = 0
        while size < per_layer << 20:
            plain = tables[n % len(tables)]
            files[f"data/{1000 + n}.sst"] = plain
            size += len(plain)
            n += 1
        fts = [fx.FixtureTable(200 + i, f"t{i}", 1000, len(p)) for i, p in enumerate(files.values())]
        man = fx.manifest(start=start, end=end, db=DB, tables=fts, files=list(files))
        rel = full if layer == 0 else f"incrementals/{full}{fx.inc_subdir(end)}"
        w.backup_dir(rel, man, data_files=files)
        data_paths += [root / rel / p for p in files]
        start, end = end, end.replace(hour=end.hour + 1)
    w.put("LATEST", ("/" + full).encode())
    return data_paths


def best_of(repeat: int, rows: list[tuple[str, Callable[[], object]]]) -> list[float]:
    best = [float("inf")] * len(rows)
    for _ in range(repeat):
        for i, (_, fn) in enumerate(rows):
            started = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="plaintext MiB of data SSTs in the chain")
    parser.add_argument("--file-mib", type=int, default=16, help="MiB per data SST")
    parser.add_argument("--distinct", type=int, default=2, help="distinct SSTs generated")
    parser.add_argument("--format", default="pebble,v7", help="pebble,v5 | pebble,v6 | pebble,v7")
    parser.add_argument("--incrementals", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2, help="runs per row; the best is kept")
    parser.add_argument("--dir", type=Path, default=None, help="where to write the chain (temp dir)")
    args = parser.parse_args()

    started = time.perf_counter()
    tables = [make_table(args.file_mib, seed, args.format) for seed in range(args.distinct)]
    made = time.perf_counter() - started
    for t in tables:
        check_sst(t)  # the reader accepts what we are about to time
    work = Path(tempfile.mkdtemp(prefix="bench-colcheck-", dir=args.dir))
    try:
        io_dir = work / "io"
        paths = build_chain(io_dir / "c", tables, args.mib, args.incrementals)
        stored_bytes = sum(p.stat().st_size for p in paths)
        plain_mib = sum(len(tables[i % len(tables)]) for i in range(len(paths))) / (1 << 20)
        aead = AESGCM(KEY)

        def raw() -> None:
            for p in paths:
                stored = memoryview(p.read_bytes())
                iv = bytes(stored[8:HEADER_SIZE])
                body = stored[HEADER_SIZE:]
                opened = aead.decrypt
                for i, s in enumerate(range(0, len(body), SEALED_CHUNK_SIZE)):
                    opened(chunk_nonce(iv, i), body[s : s + SEALED_CHUNK_SIZE], None)

        executor = Executor(StorageSettings(external_io_dir=io_dir))
        base_sql = "SHOW BACKUP LATEST IN 'nodelocal://self/c' WITH KMS = 'testkms:///cmk'"

        def show() -> None:
            for s in parse(base_sql):
                executor.run(s)

        parse_time = [0.0]
        calls = [0]
        real_check = engine.formats.sst_pipeline.check_table

        def timed_check(*a, **kw) -> int:  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return real_check(*a, **kw)
            finally:
                parse_time[0] += time.perf_counter() - t0
                calls[0] += 1

        engine.formats.sst_pipeline.check_table = timed_check  # type: ignore[assignment]
        check_runs: list[tuple[float, float]] = []

        def check() -> None:
            parse_time[0] = 0.0
            calls[0] = 0
            t0 = time.perf_counter()
            for s in parse(base_sql + ", CHECK_FILES"):
                result = executor.run(s)
            check_runs.append((time.perf_counter() - t0, parse_time[0]))
            assert calls[0] == len(paths), f"CHECK_FILES checked {calls[0]} of {len(paths)} files"
            assert result.rows

        real_pipelined = engine.reader.check_pipelined

        def no_help(*a, **kw) -> int:  # type: ignore[no-untyped-def]
            reader, scratch, on_batch, shown, pool, options = a
            return real_pipelined(reader, scratch, on_batch, shown, pool,
                                  dataclasses.replace(options, help_scan=False), **kw)

        def check_no_help() -> None:
            engine.reader.check_pipelined = no_help  # type: ignore[assignment]
            try:
                check()
            finally:
                engine.reader.check_pipelined = real_pipelined

        rows = [("raw AES-GCM", raw), ("SHOW BACKUP", show), ("CHECK_FILES", check),
                ("no help_scan", check_no_help)]
        t_raw, t_show, t_check, t_nohelp = best_of(args.repeat, rows)
        engine.formats.sst_pipeline.check_table = real_check
        total, parsing = min(check_runs[i] for i in range(0, len(check_runs), 2))
        print(
            f"{len(paths)} data files, {plain_mib:.0f} MiB plaintext ({stored_bytes / (1 << 20):.0f} MiB "
            f"stored), {table_format(tables[0])}, {args.incrementals + 1} layers; "
            f"{args.distinct} distinct SSTs written in {made:.1f}s; best of {args.repeat}"
        )
        print(f"{'path':<14} {'MiB/s':>8} {'s':>8}")
        print(f"{'raw AES-GCM':<14} {plain_mib / t_raw:8.1f} {t_raw:8.2f}")
        print(f"{'SHOW BACKUP':<14} {'-':>8} {t_show:8.2f}  (no data files read)")
        print(f"{'CHECK_FILES':<14} {plain_mib / t_check:8.1f} {t_check:8.2f}")
        print(f"{'no help_scan':<14} {plain_mib / t_nohelp:8.1f} {t_nohelp:8.2f}")
        print(f"raw / CHECK_FILES = {t_raw / t_check:.3f}  (goal >= 0.5)")
        print(f"raw / no help_scan = {t_raw / t_nohelp:.3f}; help_scan speed-up = {t_nohelp / t_check:.3f}x")
        print(f"SST parsing share of CHECK_FILES = {parsing / total:.1%}; "
              f"everything else (decrypt, reads, manifests) = {1 - parsing / total:.1%}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
