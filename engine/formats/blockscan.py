"""The optional native data-block scanner of CHECK_FILES (engine.formats._blockscan, built from
engine/formats/native by `pip install -e .` when gcc, libsnappy and libxxhash are there).

scan_blocks checks a batch of data blocks of one table with the GIL released: per block the
stored checksum, decompression and every per-block rule of the Python checker, returning a
Summary (rows, first user key, its trailer, last user key, its trailer; trailers as stored)
when the block passes and None when Python must check it itself (a fault, which Python then
reports with its exact message, or anything the scanner does not handle). It never accepts a
block the Python path rejects: tests/formats/test_native_rows*.py compare both on every fixture
and on corrupted copies.
"""

from __future__ import annotations

from typing import NamedTuple

try:
    from engine.formats import _blockscan
except ImportError:  # built without a compiler or the -dev libraries: the Python path only
    AVAILABLE = False
else:
    AVAILABLE = True


class Summary(NamedTuple):
    rows: int
    first: bytes
    first_trailer: int
    last: bytes
    last_trailer: int


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
    out = _blockscan.scan_blocks(data, handles, end, checksum, pebble_version, comparer, columnar)
    return [None if s is None else Summary(*s) for s in out]


NATIVE_DECODES = frozenset((0, 1))  # compression indicators scan_blocks decodes: none, snappy


def scan_block(
    block: bytes, *, pebble_version: int, cockroach: bool, columnar: bool
) -> Summary | None:
    """The Summary of one data block that Python already verified and decompressed (zstd,
    MinLZ: decoded by the same code as the Python path, so the verdict cannot differ), or None."""
    comparer = _blockscan.CMP_COCKROACH if cockroach else _blockscan.CMP_BYTEWISE
    s = _blockscan.scan_block(block, pebble_version, comparer, columnar)
    return None if s is None else Summary(*s)
