"""The native crdb1 columnar scanner (engine/formats/native/columns.c, scan_colblk_crdb1) against
the Python path it accelerates, through the module's entry point (engine.formats.blockscan).

Two properties, on real blocks (Pebble's own SSTs, our writer's, the demo's) and thousands of
seeded corrupted copies of them:
- sound: whenever native returns a summary, Python's decode (colblk.blocks.decode_data_block)
  and the per-block rules of sst_check._check_columnar accept the same bytes, and the summary is
  exactly theirs (rows, first/last user keys of DataBlock.key_at, trailers as stored);
- fast: native accepts every unmodified block that Python accepts under the cockroach comparer
  without external values: distinct increasing roach keys (the fast path) and MVCC versions of
  one roach key (revision history, the slow path), so CHECK_FILES does not fall back to
  Python for either.

The scanner mirrors the Python decoders rule for rule; those cite the Pebble layouts, which were
checked again for this scanner in cockroachdb/pebble at f82e3ff74d10b1f33df146eefc5661518f868542
(the commit tests/formats/pebble_testdata.py pins):
- header, column pages:    sstable/colblk/block.go DecodeHeader, DecodeColumn
- uints (delta base, width, alignment): sstable/colblk/uints.go, unsafe_uints.go
- bitmaps (0 = words + summary words, 1 = all zero): sstable/colblk/bitmap.go DecodeBitmap
- raw bytes (offsets, data): sstable/colblk/raw_bytes.go DecodeRawBytes
- prefix bytes (bundles, an empty suffix repeats the row before): sstable/colblk/prefix_bytes.go
  DecodePrefixBytes, PrefixBytes.rowSuffixOffsets
- the data block's columns: sstable/colblk/data_block.go DataBlockDecoder.Init; per-block order,
  obsolete and prefix-changed rules: DataBlockValidator.Validate
- crdb1 key schema, user key materialized: cockroachkvs/cockroachkvs.go (KeySchema,
  cockroachKeySeeker.MaterializeUserKey)
"""

from __future__ import annotations

import operator
import random
import struct
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

import crdb_fixtures as fx
from engine.demo import write_demo
from engine.formats import blockscan
from engine.formats.colblk.blocks import CRDB1_SCHEMA, decode_data_block
from engine.formats.colblk.columns import ColumnError
from engine.formats.colblk_write import write_columnar_sst
from engine.formats.colblk_write.blocks import CockroachKeyWriter, DataBlockEncoder
from engine.formats.keys import encode_uvarint_ascending, table_prefix
from engine.formats.mvcc import encode_mvcc_key, engine_compare
from engine.formats.sst_format import CHECKSUM_CRC32C, block_checksum
from engine.formats.sst_reader import COCKROACH_COMPARATOR, POINT_SETS, Table
from formats.pebble_testdata import FIXTURES
from formats.test_pebble_colblk import crdb_block_cases

Verdict = tuple[int, bytes, int, bytes, int] | str


@pytest.fixture(scope="module", autouse=True)
def native_built() -> None:
    assert blockscan.AVAILABLE, "engine.formats._blockscan did not build (gcc, libsnappy-dev, ...)"


def python_verdict(block: bytes, cockroach: bool = True) -> Verdict:
    """What today's Python path makes of one decompressed crdb1 data block: the summary when it
    accepts the block, else why not ("reject", "external": values stored elsewhere,
    "comparer": not the cockroach comparer). The rules are sst_reader.Table.column_block (the
    exceptions it turns into FormatError) and the per-block part of sst_check._check_columnar
    (its fast and its slow case), in its order."""
    try:
        blk = decode_data_block(block, CRDB1_SCHEMA)
    except (ColumnError, struct.error, IndexError):
        return "reject"
    n = blk.rows
    if not {t & 0xFF for t in blk.trailers} <= POINT_SETS:
        return "reject"
    prefixes = blk.prefixes
    distinct = list(map(operator.ne, prefixes, prefixes[1:]))
    if all(distinct):
        expected = (1 << n) - 1
    else:
        expected = 1 | sum(1 << (i + 1) for i, d in enumerate(distinct) if d)
    if (blk.prefix_changed | 1) != expected:
        return "reject"
    if not cockroach:
        return "comparer"  # the comparer runs on materialized keys
    if not all(distinct):  # MVCC versions of one key: the comparer decides, per row
        try:  # user_keys materializes every row (struct.pack, bytes([n]) may raise)
            keys = blk.user_keys()
        except (struct.error, ValueError):
            return "reject"
        for i in range(1, n):
            c = engine_compare(keys[i - 1], keys[i])
            if c > 0 or (c == 0 and blk.trailers[i - 1] <= blk.trailers[i]):
                return "reject"
            if c == 0 and not blk.obsolete >> i & 1:
                return "reject"
        if blk.external:
            return "external"
        return (n, keys[0], blk.trailers[0], keys[-1], blk.trailers[-1])
    if not all(map(operator.lt, prefixes, prefixes[1:])):
        return "reject"
    if blk.external:
        return "external"
    try:  # sst_check materializes the first and last keys (struct.pack, bytes([n]) may raise)
        return (n, blk.key_at(0), blk.trailers[0], blk.key_at(n - 1), blk.trailers[-1])
    except (struct.error, ValueError):
        return "reject"


