"""The native comparers and blockscan.check_boundaries, which checks the cross-block rules of a
run of native-accepted data blocks in one call (sst_check._check_rows / _check_columnar).

compare(cockroach=True) is held to engine.formats.mvcc.engine_compare, the project's reference
for EngineKeyCompare, on seeded random keys of every shape: well-formed MVCC keys of every
version length (none, wall 9, wall+logical 13, +synthetic 14, lock-table 18, odd lengths),
shared prefixes, malformed keys (version length byte past the key), empty keys, bare suffixes
(a key whose length byte equals its length). Looked up for the shape of those keys (with the
search tool, excerpts only): cockroachdb/cockroach pkg/storage/pebble.go (EngineComparer,
EngineKeyCompare, the engineKeyVersion*Len constants) and cockroachdb/pebble
cockroachkvs/cockroachkvs.go Compare at f82e3ff74d10b1f33df146eefc5661518f868542 (the
withWall / withLogical / withSynthetic / withLockTableLen suffix lengths). Where they differ
from engine_compare (its docstring: malformed keys fall back to bytewise) engine_compare wins:
the native comparer must never change a verdict of the Python path.

check_boundaries is held to sst_check's own per-entry code (_row_boundary, _columnar_block) on
entries of real tables, valid and perturbed, and whole crafted tables (blocks valid one by one,
a cross-block rule broken) must fail with the same FormatError text with native on and off.
"""

from __future__ import annotations

import functools
import random
import struct

import pytest

from engine.errors import FormatError
from engine.formats import blockscan
from engine.formats.colblk_write import write_columnar_sst
from engine.formats.keys import encode_uvarint_ascending, table_prefix
from engine.formats.mvcc import encode_mvcc_key, engine_compare
from engine.formats.sst_check import (
    ScanShare,
    _Blocks,
    _columnar_block,
    _ColumnarState,
    _no_wait,
    _row_boundary,
    _runs,
    check_table,
)
from engine.formats.sst_format import block_checksum
from engine.formats.sst_reader import (
    BYTEWISE_COMPARATOR,
    COMPARERS,
    OBSOLETE_BIT,
    Table,
    bytewise_compare,
)
from engine.formats.sst_writers import write_table
from formats.pebble_testdata import FIXTURES


@pytest.fixture(scope="module", autouse=True)
def native_built() -> None:
    assert blockscan.AVAILABLE, "engine.formats._blockscan did not build (gcc, libsnappy-dev, ...)"


def sign(c: int) -> int:
    return (c > 0) - (c < 0)


# --- the comparers --------------------------------------------------------------------------


def random_key(rng: random.Random, roots: list[bytes]) -> bytes:
    shape = rng.randrange(12)
    roach = rng.choice(roots)
    if rng.random() < 0.3:
        roach = roach[: rng.randrange(len(roach) + 1)] + rng.randbytes(rng.randrange(3))
    wall = struct.pack(">Q", rng.choice((0, 1, 5, 1 << 40, rng.randrange(1 << 63))))
    logical = struct.pack(">I", rng.choice((0, 0, 1, 7, rng.randrange(1 << 31))))
    if shape == 0:
        return roach + b"\x00"  # no version
    if shape == 1:
        return roach + b"\x00" + wall + b"\x09"
    if shape == 2:
        return roach + b"\x00" + wall + logical + b"\x0d"
    if shape == 3:
        return roach + b"\x00" + wall + logical + bytes([rng.randrange(2)]) + b"\x0e"
    if shape == 4:  # lock table: 17-byte version
        return roach + b"\x00" + rng.randbytes(16) + b"\x12"
    if shape == 5:  # a version of an odd length
        v = b"\x00" + rng.randbytes(rng.randrange(1, 20))
        return roach + v + bytes([len(v)])
    if shape == 6:  # malformed: the length byte points before the key
        k = roach + rng.randbytes(rng.randrange(3))
        return k + bytes([rng.randrange(len(k) + 1, 256)])
    if shape == 7:
        return b""
    if shape == 8:  # a bare suffix: the length byte counts the whole key
        v = rng.choice((b"\x00" + wall, b"\x00" + wall + logical, b"", b"\x00"))
        return v + bytes([len(v) + 1]) if v else b"\x00"
    if shape == 9:  # a bare suffix without the length byte's own count
        v = b"\x00" + wall
        return v + bytes([len(v)])
    return rng.randbytes(rng.randrange(6))  # anything


