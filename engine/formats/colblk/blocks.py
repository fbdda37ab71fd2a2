"""Pebble's columnar block kinds: data (CockroachDB "crdb1" and default key schemas), index,
keyspan (range deletions, range keys) and key-value (v6+ metaindex, v7+ properties).

Layouts per cockroachdb/pebble at f82e3ff7: sstable/colblk/data_block.go (DataBlockDecoder.Init:
key schema columns, then trailer, prefix-changed, value, is-value-external, is-obsolete;
custom header = key schema header ‖ uint32 maximum key length), cockroachkvs/cockroachkvs.go
(KeySchema "crdb1": roach key prefixbytes, MVCC wall uint, MVCC logical uint, untyped version
bytes; 1-byte suffix-types header; cockroachKeySeeker.MaterializeUserKey), data_block.go
DefaultKeySchema (prefix prefixbytes ‖ suffix bytes), index_block.go, keyspan.go and
key_value_block.go.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from engine.formats.colblk.columns import (
    TYPE_BOOL,
    TYPE_BYTES,
    TYPE_PREFIX_BYTES,
    TYPE_UINT,
    BlockHeader,
    ColumnError,
    RawBytes,
    decode_bitmap,
    decode_header,
    decode_prefix_bytes,
    decode_raw_bytes,
    decode_uints,
)

CRDB1_SCHEMA = "crdb1"
DEFAULT_SCHEMA_PREFIX = "DefaultKeySchema("
DATA_CUSTOM_HEADER = 4  # uint32 maximum user key length (DataBlockCustomHeaderSize)
_DATA_FORMAT_COLUMNS = 5  # trailer, prefix changed, value, is-value-external, is-obsolete
_KEYSPAN_HEADER = 4  # uint32 count of boundary user keys

_WALL = struct.Struct(">QB")
_WALL_LOGICAL = struct.Struct(">QIB")


@dataclass
class DataBlock:
    """One decoded data block: per-row columns, user keys materialized on demand."""

    rows: int
    schema: str
    prefixes: list[bytes]  # roach keys (crdb1, without the 0x00 sentinel) or key prefixes
    walls: list[int] | None  # crdb1 only
    logicals: list[int] | None
    untyped: list[bytes] | None  # crdb1, None when every untyped version is empty
    suffixes: list[bytes] | None  # default schema only
    trailers: list[int]
    prefix_changed: int
    values: RawBytes
    external: int
    obsolete: int
    max_key_len: int

    def key_at(self, i: int) -> bytes:
        """One row's user key, without materializing the others."""
        if self.schema != CRDB1_SCHEMA:
            assert self.suffixes is not None
            return self.prefixes[i] + self.suffixes[i]
        assert self.walls is not None and self.logicals is not None
        roach, wall, logical = self.prefixes[i], self.walls[i], self.logicals[i]
        if logical:
            return roach + b"\x00" + _WALL_LOGICAL.pack(wall, logical, 13)
        if wall:
            return roach + b"\x00" + _WALL.pack(wall, 9)
        u = self.untyped[i] if self.untyped is not None else b""
        return roach + b"\x00" + (u + bytes([len(u) + 1]) if u else b"")

    def user_keys(self) -> list[bytes]:
        if self.schema != CRDB1_SCHEMA:
            assert self.suffixes is not None
            return [p + s for p, s in zip(self.prefixes, self.suffixes)]
        assert self.walls is not None and self.logicals is not None
        wall_only, wall_logical = _WALL.pack, _WALL_LOGICAL.pack
        out: list[bytes] = []
        append = out.append
        untyped = self.untyped
        for i, (roach, wall, logical) in enumerate(zip(self.prefixes, self.walls, self.logicals)):
            if logical:
                append(roach + b"\x00" + wall_logical(wall, logical, 13))
            elif wall:
                append(roach + b"\x00" + wall_only(wall, 9))
            elif untyped is not None and untyped[i]:
                u = untyped[i]
                append(roach + b"\x00" + u + bytes([len(u) + 1]))
            else:
                append(roach + b"\x00")
        return out