def scan_table(t: Table) -> list[blockscan.Summary | None]:
    return blockscan.scan_blocks(
        t.data, [h for _, h in t.data_handles()], end=t.footer.end, checksum=t.footer.checksum,
        pebble_version=t.version, cockroach=t.comparer_name == COCKROACH_COMPARATOR,
        columnar=True,
    )  # fmt: skip


def scan_raw(blocks: list[bytes]) -> list[blockscan.Summary | None]:
    """Decompressed blocks framed as uncompressed table blocks (type byte 0, CRC-32C) in one
    buffer, scanned in one batch."""
    data = bytearray()
    handles = []
    for b in blocks:
        handles.append((len(data), len(b)))
        typed = b + b"\x00"
        data += typed + struct.pack("<I", block_checksum(CHECKSUM_CRC32C, typed))
    return blockscan.scan_blocks(
        bytes(data), handles, end=len(data), checksum=CHECKSUM_CRC32C, pebble_version=7,
        cockroach=True, columnar=True,
    )  # fmt: skip


# --- the tables ---------------------------------------------------------------------------------


def _pk(table: int, i: int) -> bytes:
    return table_prefix(table) + encode_uvarint_ascending(1) + encode_uvarint_ascending(i) + b"\x88"


def _bench_rows(n: int, seed: int) -> list[tuple[bytes, bytes]]:
    """tests/bench/bench_check_columnar.py's rows: wall-time MVCC keys, ~120-byte values."""
    rng = random.Random(seed)
    return [
        (encode_mvcc_key(_pk(106, i), 1_700_000_000_000_000_000 + i * 1000, 0),
         rng.randbytes(60) + b"row %08d " % i * 5)
        for i in range(n)
    ]  # fmt: skip


def _mixed_rows(n: int, seed: int) -> list[tuple[bytes, bytes]]:
    """Every crdb1 version shape: wall, wall + logical, none, 16-byte untyped (lock table)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        pk = _pk(110, i * 7)
        shape = i % 4
        if shape == 0:
            key = encode_mvcc_key(pk, 1_700_000_000_000_000_000 + i, 0)
        elif shape == 1:
            key = encode_mvcc_key(pk, 1_700_000_000_000_000_000 + i, 5 + i)
        elif shape == 2:
            key = pk + b"\x00"
        else:
            key = pk + b"\x00" + rng.randbytes(16) + bytes([17])
        rows.append((key, rng.randbytes(rng.randint(0, 50))))
    return rows


def _versions_rows(n: int) -> list[tuple[bytes, bytes]]:
    """Revision history: several MVCC versions per roach key (1 to 5), newest first, in every
    encoding a writer produces: a bare key (empty version, first), wall only, wall + logical,
    wall + logical with the legacy synthetic byte (the writer drops it). sst_check's slow
    case: the comparer per row on the versions."""
    rng = random.Random(n)
    rows: list[tuple[bytes, bytes]] = []
    k = 0
    while len(rows) < n:
        pk = _pk(112, k)
        k += 1
        if k % 7 == 0:
            rows.append((pk + b"\x00", b"bare %d" % k))
        wall = 1_700_000_000_000_000_000 + k * 1000
        for v in range(rng.randint(1, 5)):
            w = wall - v * 10
            shape = rng.randrange(4)
            if shape == 0:
                key = encode_mvcc_key(pk, w, 0)
            elif shape == 1:
                key = encode_mvcc_key(pk, w, 1 + rng.randrange(2**31 - 1))
            elif shape == 2:
                key = pk + b"\x00" + struct.pack(">QI", w, 3) + b"\x01\x0e"  # synthetic bit
            else:
                key = encode_mvcc_key(pk, w, 2**31 - 1)
            rows.append((key, rng.randbytes(rng.randint(0, 40))))
    return rows[:n]


def _demo_tables(root: Path) -> Iterator[tuple[str, bytes]]:
    write_demo(root, seed=7)
    keys = []
    for info in root.glob("*/*/*/ENCRYPTION-INFO"):
        for entry in fx.field_values(info.read_bytes(), 3):
            wrapped = dict(fx.parse_fields(entry))[2]
            assert isinstance(wrapped, bytes)
            keys.append(fx.testkms_unwrap("demo-key", wrapped))
    for path in sorted(root.rglob("*.sst")):
        stored = path.read_bytes()
        for key in keys:
            try:
                yield f"demo/{path.relative_to(root)}", fx.open_encrypted(key, stored)
                break
            except InvalidTag:  # another chain's key
                continue


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Table]:
    out: dict[str, Table] = {}
    for path in sorted(FIXTURES.rglob("*.sst")):
        try:
            t = Table(path.read_bytes(), str(path.relative_to(FIXTURES)))
        except Exception:  # noqa: BLE001 - bad-magic-sst, corrupted-sst: not tables to scan
            continue
        if t.columnar and t.schema == CRDB1_SCHEMA:
            out["pebble/" + t.name] = t
    for fmt in ("pebble,v5", "pebble,v6", "pebble,v7"):
        v = fmt[-1]
        out[f"writer/bench-v{v}"] = Table(write_columnar_sst(_bench_rows(1500, 1), table_format=fmt), v)
        out[f"writer/mixed-v{v}"] = Table(
            write_columnar_sst(_mixed_rows(3000, 2), table_format=fmt, block_size=4096,
                               compression="none"), v)  # fmt: skip
    out["writer/versions"] = Table(write_columnar_sst(_versions_rows(600), block_size=2048), "vers")
    out["writer/versions-v5"] = Table(
        write_columnar_sst(_versions_rows(900), table_format="pebble,v5", block_size=1024,
                           compression="none"), "vers5")  # fmt: skip
    for name, data in _demo_tables(tmp_path_factory.mktemp("demo") / "coll"):
        t = Table(data, name)
        if t.columnar and t.schema == CRDB1_SCHEMA:
            out[name] = t
    assert "pebble/tool/testdata/cr-schema-sst/000014.sst" in out
    assert any(name.startswith("demo/") for name in out), "the demo writes no columnar SSTs"
    return out


def _blocks(t: Table) -> list[bytes]:
    return [bytes(t.read_block(h, "data")) for _, h in t.data_handles()]


# --- fixtures as they are -----------------------------------------------------------------------


def test_every_block_of_every_fixture_matches_python(tables: dict[str, Table]) -> None:
    accepted: Counter[str] = Counter()
    for name, t in tables.items():
        cockroach = t.comparer_name == COCKROACH_COMPARATOR
        for i, (block, got) in enumerate(zip(_blocks(t), scan_table(t), strict=True)):
            want = python_verdict(block, cockroach)
            if isinstance(want, tuple):
                assert got == tuple(want), (name, i)
                accepted[name] += 1
            else:
                assert got is None, (name, i, want)
    # the common case is native: every block of our writer's and the demo's tables
    for name, t in tables.items():
        if name.startswith(("writer/bench", "writer/mixed", "demo/")):
            assert accepted[name] == len(_blocks(t)), name
    # revision history (MVCC versions of one roach key): native too, every block
    assert accepted["writer/versions"] == len(_blocks(tables["writer/versions"])) > 3
    # Pebble's cr-schema-sst: one-row blocks, some of them with values in value blocks (defer)
    assert 0 < accepted["pebble/tool/testdata/cr-schema-sst/000014.sst"] < 20


def test_pebbles_block_encoding_dump_defers() -> None:
    """cockroachkvs/testdata/block_encoding: Pebble's own crdb1 block (a lock-table version,
    logical and bare keys, MVCC versions of one roach key): Python's slow path rejects it, so
    native's None."""
    (block, _), = crdb_block_cases()
    # repeated user keys (foo@0 three times) without the obsolete bit: sst_check rejects them
    assert python_verdict(block) == "reject"
    assert scan_raw([block]) == [None]


