"""The native data-block scanner (engine.formats._blockscan) against the Python checker: every SST
the tests use (Pebble's fixtures, ours, the demo's) and many corrupted copies of each give the
same verdict and the same error text with native on and off, through check_table, on one
thread and on two, with and without a `ready` gate.

Soundness is what matters: a scanner may defer a block Python accepts (only slower), never
accept one Python rejects. The corrupted copies are built to reach the scanner: bytes flipped in
a data block whose checksum is then recomputed (uncompressed tables: the row rules; compressed
ones: libsnappy/libzstd against cramjam), besides plain flips and truncations.

Rules looked up in cockroachdb/pebble at f82e3ff74d10b1f33df146eefc5661518f868542:
sstable/rowblk/rowblk_writer.go (Writer.storeWithOptionalValuePrefix: a restart entry shares no
prefix, restart offsets ascend, the top bit is setHasSameKeyPrefixSinceLastRestart from v3;
Writer.Finish: at least one restart), sstable/rowblk/rowblk_iter.go (Iter.Init: the restart
count in the last 4 bytes; readEntry: shared, unshared, value-length uvarints),
sstable/block/kv.go (v3+ SET value prefix: 0x00 in place), cockroachkvs/cockroachkvs.go
(Compare: the roach key is what the version-length byte leaves; equal roach keys order by
version, which the scanner leaves to Python). The scanner itself copies the Python checker's
rules (engine/formats/sst_reader.py row_block_columns, Table.row_block, sst_check._check_sorted),
which is what these tests hold it to.
"""

from __future__ import annotations

import hashlib
import os
import random
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import crdb_fixtures as fx
from engine.demo import write_demo
from engine.errors import FormatError
from engine.formats import blockscan
from engine.formats.keys import encode_uvarint_ascending, table_prefix
from engine.formats.mvcc import encode_mvcc_key
from engine.formats.sst_check import check_table
from engine.formats.sst_format import BLOCK_TRAILER_LEN, CHECKSUM_XXHASH64, block_checksum
from engine.formats.sst_reader import BYTEWISE_COMPARATOR, CORRUPTION, Table
from engine.formats.sst_writers import write_table
from pebble_testdata import FIXTURES


def verdict(data: bytes | bytearray, native: bool, workers: int = 1) -> tuple[str, object]:
    """What check_sst would say: the entry count, or the error (check_sst's wrapper)."""
    try:
        return "ok", check_table(Table(data, "t.sst"), native=native, workers=workers)
    except FormatError as exc:
        return "error", str(exc)
    except CORRUPTION as exc:
        return "corrupt", type(exc).__name__


# --- the corpus -----------------------------------------------------------------------------


def _mvcc_entries(n: int, versions: int, row_bytes: int, seed: int) -> list[tuple[bytes, bytes]]:
    rng = random.Random(seed)
    out = []
    for pk in range(1, n + 1):
        key = table_prefix(104) + encode_uvarint_ascending(1) + encode_uvarint_ascending(pk)
        for v in range(versions):  # newest first: EngineKeyCompare order
            wall = 1_700_000_000_000_000_000 - v * 1000
            out.append((encode_mvcc_key(key, wall), rng.randbytes(rng.randrange(row_bytes + 1))))
    return out


def _bytewise_entries(n: int, seed: int) -> list[tuple[bytes, bytes]]:
    rng = random.Random(seed)
    keys = {b""} | {rng.randbytes(rng.randrange(1, 24)) for _ in range(n)}
    return [(k, rng.randbytes(rng.randrange(40))) for k in sorted(keys)]


def ours() -> dict[str, bytes]:
    out = {}
    for fmt in ("pebble,v2", "pebble,v4"):
        for compression in ("none", "snappy"):
            tag = f"{fmt[-2:]}-{compression}"
            out[f"ours-mvcc-{tag}"] = write_table(
                _mvcc_entries(300, 1, 60, 1), fmt, compression=compression, block_size=512
            )
            out[f"ours-versions-{tag}"] = write_table(
                _mvcc_entries(120, 3, 30, 2), fmt, compression=compression, block_size=256
            )
            out[f"ours-bytewise-{tag}"] = write_table(
                _bytewise_entries(300, 3), fmt, compression=compression, block_size=300,
                comparer=BYTEWISE_COMPARATOR,
            )  # fmt: skip
            out[f"ours-bigrows-{tag}"] = write_table(
                _mvcc_entries(40, 1, 5000, 4), fmt, compression=compression, block_size=4096
            )
    out["ours-one-row"] = write_table(_mvcc_entries(1, 1, 10, 5), "pebble,v4", compression="none")
    return out


