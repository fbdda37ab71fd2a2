"""The optional native data-block scanner of CHECK_FILES (engine.formats._blockscan, built from
engine/formats/native by `pip install -e .` when gcc and libxxhash are there).

scan_blocks checks a batch of data blocks of one table with the GIL released: per block the
stored checksum, decompression and every per-block rule of the Python checker, returning a
Summary (rows, first user key, its trailer, last user key, its trailer; trailers as stored)
when the block passes and None when Python must check it itself (a fault, which Python then
reports with its exact message, or anything the scanner does not handle). It never accepts a
block the Python path rejects: tests/formats/test_native_rows*.py compare both on every fixture
and on corrupted copies.
"""

from __future__ import annotations

try:
    from engine.formats import _blockscan
except ImportError:  # built without a compiler or the -dev libraries: the Python path only
    AVAILABLE = False
else:
    AVAILABLE = True


Summary = tuple[int, bytes, int, bytes, int]
"""(rows, first user key, its trailer, last user key, its trailer): a plain tuple, one per block
on the hot path."""


def scan_blocks(
    data: bytes | bytearray | memoryview,
    handles: list[tuple[int, int]],
    *,
    end: int,
    checksum: int,
    pebble_version: int,
    cockroach: bool,
    columnar: bool,
) -> list[Summary | None]:
    """Summaries of the data blocks at `handles` ((offset, length) without the 5-byte trailer)
    in `data`, all before `end` (where the footer starts). Thread-safe on disjoint batches."""
    comparer = _blockscan.CMP_COCKROACH if cockroach else _blockscan.CMP_BYTEWISE
    return _blockscan.scan_blocks(data, handles, end, checksum, pebble_version, comparer, columnar)


NATIVE_DECODES = frozenset((0, 1))  # compression indicators scan_blocks decodes: none, snappy


def scan_block(
    block: bytes, *, pebble_version: int, cockroach: bool, columnar: bool
) -> Summary | None:
    """The Summary of one data block that Python already verified and decompressed (zstd,
    MinLZ: decoded by the same code as the Python path, so the verdict cannot differ), or None."""
    comparer = _blockscan.CMP_COCKROACH if cockroach else _blockscan.CMP_BYTEWISE
    return _blockscan.scan_block(block, pebble_version, comparer, columnar)


def index_entries(
    data: bytes | bytearray | memoryview, handle: tuple[int, int], *, end: int, checksum: int
) -> list[tuple[bytes, tuple[int, int]]] | None:
    """(separator, data block handle) of a row table's index block at `handle`, verified and
    decoded natively under Table._index_entries' rules, or None: Python must read it."""
    return _blockscan.index_entries(data, handle[0], handle[1], end, checksum)


def compare(a: bytes, b: bytes, *, cockroach: bool) -> int:
    """-1, 0 or 1: the native EngineKeyCompare (cockroach) or bytewise order of a and b, the
    comparer check_boundaries uses; tests hold it to engine.formats.mvcc.engine_compare."""
    comparer = _blockscan.CMP_COCKROACH if cockroach else _blockscan.CMP_BYTEWISE
    return _blockscan.compare(a, b, comparer)


Boundary = tuple[bytes | None, int, bytes | None]
"""What check_boundaries carries from one block to the next: the previous block's last user
key (None before the first block), its trailer, and its index separator (columnar only)."""


def check_boundaries(
    entries: list[tuple[bytes, tuple[int, int], Summary]],
    start: int,
    state: Boundary,
    *,
    cockroach: bool,
    columnar: bool,
    clear: int,
) -> tuple[int, int, Boundary]:
    """sst_check's cross-block rules (previous last key < first key, the separator against the
    last key and, columnar, against the next first key) over entries[start:], each with a
    scanner summary: (the index of the first entry a rule rejects, or len(entries); the rows
    of the entries before it; the state before it). `clear` is the mask row tables apply to
    trailers (~OBSOLETE_BIT from Pebble v4, else -1). The caller re-checks the rejected entry
    in Python, which raises the error (or, columnar, checks a block of no rows itself)."""
    comparer = _blockscan.CMP_COCKROACH if cockroach else _blockscan.CMP_BYTEWISE
    prev_last, prev_trailer, prev_sep = state
    index, rows, last, trailer, sep = _blockscan.check_boundaries(
        entries,
        start,
        comparer,
        columnar,
        clear & _MASK64,
        ~_OBSOLETE_BIT & _MASK64,
        prev_last,
        prev_trailer,
        prev_sep,
    )
    return index, rows, (last, trailer, sep)


_MASK64 = (1 << 64) - 1
_OBSOLETE_BIT = 0x40  # engine.formats.sst_reader.OBSOLETE_BIT (not imported: no cycle)