def test_fixture_tables_exercise_every_key_shape(tables: dict[str, Table]) -> None:
    """The fixtures above reach every branch of the key materialization and bundles > 1."""
    shapes = set()
    for name, t in tables.items():
        for s in scan_table(t):
            if s is None:
                continue
            for key in (s[1], s[3]):  # (rows, first key, trailer, last key, trailer)
                shapes.add(0 if key[-1] == 0 else key[-1])
    assert shapes >= {0, 9, 13, 17}
    assert max(s[0] for s in scan_table(tables["writer/bench-v7"]) if s) > 64


def test_bytewise_comparer_defers() -> None:
    rows = _bench_rows(50, 3)
    t = Table(write_columnar_sst(rows, compression="none"), "t")
    block = _blocks(t)[0]
    assert python_verdict(block) != "reject" and scan_raw([block])[0] is not None
    got = blockscan.scan_blocks(
        t.data, [h for _, h in t.data_handles()], end=t.footer.end, checksum=t.footer.checksum,
        pebble_version=t.version, cockroach=False, columnar=True,
    )  # fmt: skip
    assert got == [None]


def test_two_threads_scan_at_once(tables: dict[str, Table]) -> None:
    t = tables["writer/mixed-v7"]
    want = scan_table(t)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: scan_table(t), range(40)))
    assert all(r == want for r in results)


# --- corrupted copies ---------------------------------------------------------------------------


def _column_starts(block: bytes) -> list[int]:
    return [struct.unpack_from("<I", block, 12 + 5 * c + 1)[0] for c in range(9)]