def pebble_fixtures() -> dict[str, bytes]:
    return {
        "pebble-" + p.relative_to(FIXTURES).as_posix(): p.read_bytes()
        for p in sorted(FIXTURES.rglob("*.sst"))
    }


def demo_tables(root: Path) -> dict[str, bytes]:
    """The data SSTs (and slim-manifest SSTs) of seeded demo collections of row-format
    releases, decrypted with the testkms keys of their ENCRYPTION-INFO files."""
    out = {}
    for version in ("23.2", "24.1"):
        d = root / version
        write_demo(d, seed=11, full_backups=1, incrementals=1, crdb_version=version)
        keys = []
        for info in d.rglob("ENCRYPTION-INFO"):
            for entry in fx.field_values(info.read_bytes(), 3):
                fields = dict(fx.parse_fields(entry))
                if fields[1] == hashlib.sha256(b"demo-key").digest():
                    keys.append(fx.testkms_unwrap("demo-key", fields[2]))
        for sst in sorted(d.rglob("*.sst")):
            stored = sst.read_bytes()
            for key in keys:
                try:
                    plain = fx.open_encrypted(key, stored)
                except Exception:  # another backup's key
                    continue
                out[f"demo-{version}-{sst.relative_to(d).as_posix()}"] = plain
                break
    assert out, "the demo wrote no SSTs"
    return out


def xxhash_copy(data: bytes) -> bytes | None:
    """The same row table with xxhash64 block checksums (footer checksum type 3), for tables
    without a footer checksum (Pebble v1-v5, RocksDB v2); None for any other."""
    try:
        t = Table(data, "x")
        if t.version >= 6:
            return None
        handles = {t.footer.metaindex, t.footer.index, *t.meta.values()}
        top = t._index_entries(t.footer.index, "index")
        if t.two_level():
            handles |= {h for _, h in top}
        handles |= {h for _, h in t.data_handles()}
        if t.value_index is not None:
            handles |= set(t.value_blocks())
    except (FormatError, *CORRUPTION):
        return None
    out = bytearray(data)
    for off, length in handles:
        end = off + length
        struct.pack_into("<I", out, end + 1, block_checksum(CHECKSUM_XXHASH64, bytes(out[off : end + 1])))
    out[t.footer.end] = CHECKSUM_XXHASH64
    return bytes(out)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    tables = {**pebble_fixtures(), **ours(), **demo_tables(tmp_path_factory.mktemp("demo"))}
    for name, data in list(tables.items()):
        if name.startswith(("ours-mvcc-v", "ours-bytewise-v", "pebble-sstable/")):
            x = xxhash_copy(data)
            if x is not None:
                tables[name + "-xxhash"] = x
    return tables


# --- mutations ------------------------------------------------------------------------------


def _data_blocks(data: bytes) -> list[tuple[int, int]]:
    try:
        return [h for _, h in Table(data, "m").data_handles()]
    except (FormatError, *CORRUPTION):
        return []


def mutations(data: bytes, seed: int, n: int) -> Iterator[tuple[str, bytes]]:
    """Seeded corruptions: flips inside data blocks with the checksum recomputed (most), flips
    of the restart array and entry headers, plain flips anywhere, truncations."""
    rng = random.Random(seed)
    blocks = _data_blocks(data)
    try:
        kind = Table(data, "m").footer.checksum
    except (FormatError, *CORRUPTION):
        kind = 1
    for i in range(n):
        out = bytearray(data)
        r = rng.random()
        if blocks and r < 0.8:
            off, length = rng.choice(blocks)
            if length == 0:
                continue
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                where = rng.random()
                if where < 0.3:  # the restart array and its count (uncompressed blocks)
                    at = off + length - 1 - min(length - 1, int(rng.expovariate(1 / 12)))
                elif where < 0.5:  # the first entries' headers
                    at = off + min(length - 1, int(rng.expovariate(1 / 6)))
                else:
                    at = off + rng.randrange(length)
                if rng.random() < 0.5:
                    out[at] ^= 1 << rng.randrange(8)
                else:
                    out[at] = rng.randrange(256)
            if rng.random() < 0.03:
                out[off + length] = rng.choice((0, 1, 7, 8, 9))  # the compression indicator
            end = off + length
            struct.pack_into("<I", out, end + 1, block_checksum(kind, bytes(out[off : end + 1])))
            yield f"fixed flip #{i} in block at {off}", bytes(out)
        elif r < 0.95:
            at = rng.randrange(len(out))
            out[at] ^= 1 << rng.randrange(8)
            yield f"flip #{i} at {at}", bytes(out)
        else:
            cut = rng.randrange(len(out))
            yield f"truncated #{i} at {cut}", bytes(out[:cut])


# --- the tests ------------------------------------------------------------------------------