def decode_data_block(buf: bytes, schema: str) -> DataBlock:
    """A columnar data block under key schema `schema` ("crdb1" or "DefaultKeySchema(...)")."""
    key_types: tuple[int, ...]
    if schema == CRDB1_SCHEMA:
        schema_header, key_types = 1, (TYPE_PREFIX_BYTES, TYPE_UINT, TYPE_UINT, TYPE_BYTES)
    elif schema.startswith(DEFAULT_SCHEMA_PREFIX):
        schema_header, key_types = 0, (TYPE_PREFIX_BYTES, TYPE_BYTES)
    else:
        raise ColumnError(f"unknown columnar key schema {schema!r}")
    h = decode_header(buf, schema_header + DATA_CUSTOM_HEADER)
    want = len(key_types) + _DATA_FORMAT_COLUMNS
    if len(h.types) != want:
        raise ColumnError(f"data block has {len(h.types)} columns, key schema {schema} has {want}")
    (max_key_len,) = struct.unpack_from("<I", buf, schema_header)
    rows = h.rows
    if rows == 0:
        raise ColumnError("data block has no rows")
    k = len(key_types)
    prefixes = decode_prefix_bytes(buf, *h.page(0, TYPE_PREFIX_BYTES), rows, "key prefix")
    walls = logicals = untyped = suffixes = None
    if schema == CRDB1_SCHEMA:
        walls = decode_uints(buf, *h.page(1, TYPE_UINT), rows, "MVCC wall time")
        logicals = decode_uints(buf, *h.page(2, TYPE_UINT), rows, "MVCC logical time")
        raw = decode_raw_bytes(buf, *h.page(3, TYPE_BYTES), rows, "untyped version")
        untyped = None if raw.all_empty() else raw.all()
    else:
        suffixes = decode_raw_bytes(buf, *h.page(1, TYPE_BYTES), rows, "key suffix").all()
    trailers = decode_uints(buf, *h.page(k, TYPE_UINT), rows, "trailer")
    changed = decode_bitmap(buf, *h.page(k + 1, TYPE_BOOL), rows, "prefix-changed")
    values = decode_raw_bytes(buf, *h.page(k + 2, TYPE_BYTES), rows, "value")
    external = decode_bitmap(buf, *h.page(k + 3, TYPE_BOOL), rows, "is-value-external")
    obsolete = decode_bitmap(buf, *h.page(k + 4, TYPE_BOOL), rows, "is-obsolete")
    return DataBlock(
        rows, schema, prefixes, walls, logicals, untyped, suffixes, trailers, changed, values,
        external, obsolete, max_key_len,
    )  # fmt: skip


@dataclass(frozen=True)
class IndexBlock:
    """index_block.go: separator user keys, block offsets, lengths, encoded block properties."""

    separators: list[bytes]
    offsets: list[int]
    lengths: list[int]

    def __len__(self) -> int:
        return len(self.separators)


def decode_index_block(buf: bytes) -> IndexBlock:
    h = _expect_columns(decode_header(buf), (TYPE_BYTES, TYPE_UINT, TYPE_UINT, TYPE_BYTES), "index")
    n = h.rows
    seps = decode_raw_bytes(buf, *h.page(0, TYPE_BYTES), n, "separator").all()
    offsets = decode_uints(buf, *h.page(1, TYPE_UINT), n, "block offset")
    lengths = decode_uints(buf, *h.page(2, TYPE_UINT), n, "block length")
    decode_raw_bytes(buf, *h.page(3, TYPE_BYTES), n, "block properties")
    return IndexBlock(seps, offsets, lengths)


def decode_key_value_block(buf: bytes) -> list[tuple[bytes, bytes]]:
    """key_value_block.go: a keys bytes column and a values bytes column (v6+ metaindex,
    v7+ properties)."""
    h = _expect_columns(decode_header(buf), (TYPE_BYTES, TYPE_BYTES), "key-value")
    keys = decode_raw_bytes(buf, *h.page(0, TYPE_BYTES), h.rows, "key").all()
    values = decode_raw_bytes(buf, *h.page(1, TYPE_BYTES), h.rows, "value").all()
    return list(zip(keys, values))


@dataclass(frozen=True)
class Span:
    """One fragment key of a keyspan block: [start, end) with trailer, suffix and value."""

    start: bytes
    end: bytes
    trailer: int
    suffix: bytes
    value: bytes


def decode_keyspan_block(buf: bytes) -> list[Span]:
    """keyspan.go: uint32 boundary count header; boundary user keys and, per boundary, the
    index of the first key starting there; then per key its trailer, suffix and value. Keys
    [idx[j], idx[j+1]) span [boundary j, boundary j+1)."""
    if len(buf) < _KEYSPAN_HEADER:
        raise ColumnError("keyspan block is too short")
    (n_bounds,) = struct.unpack_from("<I", buf, 0)
    types = (TYPE_BYTES, TYPE_UINT, TYPE_UINT, TYPE_BYTES, TYPE_BYTES)
    h = _expect_columns(decode_header(buf, _KEYSPAN_HEADER), types, "keyspan")
    n = h.rows
    bounds = decode_raw_bytes(buf, *h.page(0, TYPE_BYTES), n_bounds, "boundary key").all()
    starts = decode_uints(buf, *h.page(1, TYPE_UINT), n_bounds, "boundary key index")
    trailers = decode_uints(buf, *h.page(2, TYPE_UINT), n, "trailer")
    suffixes = decode_raw_bytes(buf, *h.page(3, TYPE_BYTES), n, "suffix").all()
    values = decode_raw_bytes(buf, *h.page(4, TYPE_BYTES), n, "value").all()
    if n and (n_bounds < 2 or starts[0] != 0 or starts[-1] != n):
        raise ColumnError("keyspan boundary indices do not cover the block's keys")
    spans = []
    for j in range(n_bounds - 1):
        lo, hi = starts[j], starts[j + 1]
        if hi < lo:
            raise ColumnError("keyspan boundary indices are not increasing")
        for i in range(lo, hi):
            spans.append(Span(bounds[j], bounds[j + 1], trailers[i], suffixes[i], values[i]))
    return spans


def _expect_columns(h: BlockHeader, types: tuple[int, ...], what: str) -> BlockHeader:
    if h.types != types:
        raise ColumnError(f"{what} block has column types {h.types}, expected {types}")
    return h