def mutate(rng: random.Random, block: bytes) -> bytes:
    """One seeded corruption: bit flips, a byte set anywhere / in the header / at the start of a
    column (encodings, delta bases, widths), a column start or the row count nudged, a
    truncation, an inserted byte, a byte copied from elsewhere in the block."""
    b = bytearray(block)
    how = rng.randrange(9)
    if how == 0:
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
    elif how == 1:
        b[rng.randrange(len(b))] = rng.randrange(256)
    elif how == 2:
        b[rng.randrange(min(len(b), 57))] = rng.randrange(256)
    elif how == 3 and len(b) > 57:
        start = _column_starts(block)[rng.randrange(9)]
        i = min(start + rng.randrange(12), len(b) - 1)
        b[i] = rng.choice((0, 1, 2, 4, 8, 0x80, 0x81, 0x82, 0x84, 0x88, rng.randrange(256)))
    elif how == 4 and len(b) > 57:
        c = rng.randrange(9)
        at = 12 + 5 * c + 1
        start = struct.unpack_from("<I", b, at)[0]
        struct.pack_into("<I", b, at, max(0, start + rng.randint(-9, 9)))
    elif how == 5 and len(b) >= 12:
        rows = struct.unpack_from("<I", b, 8)[0]
        struct.pack_into("<I", b, 8, max(0, rows + rng.choice((-65, -2, -1, 1, 2, 64))))
    elif how == 6:
        b = b[: rng.randrange(len(b))]
    elif how == 7:
        b.insert(rng.randrange(len(b) + 1), rng.randrange(256))
    else:
        i, j = rng.randrange(len(b)), rng.randrange(len(b))
        b[i] = b[j]
    return bytes(b)


@pytest.mark.parametrize("seed", range(4))
def test_corrupted_blocks_are_accepted_only_when_python_accepts(
    tables: dict[str, Table], seed: int
) -> None:
    pool = [
        block
        for name, t in tables.items()
        if not name.startswith("writer/bench")  # 32 KiB blocks: slow for Python, nothing new
        for block in _blocks(t)
    ] + [block for block, _ in crdb_block_cases()]
    rng = random.Random(seed)
    blocks = [mutate(rng, rng.choice(pool)) for _ in range(2500)]
    outcomes: Counter[tuple[str, bool]] = Counter()
    for block, got in zip(blocks, scan_raw(blocks), strict=True):
        want = python_verdict(block)
        if got is not None:
            assert isinstance(want, tuple), f"native accepts a block Python gives {want!r}: {block.hex()}"
            assert got == tuple(want)
        outcomes[("ok" if isinstance(want, tuple) else want, got is not None)] += 1
    # both verdicts occur, and a corrupted block Python accepts is still native's
    assert outcomes[("reject", False)] > 500
    assert outcomes[("ok", True)] > 500
    assert outcomes[("ok", False)] == 0, outcomes


def test_truncations_of_a_big_block(tables: dict[str, Table]) -> None:
    """Every truncation point in the header and around each column start of a 32 KiB block."""
    block = _blocks(tables["writer/bench-v7"])[0]
    cuts = set(range(0, 80))
    for s in _column_starts(block):
        cuts |= set(range(max(0, s - 3), min(len(block), s + 20)))
    cuts |= set(range(len(block) - 40, len(block) + 1))
    blocks = [block[:n] for n in sorted(cuts)]
    for b, got in zip(blocks, scan_raw(blocks), strict=True):
        want = python_verdict(b)
        assert (got is None) if not isinstance(want, tuple) else got == tuple(want)
    assert scan_raw([block])[0] is not None


# --- crafted blocks: the rules random corruption rarely reaches --------------------------------


class _PartsWriter(CockroachKeyWriter):
    """crdb1 key columns written from explicit parts (roach key, wall, logical, untyped), so a
    test can store what no valid engine key encodes (a logical time >= 2^32, a 255-byte
    untyped version, a wall time and an untyped version on one row)."""

    parts: list[tuple[bytes, int, int, bytes]]

    def write_key(self, row: int, key: bytes, prefix_len: int) -> None:
        roach, wall, logical, untyped = self.parts[row]
        self.roach_keys.put(roach)
        self.wall_times.set(row, wall)
        if logical:
            self.logical_times.set(row, logical)
        self.untyped.put(untyped)


Row = tuple[bytes, int, int, bytes]


def crafted(
    parts: list[Row],
    trailers: list[int] | None = None,
    external: int = 0,
    changed: list[bool] | None = None,
    obsolete: int = 0,
) -> bytes:
    writer = _PartsWriter()
    enc = DataBlockEncoder(writer)
    writer.parts = parts
    for i, (roach, *_) in enumerate(parts):
        same = (i > 0 and parts[i - 1][0] == roach) if changed is None else not changed[i]
        trailer = trailers[i] if trailers else (len(parts) - i) << 8 | 1
        enc.add(
            b"k\x00", trailer, b"v%d" % i, external=bool(external >> i & 1), prefix_equal=same,
            obsolete=bool(obsolete >> i & 1),
        )  # fmt: skip
    return enc.finish(len(parts))[0]


def _rows(n: int, wall: int = 1_700_000_000_000_000_000) -> list[Row]:
    return [(b"/Table/%06d" % i, wall + i, 0, b"") for i in range(n)]


def _check(block: bytes) -> Verdict:
    want = python_verdict(block)
    got = scan_raw([block])[0]
    assert got == (tuple(want) if isinstance(want, tuple) else None), want
    return want


@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 63, 64, 65, 129, 4097])
def test_row_counts_across_bundles_and_bitmap_words(n: int) -> None:
    assert isinstance(_check(crafted(_rows(n))), tuple)