def test_the_extension_is_built_in_ci() -> None:
    """With CI=true the native module must be there: no silent fallback to Python alone."""
    if os.environ.get("CI") == "true":
        assert blockscan.AVAILABLE, "engine.formats._blockscan did not build (gcc, libsnappy-dev, libzstd-dev, libxxhash-dev?)"


def test_every_corpus_table_gives_the_same_verdict(corpus: dict[str, bytes]) -> None:
    for name, data in corpus.items():
        want = verdict(data, native=False)
        assert verdict(data, native=True) == want, name
        assert verdict(data, native=True, workers=2) == want, name


def test_native_accepts_what_it_should(corpus: dict[str, bytes]) -> None:
    """The scanner is not vacuous: every block of our single-version tables, the demo's data
    SSTs and Pebble's bytewise row fixtures passes natively (MVCC versions defer, by design;
    zstd blocks are decoded by Python first, as check_table does)."""
    if not blockscan.AVAILABLE:
        assert os.environ.get("CI") != "true"
        return
    for name, data in corpus.items():
        must = name.startswith(("ours-mvcc", "ours-bytewise", "ours-bigrows", "ours-one-row"))
        must |= name.startswith("demo-") and "/data/" in name
        must |= name.startswith("pebble-sstable/testdata/h")
        if not must:
            continue
        t = Table(data, name)
        handles = [h for _, h in t.data_handles()]
        got = blockscan.scan_blocks(
            t.data, handles, end=t.footer.end, checksum=t.footer.checksum,
            pebble_version=t.version, cockroach=t.comparer_name == "cockroach_comparator",
            columnar=t.columnar,
        )  # fmt: skip
        cockroach = t.comparer_name == "cockroach_comparator"
        for i, (o, n) in enumerate(handles):  # zstd: decoded by Python, scanned natively
            if got[i] is None and t.data[o + n] not in blockscan.NATIVE_DECODES:
                block = t.read_block((o, n), "data")
                got[i] = blockscan.scan_block(
                    block, pebble_version=t.version, cockroach=cockroach, columnar=t.columnar
                )
        assert None not in got, name
        assert sum(s.rows for s in got if s is not None) == check_table(t, native=False), name


@pytest.mark.slow
def test_corrupted_copies_give_the_same_verdict(corpus: dict[str, bytes]) -> None:
    seen: dict[str, int] = {}
    for k, (name, data) in enumerate(sorted(corpus.items())):
        if len(data) > 1 << 20:
            continue
        n = 40 if name.startswith("pebble-") else 150
        for what, bad in mutations(data, seed=k, n=n):
            want = verdict(bad, native=False)
            got = verdict(bad, native=True)
            assert got == want, f"{name}, {what}"
            seen[want[0]] = seen.get(want[0], 0) + 1
    # the copies reach both outcomes: some still pass, most fail with a message
    assert seen.get("ok", 0) > 20 and seen.get("error", 0) > 1000, seen


def test_corrupted_copies_on_two_threads(corpus: dict[str, bytes]) -> None:
    for k, name in enumerate(("ours-mvcc-v2-none", "ours-bytewise-v4-none", "ours-versions-v4-snappy")):
        for what, bad in mutations(corpus[name], seed=1000 + k, n=40):
            assert verdict(bad, native=True, workers=2) == verdict(bad, native=False), f"{name}, {what}"


def _gated(data: bytes) -> tuple[bytearray, list[int], threading.Lock]:
    """A copy of `data` whose data blocks are zeros until ready(end) copies data[:end) in: what
    a caller that decrypts while checking hands check_table."""
    t = Table(data, "g")
    tail = max(o + n + BLOCK_TRAILER_LEN for _, (o, n) in t.data_handles())
    buf = bytearray(data)
    buf[:tail] = bytes(tail)
    return buf, [], threading.Lock()


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("native", [True, False])
def test_ready_gates_every_read_of_the_data_blocks(
    corpus: dict[str, bytes], workers: int, native: bool
) -> None:
    for name in ("ours-mvcc-v2-snappy", "ours-versions-v4-none", "pebble-sstable/testdata/h-no-compression-two-level-index-sst/000003.sst"):
        data = corpus[name]
        buf, ends, lock = _gated(data)
        caller = threading.get_ident()

        def ready(end: int) -> None:
            assert threading.get_ident() == caller  # only ever from check_table's thread
            with lock:
                assert not ends or end >= ends[-1]
                ends.append(end)
                buf[:end] = data[:end]

        table = Table(buf, "t.sst")
        got = check_table(table, ready=ready, workers=workers, native=native)
        assert ("ok", got) == verdict(data, native=False), name
        assert ends and ends[-1] == len(data)