def test_compare_matches_engine_compare_on_random_keys() -> None:
    rng = random.Random(20261202)
    roots = [b"", b"a", b"ab", b"abc", b"\x00", b"\xff", table_prefix(106) + b"\x89\x8a"]
    keys = [random_key(rng, roots) for _ in range(600)]
    checked = 0
    for a in keys:
        for b in rng.sample(keys, 60) + [a, a + b"\x00", a[:-1]]:
            want = sign(engine_compare(a, b))
            assert blockscan.compare(a, b, cockroach=True) == want, (a, b)
            assert blockscan.compare(a, b, cockroach=False) == sign(bytewise_compare(a, b))
            checked += 1
    assert checked > 30_000


def test_compare_sorts_like_engine_compare() -> None:
    rng = random.Random(7)
    roots = [b"k", b"ka", b"kb", b"\x00k"]
    keys = [random_key(rng, roots) for _ in range(400)]
    by_python = sorted(keys, key=functools.cmp_to_key(engine_compare))
    native = functools.cmp_to_key(lambda a, b: blockscan.compare(a, b, cockroach=True))
    assert sorted(keys, key=native) == by_python  # the same merge steps: the same order


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (b"", b""),
        (b"", b"\x00"),
        (b"\x01", b"\x01"),  # both bare: separator at -1
        (b"\x01", b"a\x00"),  # one bare, one well formed: bytewise
        (b"a\x00", b"a\x00" + b"\x00" * 8 + b"\x09"),  # no version first
        (b"a\x00" + b"\x00" * 12 + b"\x0d", b"a\x00" + b"\x00" * 8 + b"\x09"),  # zero logical
        (b"a\x00" + b"\x01" * 12 + b"\x00\x0e", b"a\x00" + b"\x01" * 12 + b"\x0d"),  # synthetic
        (b"a\xff", b"a\x00"),  # malformed vs well formed
        (b"ab\x05", b"ab\x06"),  # both malformed
    ],
)
def test_compare_edge_cases(a: bytes, b: bytes) -> None:
    for x, y in ((a, b), (b, a)):
        assert blockscan.compare(x, y, cockroach=True) == sign(engine_compare(x, y))


# --- check_boundaries against sst_check's per-entry code -------------------------------------


def _pk(table: int, i: int) -> bytes:
    return table_prefix(table) + encode_uvarint_ascending(1) + encode_uvarint_ascending(i)