def test_version_shapes_of_the_first_and_last_keys() -> None:
    r = b"/Table/1"
    for first, want_tail in [
        ((r, 0, 0, b""), b"\x00"),
        ((r, 5, 0, b"\xaa"), b"\x00" + struct.pack(">Q", 5) + b"\x09"),  # untyped ignored
        ((r, 0, 7, b""), b"\x00" + struct.pack(">QI", 0, 7) + b"\x0d"),
        ((r, 2**64 - 1, 2**32 - 1, b""), b"\x00" + struct.pack(">QI", 2**64 - 1, 2**32 - 1) + b"\x0d"),
        ((r, 0, 0, b"x" * 16), b"\x00" + b"x" * 16 + b"\x11"),
        ((r, 0, 0, b"y" * 254), b"\x00" + b"y" * 254 + b"\xff"),
    ]:
        v = _check(crafted([first, (b"/Table/2", 1, 0, b"")]))
        assert isinstance(v, tuple) and v[1] == r + want_tail
        v = _check(crafted([(b"/Table/0", 1, 0, b""), first]))
        assert isinstance(v, tuple) and v[3] == r + want_tail


def test_what_python_cannot_materialize_defers_only_at_the_ends() -> None:
    big_logical = (b"/Table/1", 1, 2**32, b"")
    long_untyped = (b"/Table/1", 0, 0, b"z" * 255)
    for bad in (big_logical, long_untyped):
        assert _check(crafted([bad, (b"/Table/2", 1, 0, b"")])) == "reject"
        assert _check(crafted([(b"/Table/0", 1, 0, b""), bad])) == "reject"
        middle = crafted([(b"/Table/0", 1, 0, b""), bad, (b"/Table/2", 1, 0, b"")])
        assert isinstance(_check(middle), tuple)  # key_at never runs on a middle row


# --- MVCC versions of one roach key (sst_check's slow case) -----------------------------------
#
# The version order is CockroachDB's EngineKeyCompare (pkg/storage/engine_key.go,
# EngineKeyCompare and normalizeEngineKeyVersionForCompare) as engine/formats/mvcc.py
# engine_compare implements it; Pebble's per-block rule for repeated user keys (smaller trailer,
# the obsolete bit) is sstable/colblk/data_block.go DataBlockValidator.Validate.

_W = 1_700_000_000_000_000_000


def _vers(*versions: tuple[int, int, bytes], roach: bytes = b"/Table/5") -> list[Row]:
    return [(b"/Table/4", _W, 0, b"")] + [(roach, w, lg, u) for w, lg, u in versions] + [
        (b"/Table/6", _W, 0, b"")
    ]


def test_versions_of_every_encoding_newest_first_are_native() -> None:
    synthetic = struct.pack(">QI", _W - 3, 9) + b"\x01"  # a 14-byte version: the byte dropped
    zero_logical = struct.pack(">QI", _W - 4, 0)  # 13 bytes, a zero logical part: as wall only
    for versions in [
        [(0, 0, b""), (_W, 5, b""), (_W, 0, b""), (_W - 1, 0, b"")],  # empty first, then newest
        [(_W, 2**32 - 1, b""), (_W, 1, b""), (0, 0, synthetic), (_W - 3, 8, b"")],
        [(0, 0, zero_logical), (_W - 5, 0, b"")],
        [(0, 0, b"\xff" * 16), (_W, 0, b""), (0, 0, b"\x01" * 16)],  # untyped: bytewise
        [(1, 0, b"")],
    ]:
        v = _check(crafted(_vers(*versions)))
        assert isinstance(v, tuple) and v[0] == len(versions) + 2, versions
    # many versions of one key, across bundles of 16 (the writer's) and bitmap words
    many = _vers(*[(_W - i, i % 3, b"") for i in range(150)])
    assert isinstance(_check(crafted(many)), tuple)
    only = [(b"/k", _W - i, 0, b"") for i in range(40)]  # every row one roach key
    v = _check(crafted(only))
    assert isinstance(v, tuple) and v[1] == b"/k\x00" + struct.pack(">Q", _W) + b"\x09"


def test_versions_out_of_order_defer() -> None:
    for versions in [
        [(_W, 0, b""), (_W + 1, 0, b"")],  # older first
        [(_W, 0, b""), (0, 0, b"")],  # the empty version after a timestamp
        [(_W, 1, b""), (_W, 2, b"")],
        [(_W, 0, b""), (_W, 1, b"")],  # a zero logical part is the older
        [(0, 0, b"\x01" * 16), (0, 0, b"\xff" * 16)],
        [(_W, 3, b""), (0, 0, struct.pack(">QI", _W, 4) + b"\x01")],
    ]:
        assert _check(crafted(_vers(*versions))) == "reject", versions


