"""check_table on whole columnar SSTs with the native scanner on and off: the same entry count
or the same error text, on every columnar fixture table and on seeded corrupted copies whose
block checksums are fixed up (so the corrupted bytes reach the decompressor and the scanner
instead of stopping at the checksum). test_native_columnar.py compares single blocks; this
file checks that sst_check's use of the summaries (cross-block checks only) keeps every verdict.
"""

from __future__ import annotations

import random
import struct
from collections import Counter

import pytest

from engine.errors import FormatError
from engine.formats import blockscan
from engine.formats.colblk_write import write_columnar_sst
from engine.formats.sst_check import check_table
from engine.formats.sst_format import BLOCK_TRAILER_LEN, block_checksum
from engine.formats.sst_reader import Table
from formats.pebble_testdata import FIXTURES
from formats.test_native_columnar import (
    _bench_rows,
    _demo_tables,
    _mixed_rows,
    _versions_rows,
    mutate,
)

PEBBLE_CRDB1 = [
    "tool/testdata/cr-schema-sst/000014.sst",
    "tool/testdata/find-val-sep-db/000005.sst",
    "tool/testdata/find-val-sep-db/000008.sst",
    "tool/testdata/find-val-sep-db/000011.sst",
]


@pytest.fixture(scope="module", autouse=True)
def native_built() -> None:
    assert blockscan.AVAILABLE, "engine.formats._blockscan did not build (gcc, libsnappy-dev, ...)"


def verdict(data: bytes, native: bool, workers: int = 1) -> str:
    try:
        table = Table(data, "t.sst")
        return f"ok {check_table(table, workers=workers, native=native)}"
    except FormatError as exc:
        return f"error {exc}"


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = {name: (FIXTURES / name).read_bytes() for name in PEBBLE_CRDB1}
    demo = dict(_demo_tables(tmp_path_factory.mktemp("demo") / "coll"))
    for name in sorted(demo)[:6]:  # a few of the demo's data files (of every layer kind)
        if Table(demo[name], name).columnar:
            out[name] = demo[name]
    assert any(name.startswith("demo/") for name in out)
    for fmt in ("pebble,v5", "pebble,v6", "pebble,v7"):
        out[f"bench-{fmt}"] = write_columnar_sst(_bench_rows(800, 1), table_format=fmt)
        out[f"mixed-{fmt}"] = write_columnar_sst(
            _mixed_rows(1200, 2), table_format=fmt, block_size=4096, compression="none"
        )
    out["versions"] = write_columnar_sst(_versions_rows(300), block_size=1024, compression="none")
    for fmt in ("pebble,v5", "pebble,v7"):  # revision history: MVCC versions of one roach key
        out[f"versions-{fmt}"] = write_columnar_sst(
            _versions_rows(1500), table_format=fmt, block_size=2048, compression="none"
        )
    out["versions-snappy"] = write_columnar_sst(_versions_rows(2000), block_size=4096)
    out["two-level"] = write_columnar_sst(
        _mixed_rows(2000, 4), block_size=1024, index_block_size=512, compression="none"
    )
    return out


def test_every_table_same_verdict_native_on_and_off(tables: dict[str, bytes]) -> None:
    for name, data in tables.items():
        plain = verdict(data, native=False)
        # find-val-sep-db's values are in blob files: an error, which must stay the same
        assert plain.startswith("ok") or "find-val-sep-db" in name, (name, plain)
        assert verdict(data, native=True) == plain, name
        assert verdict(data, native=True, workers=2) == plain, name


def _data_blocks(data: bytes) -> list[tuple[int, int]]:
    return [h for _, h in Table(data, "t").data_handles()]


def corrupt(rng: random.Random, data: bytes, fix_checksum: bool = True) -> bytes:
    """One data block changed in place (same stored length), its checksum recomputed. An
    uncompressed block gets test_native_columnar.mutate's corruptions that keep its length;
    a compressed one a few changed bytes, which the decompressor then sees."""
    t = Table(data, "t")
    off, n = rng.choice(_data_blocks(data))
    buf = bytearray(data)
    if buf[off + n] == 0:  # uncompressed
        block = bytes(buf[off : off + n])
        for _ in range(20):
            new = mutate(rng, block)
            if len(new) == n:
                break
        else:
            new = block
        buf[off : off + n] = new
    else:
        for _ in range(rng.randint(1, 3)):
            i = off + rng.randrange(n)
            buf[i] = rng.randrange(256)
    if fix_checksum:
        typed = bytes(buf[off : off + n + 1])
        struct.pack_into("<I", buf, off + n + 1, block_checksum(t.footer.checksum, typed))
    assert BLOCK_TRAILER_LEN == 5
    return bytes(buf)


@pytest.mark.parametrize("seed", range(3))
def test_corrupted_tables_same_verdict_native_on_and_off(
    tables: dict[str, bytes], seed: int
) -> None:
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    names = sorted(tables)
    for _ in range(300):
        name = rng.choice(names)
        bad = corrupt(rng, tables[name], fix_checksum=rng.random() < 0.95)
        plain = verdict(bad, native=False)
        assert verdict(bad, native=True) == plain, name
        outcomes[plain.split(" ")[0]] += 1
    assert outcomes["error"] > 50 and outcomes["ok"] > 20, outcomes


def test_corrupted_tables_same_verdict_with_two_workers(tables: dict[str, bytes]) -> None:
    rng = random.Random(99)
    for _ in range(80):
        name = rng.choice(sorted(tables))
        bad = corrupt(rng, tables[name])
        assert verdict(bad, native=True, workers=2) == verdict(bad, native=False), name


def test_versioned_tables_are_native_and_keep_their_verdicts(tables: dict[str, bytes]) -> None:
    """Revision-history tables (several MVCC versions per roach key): every data block is the
    native scanner's now, the count the same; seeded corruptions of them keep the verdict."""
    versioned = sorted(name for name in tables if name.startswith("versions"))
    for name in versioned:
        t = Table(tables[name], name)
        summaries = blockscan.scan_blocks(
            t.data, _data_blocks(tables[name]), end=t.footer.end, checksum=t.footer.checksum,
            pebble_version=t.version, cockroach=True, columnar=True,
        )  # fmt: skip
        assert all(s is not None for s in summaries), name
        assert verdict(tables[name], native=True) == verdict(tables[name], native=False), name
    rng = random.Random(7)
    outcomes: Counter[str] = Counter()
    for _ in range(400):
        name = rng.choice(versioned)
        bad = corrupt(rng, tables[name], fix_checksum=rng.random() < 0.95)
        plain = verdict(bad, native=False)
        assert verdict(bad, native=True) == plain, name
        outcomes[plain.split(" ")[0]] += 1
    assert outcomes["error"] > 50 and outcomes["ok"] > 20, outcomes