def _rows(n: int, seed: int, versions: int = 1) -> list[tuple[bytes, bytes]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        for v in range(versions):
            key = encode_mvcc_key(_pk(106, i), 1_700_000_000_000_000_000 - v * 1000, v % 2)
            out.append((key, rng.randbytes(rng.randrange(10, 60))))
    return out


def _row_tables() -> dict[str, bytes]:
    out = {
        "pebble-" + p.relative_to(FIXTURES).as_posix(): p.read_bytes()
        for p in sorted(FIXTURES.rglob("*.sst"))
    }
    for fmt in ("pebble,v2", "pebble,v4"):
        out[f"ours-{fmt}"] = write_table(_rows(600, 1), fmt, compression="none", block_size=512)
        out[f"ours-versions-{fmt}"] = write_table(_rows(200, 2, 3), fmt, block_size=256)
        rng = random.Random(3)
        keys = sorted({rng.randbytes(rng.randrange(1, 20)) for _ in range(500)})
        out[f"ours-bytewise-{fmt}"] = write_table(
            [(k, b"v") for k in keys], fmt, block_size=200, comparer=BYTEWISE_COMPARATOR
        )
    return out


def _columnar_tables() -> dict[str, bytes]:
    out = {}
    for fmt in ("pebble,v5", "pebble,v7"):
        out[fmt] = write_columnar_sst(_rows(1500, 4), table_format=fmt, block_size=2048)
        out[f"versions-{fmt}"] = write_columnar_sst(
            _rows(400, 5, 3), table_format=fmt, block_size=1024, compression="none"
        )
    return out


@pytest.fixture(scope="module")
def tables() -> dict[str, bytes]:
    """The valid ones (some Pebble fixtures are corrupt on purpose)."""
    out = {**_row_tables(), **_columnar_tables()}
    return {name: data for name, data in out.items() if verdict(data, native=False)[:2] == "ok"}


def _entries(table: Table) -> tuple[_Blocks, list[tuple[bytes, tuple[int, int], object]]]:
    compare = COMPARERS[table.comparer_name or BYTEWISE_COMPARATOR]
    blocks = _Blocks(table, compare, _no_wait, 1, True, ScanShare())
    return blocks, list(blocks)


def _python_index(table: Table, blocks: _Blocks, entries: list) -> tuple[int, int]:  # type: ignore[type-arg]
    """(first entry sst_check's per-entry code rejects, or len; the rows before it)."""
    compare = COMPARERS[table.comparer_name or BYTEWISE_COMPARATOR]
    if table.columnar:
        state = _ColumnarState(None, None, 0)
        for i, e in enumerate(entries):
            if not e[2][0]:
                return i, state.entries  # the Python path decodes it: native stops here
            try:
                state = _columnar_block(table, compare, blocks, True, state, e)
            except FormatError:
                return i, state.entries
        return len(entries), state.entries
    clear = ~OBSOLETE_BIT if table.version >= 4 else -1
    prev, count = None, 0
    for i, e in enumerate(entries):
        try:
            prev, count = _row_boundary(table, compare, blocks, clear, prev, count, e)
        except FormatError:
            return i, count
    return len(entries), count


def _native_index(table: Table, blocks: _Blocks, entries: list) -> tuple[int, int]:  # type: ignore[type-arg]
    index, rows, _ = blockscan.check_boundaries(
        entries,
        0,
        (None, 0, None),
        cockroach=blocks.cockroach,
        columnar=table.columnar,
        clear=~OBSOLETE_BIT if table.version >= 4 and not table.columnar else -1,
    )
    return index, rows


def test_valid_tables_pass_whole(tables: dict[str, bytes]) -> None:
    """Every block accepted natively, one call over all of them: len, and check_table's count."""
    checked = 0
    for name, data in tables.items():
        table = Table(data, name)
        blocks, entries = _entries(table)
        if not blocks.native or any(e[2] is None for e in entries):
            continue
        count = check_table(Table(data, name), native=False)
        assert _native_index(table, blocks, entries) == (len(entries), count), name
        assert len(entries) > 1 or name.startswith("pebble-"), name
        checked += 1
    assert checked >= 10


def _perturb(rng: random.Random, entries: list) -> list:  # type: ignore[type-arg]
    """One cross-block defect (or none): a summary's key or trailer, or a separator, replaced
    by a neighbour's or nudged, as a corrupted index or a block written out of order has."""
    out = list(entries)
    i = rng.randrange(len(out))
    j = max(0, min(len(out) - 1, i + rng.choice((-1, 1, 2))))
    sep, handle, s = out[i]
    rows, first, ft, last, lt = s
    how = rng.randrange(8)
    if how == 0:
        first = out[j][2][1]
    elif how == 1:
        last = out[j][2][3]
    elif how == 2:
        sep = out[j][0]
    elif how == 3:
        ft ^= rng.choice((1 << 8, 1 << 40, OBSOLETE_BIT, 0xFF))
    elif how == 4:
        lt ^= rng.choice((1 << 8, 1 << 40, OBSOLETE_BIT, 0xFF))
    elif how == 5:
        sep = sep[: rng.randrange(len(sep) + 1)]
    elif how == 6:
        first = last if rng.random() < 0.5 else first
        ft = rng.choice((lt, lt + 1, max(0, lt - 1)))
    else:
        rows = rng.choice((0, rows))
    out[i] = (sep, handle, (rows, first, ft, last, lt))
    return out


def test_perturbed_runs_stop_where_python_rejects(tables: dict[str, bytes]) -> None:
    rng = random.Random(14)
    stopped = 0
    for name, data in sorted(tables.items()):
        table = Table(data, name)
        blocks, entries = _entries(table)
        if not blocks.native or len(entries) < 3 or any(e[2] is None for e in entries):
            continue
        for _ in range(60):
            bad = _perturb(rng, entries)
            want = _python_index(table, blocks, bad)
            assert _native_index(table, blocks, bad) == want, name
            stopped += want[0] < len(bad)
    assert stopped > 100


def test_carried_state_and_start(tables: dict[str, bytes]) -> None:
    """A run split anywhere and resumed with the returned state gives the one-call result."""
    rng = random.Random(5)
    for name, data in sorted(tables.items()):
        table = Table(data, name)
        blocks, entries = _entries(table)
        if not blocks.native or len(entries) < 3 or any(e[2] is None for e in entries):
            continue
        columnar = table.columnar
        clear = ~OBSOLETE_BIT if table.version >= 4 and not columnar else -1
        cut = rng.randrange(1, len(entries))
        kw = {"cockroach": blocks.cockroach, "columnar": columnar, "clear": clear}
        i, rows1, state = blockscan.check_boundaries(entries[:cut], 0, (None, 0, None), **kw)
        assert i == cut
        j, rows2, _ = blockscan.check_boundaries(entries[cut:], 0, state, **kw)
        k, rows3, _ = blockscan.check_boundaries(entries, cut, state, **kw)
        assert (j + cut, rows1 + rows2) == (len(entries), _python_index(table, blocks, entries)[1])
        assert (k, rows3) == (len(entries), rows2)


# --- whole crafted tables: same error text with native on and off ----------------------------


def verdict(data: bytes, native: bool) -> str:
    try:
        return f"ok {check_table(Table(data, 't.sst'), native=native)}"
    except FormatError as exc:
        return f"error {exc}"


def _native_accepts_every_block(data: bytes) -> bool:
    table = Table(data, "t.sst")
    blocks, entries = _entries(table)
    return blocks.native and all(e[2] is not None for e in entries)


def _uvarint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    return bytes(out + bytes([v]))


def _out_of_order() -> bytes:
    """Every block valid, block 3's index entry pointing at block 1 again (the writers refuse
    unsorted rows): block order 0 1 2 1, so entry 3 starts below block 2's last key. The
    handle's varints are replaced in place in the uncompressed index block."""
    data = _row_base()
    table = Table(data, "t.sst")
    handles = [h for _, h in table.data_handles()]
    old = _uvarint(handles[3][0]) + _uvarint(handles[3][1])
    new = _uvarint(handles[1][0]) + _uvarint(handles[1][1])
    assert len(old) == len(new)
    off, n = table.footer.index
    buf = bytearray(data)
    block = bytes(buf[off : off + n])
    at = block.find(old)
    assert at >= 0 and block.find(old, at + 1) < 0
    buf[off + at : off + at + len(new)] = new
    typed = bytes(buf[off : off + n + 1])
    struct.pack_into("<I", buf, off + n + 1, block_checksum(table.footer.checksum, typed))
    return bytes(buf)


def _edit_separator(data: bytes, which: int, new_first_byte: int) -> bytes:
    """The index separator of data block `which` with its first byte replaced, in place in the
    (uncompressed, single-level) index block, whose checksum is recomputed."""
    table = Table(data, "t.sst")
    assert not table.two_level()
    off, n = table.footer.index
    buf = bytearray(data)
    assert buf[off + n] == 0, "index block compressed"
    sep = [s for s, _ in table.data_handles()][which]
    at = bytes(buf[off : off + n]).find(sep)
    assert at >= 0, "separator not stored whole"
    buf[off + at] = new_first_byte
    typed = bytes(buf[off : off + n + 1])
    struct.pack_into("<I", buf, off + n + 1, block_checksum(table.footer.checksum, typed))
    return bytes(buf)


def _row_base() -> bytes:
    return write_table(_rows(300, 7), "pebble,v4", compression="none", block_size=1024)


def _columnar_base() -> bytes:
    rows = _rows(600, 8)
    return write_columnar_sst(rows, table_format="pebble,v7", block_size=1024, compression="none")


CRAFTED = {
    # each: (table, the FormatError text it must raise, native on and off)
    "rows: block 3 starts below block 2's last key": (
        _out_of_order,
        "keys out of order at entry",
    ),
    "rows: separator below its block's last key": (
        lambda: _edit_separator(_row_base(), 2, 0x00),
        "index separator sorts before the last key of its data block",
    ),
    "columnar: separator below its block's last key": (
        lambda: _edit_separator(_columnar_base(), 2, 0x00),
        "index separator sorts before the last key of its data block",
    ),
    "columnar: separator above the next block's first key": (
        lambda: _edit_separator(_columnar_base(), 2, 0xFE),
        "index separator sorts after the first key of the next data block",
    ),
}


@pytest.mark.parametrize("case", sorted(CRAFTED))
def test_crafted_table_same_error_native_on_and_off(case: str) -> None:
    """Each boundary rule matters: the blocks of the table pass the native scanner (so only
    check_boundaries stands between it and a wrong 'ok'), and the error is Python's text."""
    make, text = CRAFTED[case]
    data = make()
    assert _native_accepts_every_block(data), case
    plain = verdict(data, native=False)
    assert plain.startswith("error") and text in plain, (case, plain)
    assert verdict(data, native=True) == plain, case


def test_crafted_row_separator_too_short_and_trailers() -> None:
    """The rules no writer output reaches, on a valid table's real entries: a separator
    shorter than its trailer, and equal user keys decided by the trailers (the v4+ obsolete
    bit cleared), each stopping check_boundaries exactly where _row_boundary raises."""
    table = Table(_row_base(), "t.sst")
    blocks, entries = _entries(table)
    assert len(entries) > 3
    cases = []
    sep, handle, s = entries[1]
    cases.append(("short separator", 1, (sep[:7], handle, s)))
    rows, first, ft, last, lt = s
    prev_last, prev_lt = entries[0][2][3], entries[0][2][4]
    cases.append(("same key, trailer not below", 1, (sep, handle, (rows, prev_last, prev_lt, last, lt))))
    cases.append(
        ("same key, obsolete bit only", 1,
         (sep, handle, (rows, prev_last, prev_lt | OBSOLETE_BIT, last, lt)))
    )  # fmt: skip
    sep_trailer = struct.unpack_from("<Q", sep, len(sep) - 8)[0]
    cases.append(
        ("last key = separator, trailer below", 1,
         (sep, handle, (rows, first, ft, sep[:-8], (sep_trailer & ~OBSOLETE_BIT) - 1)))
    )  # fmt: skip
    for what, i, entry in cases:
        bad = list(entries)
        bad[i] = entry
        want = _python_index(table, blocks, bad)
        assert want[0] == i, what
        assert _native_index(table, blocks, bad) == want, what


def test_runs_hand_out_the_run_before_an_index_error() -> None:
    """_runs keeps the order of errors: the native-accepted entries listed before an index
    block's error are handed out (so their checks run, and raise first) before it is raised;
    an entry Python must check splits the runs."""
    table = Table(_row_base(), "t.sst")
    _, entries = _entries(table)
    deferred = (entries[2][0], entries[2][1], None)

    def blocks():  # type: ignore[no-untyped-def]
        yield from entries[:2]
        yield deferred
        yield from entries[3:5]
        raise FormatError("t.sst: index block checksum mismatch")

    got = []
    runs = _runs(blocks())
    with pytest.raises(FormatError, match="index block"):
        for run in runs:
            got.append(run)
    assert got == [entries[:2], [deferred], entries[3:5]]