def test_equal_user_keys_need_a_smaller_trailer_and_the_obsolete_bit() -> None:
    synthetic = struct.pack(">QI", _W, 7) + b"\x01"
    zero_logical = struct.pack(">QI", _W, 0)
    for a, b in [
        ((_W, 0, b""), (_W, 0, b"")),
        ((_W, 7, b""), (0, 0, synthetic)),  # equal after normalization
        ((0, 0, zero_logical), (_W, 0, b"")),
        ((0, 0, b""), (0, 0, b"")),
        ((0, 0, b"\x07" * 16), (0, 0, b"\x07" * 16)),
    ]:
        rows = _vers(a, b)
        down = [(9 - i) << 8 | 1 for i in range(4)]
        assert isinstance(_check(crafted(rows, down, obsolete=1 << 2)), tuple), (a, b)
        assert _check(crafted(rows, down)) == "reject"  # not obsolete
        assert _check(crafted(rows, down, obsolete=1 << 1)) == "reject"  # the wrong row
        same = down[:2] + [down[1]] + down[3:]
        assert _check(crafted(rows, same, obsolete=1 << 2)) == "reject"  # trailer not smaller
        up = down[:2] + [down[1] + 256] + down[3:]
        assert _check(crafted(rows, up, obsolete=1 << 2)) == "reject"


def test_versions_need_every_row_materializable() -> None:
    """The slow case runs user_keys(): any row Python cannot pack defers, middle rows too."""
    for bad in [(b"/Table/7", 1, 2**32, b""), (b"/Table/7", 0, 0, b"z" * 255)]:
        rows = _vers((_W, 0, b""), (_W - 1, 0, b""))
        rows.insert(4, bad)
        rows.append((b"/Table/8", 1, 0, b""))
        assert _check(crafted(rows)) == "reject"
        rows = _vers((_W, 0, b""))  # no repeat: key_at only at the ends, as before
        rows.insert(3, bad)
        rows.append((b"/Table/8", 1, 0, b""))
        assert isinstance(_check(crafted(rows)), tuple)


def test_prefix_changed_bits_with_versions() -> None:
    rows = _vers((_W, 0, b""), (_W - 1, 0, b""), (_W - 2, 0, b""))
    n = len(rows)
    right = [i == 0 or rows[i - 1][0] != rows[i][0] for i in range(n)]
    assert isinstance(_check(crafted(rows, changed=right)), tuple)
    for flip in range(1, n):
        wrong = list(right)
        wrong[flip] = not wrong[flip]
        assert _check(crafted(rows, changed=wrong)) == "reject", flip


def _version_blocks(tables: dict[str, Table]) -> list[bytes]:
    pool = [
        b for name, t in tables.items() if name.startswith("writer/versions") for b in _blocks(t)
    ]
    pool += [crafted(_vers(*[(_W - i, i % 3, b"") for i in range(70)]))]
    eq = _vers((_W, 0, b""), (_W, 0, b""), (0, 0, b""))
    eq[1], eq[2], eq[3] = eq[3], eq[1], eq[2]  # empty version first, then two equal keys
    pool += [crafted(eq, [(9 - i) << 8 | 1 for i in range(5)], obsolete=1 << 3)]
    assert all(isinstance(python_verdict(b), tuple) for b in pool)
    return pool


@pytest.mark.parametrize("seed", range(3))
def test_corrupted_version_blocks_are_accepted_only_when_python_accepts(
    tables: dict[str, Table], seed: int
) -> None:
    pool = _version_blocks(tables)
    rng = random.Random(100 + seed)
    blocks = [mutate(rng, rng.choice(pool)) for _ in range(2000)]
    outcomes: Counter[tuple[str, bool]] = Counter()
    for block, got in zip(blocks, scan_raw(blocks), strict=True):
        want = python_verdict(block)
        if got is not None:
            assert isinstance(want, tuple), f"native accepts, Python gives {want!r}: {block.hex()}"
            assert got == tuple(want)
        outcomes[("ok" if isinstance(want, tuple) else want, got is not None)] += 1
    assert outcomes[("reject", False)] > 400, outcomes
    assert outcomes[("ok", True)] > 300, outcomes
    assert outcomes[("ok", False)] == 0, outcomes


@pytest.mark.parametrize("kind", [0, 2, 7, 15, 0x41, 0x52, 23])
def test_trailer_kinds_other_than_set_defer(kind: int) -> None:
    trailers = [(9 << 8) | 1, (8 << 8) | kind, (7 << 8) | 18]
    assert _check(crafted(_rows(3), trailers)) == "reject"
    same = crafted(_rows(100), [(9 << 8) | kind] * 100)  # one value: a delta base, no values
    assert same[_column_starts(same)[4]] == 0x80
    assert _check(same) == "reject"


def test_setwithdel_and_huge_trailers_pass() -> None:
    trailers = [(2**56 - 1) << 8 | 18, 5 << 8 | 1, 0 << 8 | 18]
    v = _check(crafted(_rows(3), trailers))
    assert isinstance(v, tuple) and (v[2], v[4]) == (trailers[0], trailers[2])


def test_external_value_defers() -> None:
    assert _check(crafted(_rows(40), external=1 << 33)) == "external"


def test_prefix_changed_bits_must_match_the_keys() -> None:
    rows = _rows(70)
    assert isinstance(_check(crafted(rows, changed=[i != 5 for i in range(70)])), tuple) is False
    assert isinstance(_check(crafted(rows, changed=[i != 0 for i in range(70)])), tuple)  # bit 0 free
    assert _check(crafted(rows, changed=[i != 66 for i in range(70)])) == "reject"


def test_repeated_and_unordered_roach_keys() -> None:
    versions = [(b"/a", 3, 0, b""), (b"/a", 2, 0, b""), (b"/b", 1, 0, b"")]
    assert isinstance(_check(crafted(versions)), tuple)  # MVCC versions: native since ncolver
    ordered = crafted([(b"/a\xf1", 1, 0, b""), (b"/a\xf2", 1, 0, b"")])
    assert ordered.count(b"\xf2") == 1  # the writer refuses unordered keys: swap one in
    assert _check(ordered.replace(b"\xf2", b"\xf0")) == "reject"
    assert _check(ordered.replace(b"\xf2", b"\xf1")) == "reject"  # equal, bit says changed
    # a key that is a prefix of the next sorts first, across and within bundles
    within = [(b"/a" + b"x" * i, 1, 0, b"") for i in range(40)]
    assert isinstance(_check(crafted(within)), tuple)
    empty_first = [(b"", 1, 0, b""), (b"\x00", 1, 0, b"")]
    assert isinstance(_check(crafted(empty_first)), tuple)


def test_bundle_size_byte() -> None:
    """prefix_bytes.go: a log2 bundle size byte; Python refuses sizes past 2^16."""
    block = bytearray(crafted(_rows(40)))
    start = _column_starts(bytes(block))[0]
    assert block[start] == 4  # bundles of 16
    verdicts = {}
    for shift in [*range(0, 70), 255]:
        block[start] = shift
        verdicts[shift] = _check(bytes(block))
    assert isinstance(verdicts[4], tuple)
    assert all(verdicts[s] == "reject" for s in verdicts if s > 16)
    assert isinstance(verdicts[16], tuple) is False  # one bundle of 40: another layout
    one_bundle = bytearray(crafted(_rows(10)))  # the same layout under any size >= 16
    start = _column_starts(bytes(one_bundle))[0]
    for shift in (4, 5, 16):
        one_bundle[start] = shift
        assert isinstance(_check(bytes(one_bundle)), tuple)
    for shift in (17, 31, 63, 64, 200):
        one_bundle[start] = shift
        assert _check(bytes(one_bundle)) == "reject"


def test_a_value_past_uint64_defers() -> None:
    """Python's ints do not wrap: a delta base plus a stored offset past 2^64 is a trailer Python
    keeps as is (and accepts, its low byte being SET); native cannot return it, so defers."""
    a = 0xFFFF_FFFF_FFFF_0000
    block = bytearray(crafted(_rows(3), [a + 0x301, a + 0x201, a + 0x101]))
    start = _column_starts(bytes(block))[4]
    assert block[start] == 0x82 and struct.unpack_from("<Q", block, start + 1)[0] == a + 0x101
    struct.pack_into("<Q", block, start + 1, 0xFFFF_FFFF_FFFF_FF01)
    want = python_verdict(bytes(block))
    assert isinstance(want, tuple) and want[2] == 2**64 + 0x101
    assert scan_raw([bytes(block)]) == [None]


# --- hand-encoded blocks: encodings our writer (like Pebble's) never picks ------------------------

_Col = Callable[[int], bytes]  # a column's bytes, given its absolute start (alignment)


def _uints_col(values: list[int], enc: int, base: int = 0, tail: bytes = b"") -> _Col:
    """uints.go's layout with a chosen encoding byte: base (delta), padding, value - base mod 2^64."""

    def at(off: int) -> bytes:
        out = bytearray([enc])
        if enc & 0x80:
            out += struct.pack("<Q", base)
        width = enc & 0x7F
        if width:
            out += bytes(-(off + len(out)) % width)
            for v in values:
                out += ((v - base) % 2**64).to_bytes(width, "little")
        return bytes(out) + tail

    return at


def _offsets(slices: list[bytes], start: int = 0) -> list[int]:
    out = [start]
    for s in slices:
        out.append(out[-1] + len(s))
    return out


def _bitmap_col(bits: int, rows: int, summary_xor: int = 0) -> _Col:
    def at(off: int) -> bytes:
        if not bits:
            return b"\x01"
        n_words = (rows + 63) >> 6
        words = [bits >> (64 * i) & (2**64 - 1) for i in range(n_words)]
        summary = sum(1 << i for i, w in enumerate(words) if w) ^ summary_xor
        body = b"".join(struct.pack("<Q", w) for w in words)
        body += summary.to_bytes(8 * ((n_words + 63) >> 6), "little")
        return b"\x00" + bytes(-(off + 1) % 8) + body

    return at


def encoded(
    roach: list[bytes],
    walls: _Col | None = None,
    prefix_enc: int = 2,
    prefix_base: int = 0,
    values_enc: int = 2,
    values_base: int = 0,
    values: list[bytes] | None = None,
    obsolete: _Col | None = None,
) -> bytes:
    """A crdb1 data block laid out by hand (bundles of 1: each roach key its own bundle prefix,
    no shared prefix, empty suffixes), with chosen encodings for the roach key offsets, the wall
    times and the value offsets; every other column as Pebble writes it."""
    n = len(roach)
    slices = [piece for key in roach for piece in (key, b"")]  # bundle prefix, then suffix
    data = b"".join(slices)
    offsets = _offsets(slices)
    prefix_raw = _uints_col([o for o in offsets], prefix_enc, prefix_base, data)
    vals = values if values is not None else [b"v%d" % i for i in range(n)]
    cols: list[tuple[int, _Col]] = [
        (4, lambda off: b"\x00" + prefix_raw(off + 1)),  # log2 bundle size 0
        (2, walls or _uints_col([1_700_000_000_000_000_000 + i for i in range(n)], 8)),
        (2, _uints_col([0] * n, 0)),
        (3, _uints_col([0] * (n + 1), 1)),
        (2, _uints_col([(n - i) << 8 | 1 for i in range(n)], 4)),
        (1, _bitmap_col((1 << n) - 1, n)),
        (3, _uints_col(_offsets(vals), values_enc, values_base, b"".join(vals))),
        (1, _bitmap_col(0, n)),
        (1, obsolete or _bitmap_col(0, n)),
    ]
    header = bytearray(b"\x01" + struct.pack("<I", 40) + b"\x01" + struct.pack("<HI", 9, n))
    body = bytearray()
    starts = []
    off = len(header) + 5 * 9
    for _, col in cols:
        starts.append(off + len(body))
        body += col(off + len(body))
    for (kind, _), start in zip(cols, starts):
        header += struct.pack("<BI", kind, start)
    return bytes(header + body + b"\x00")


_ROACH = [b"/T%03d" % i for i in range(30)]  # 150 bytes: offsets fit one byte


def test_hand_encoded_block_as_pebble_writes_it() -> None:
    assert isinstance(_check(encoded(_ROACH)), tuple)
    assert isinstance(_check(encoded(_ROACH, prefix_enc=1)), tuple)


def test_delta_encoded_offsets() -> None:
    """Python takes a delta base on prefix-bytes offsets (and on no raw-bytes offsets but the
    width-0 one); a base + offset past 2^64 is, in Python's ints, data past the page, even when
    it wraps to the right offset in 64 bits."""
    assert isinstance(_check(encoded(_ROACH, prefix_enc=0x81, prefix_base=0)), tuple)
    assert _check(encoded(_ROACH, prefix_enc=0x82, prefix_base=2**64 - 1)) == "reject"
    assert _check(encoded(_ROACH, prefix_enc=0x84, prefix_base=2**64 - 7)) == "reject"
    empty = [b""] * len(_ROACH)
    assert isinstance(_check(encoded(_ROACH, values=empty, values_enc=0x80)), tuple)
    assert isinstance(_check(encoded(_ROACH, values=empty, values_enc=0)), tuple)
    for enc in (0x81, 0x82, 0x84):
        assert _check(encoded(_ROACH, values_enc=enc)) == "reject"


def test_a_delta_base_with_8_byte_values_is_refused() -> None:
    walls = [1_700_000_000_000_000_000 + i for i in range(len(_ROACH))]
    assert isinstance(_check(encoded(_ROACH, walls=_uints_col(walls, 0x84, walls[0]))), tuple)
    assert _check(encoded(_ROACH, walls=_uints_col(walls, 0x88, 0))) == "reject"
    small = list(range(1, len(_ROACH) + 1))
    assert isinstance(_check(encoded(_ROACH, walls=_uints_col(small, 1))), tuple)
    assert _check(encoded(_ROACH, walls=_uints_col(small, 3))) == "reject"  # no 3-byte width


def test_the_obsolete_bitmap_is_decoded_and_checked() -> None:
    """sst_check's fast path never reads the is-obsolete bits, but decode_data_block checks
    the bitmap: no bit past the rows, summary words that agree with the words."""
    n = len(_ROACH)
    assert isinstance(_check(encoded(_ROACH, obsolete=_bitmap_col(1 << 3, n))), tuple)
    assert isinstance(_check(encoded(_ROACH, obsolete=_bitmap_col((1 << n) - 1, n))), tuple)
    assert _check(encoded(_ROACH, obsolete=_bitmap_col(1 << n, n))) == "reject"
    assert _check(encoded(_ROACH, obsolete=_bitmap_col(1 << 63, n))) == "reject"
    assert _check(encoded(_ROACH, obsolete=_bitmap_col(1 << 3, n, summary_xor=2))) == "reject"
    assert _check(encoded(_ROACH, obsolete=_bitmap_col(1 << 3, n, summary_xor=1))) == "reject"
    assert _check(encoded(_ROACH, obsolete=lambda off: b"\x02")) == "reject"  # unknown encoding
    assert _check(encoded(_ROACH, obsolete=lambda off: b"\x01\x00")) == "reject"  # trailing byte


def test_no_rows_and_short_blocks() -> None:
    block = bytearray(encoded(_ROACH))
    struct.pack_into("<I", block, 8, 0)
    assert _check(bytes(block)) == "reject"
    for n in range(0, 60):
        assert _check(bytes(block[:n])) == "reject"
