"""Reading and checking Pebble sstables: row tables (LevelDB, RocksDB v2, Pebble v1-v4) and
columnar tables (Pebble v5-v7), through one Table class.

Per cockroachdb/pebble at f82e3ff7: sstable/reader.go (initMetaindexBlocks, metaindex row
block up to v5 and columnar from v6 (readAndDecodeMetaindex), properties row block up to v6 and
columnar from v7 (decodePropertiesBlock), footer attributes == properties in v7), sstable/table.go
(row block layout, two-level index), sstable/rowblk (restart points; v3+ borrow the top bit),
sstable/block/kv.go (v3+ value prefix: 0x00 in place, 0x80 value-block handle, 0x40 blob
handle), sstable/valblk/valblk.go (value handles, value index block), sstable/blob/handle.go
(inline blob handle), internal/rangekey/rangekey.go (row range-key values).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from engine.errors import FormatError
from engine.formats import blockscan
from engine.formats.colblk.blocks import (
    DataBlock,
    decode_data_block,
    decode_index_block,
    decode_key_value_block,
    decode_keyspan_block,
)
from engine.formats.colblk.columns import ColumnError
from engine.formats.mvcc import engine_compare
from engine.formats.sst_format import (
    BLOCK_TRAILER_LEN,
    COMPRESSION_NONE,
    Footer,
    block_checksum,
    decompress,
    get_uvarint,
    parse_footer,
)

_T = TypeVar("_T")

COCKROACH_COMPARATOR = "cockroach_comparator"
BYTEWISE_COMPARATOR = "leveldb.BytewiseComparator"

META_PROPERTIES = b"rocksdb.properties"
META_VALUE_INDEX = b"pebble.value_index"
META_RANGE_DEL = b"rocksdb.range_del2"
META_RANGE_DEL_V1 = b"rocksdb.range_del"
META_RANGE_KEY = b"pebble.range_key"
PROP_KEY_SCHEMA = b"pebble.colblk.schema"
PROP_INDEX_TYPE = b"rocksdb.block.based.table.index.type"
INDEX_TWO_LEVEL = 2

KIND_DELETE = 0
KIND_SET = 1
KIND_SET_WITH_DELETE = 18
KIND_RANGE_DELETE = 15
KIND_RANGE_KEY_DELETE = 19
KIND_RANGE_KEY_UNSET = 20
KIND_RANGE_KEY_SET = 21
KIND_NAMES = {
    KIND_DELETE: "DEL", KIND_SET: "SET", 2: "MERGE", 7: "SINGLEDEL",
    KIND_RANGE_DELETE: "RANGEDEL", KIND_SET_WITH_DELETE: "SETWITHDEL",
    KIND_RANGE_KEY_DELETE: "RANGEKEYDEL", KIND_RANGE_KEY_UNSET: "RANGEKEYUNSET",
    KIND_RANGE_KEY_SET: "RANGEKEYSET", 23: "DELSIZED",
}  # fmt: skip
POINT_SETS = frozenset((KIND_SET, KIND_SET_WITH_DELETE))
POINT_KINDS = frozenset((KIND_DELETE, KIND_SET, 2, 7, KIND_SET_WITH_DELETE, 23))
OBSOLETE_BIT = 0x40  # Pebble v4+ marks obsolete points in the trailer kind (format.go)
TRAILER_LEN = 8
_RESTART_MASK = 0x7FFFFFFF  # Pebble v3+ data blocks borrow the top bit of restart offsets
_VALUE_KIND_MASK = 0xC0
_VALUE_IN_PLACE = 0x00
_VALUE_BLOCK_HANDLE = 0x80
_VALUE_BLOB_HANDLE = 0x40


def bytewise_compare(a: bytes, b: bytes) -> int:
    return (a > b) - (a < b)


COMPARERS: dict[str, Callable[[bytes, bytes], int]] = {
    COCKROACH_COMPARATOR: engine_compare,
    BYTEWISE_COMPARATOR: bytewise_compare,
}

CORRUPTION = (ValueError, IndexError, KeyError, struct.error, OverflowError)


class Span(NamedTuple):
    """One range deletion or range key fragment: [start, end) at seqnum, with the range key's
    suffix and value (empty for RANGEDEL and RANGEKEYDEL; UNSET has a suffix only)."""

    kind: str
    start: bytes
    end: bytes
    seqnum: int
    suffix: bytes
    value: bytes


def iter_row_block(
    block: bytes, name: str, what: str, data_block: bool
) -> Iterator[tuple[bytes, bytes]]:
    """Entries of a row block, checking every length and restart offset against the block."""
    if len(block) < 4:
        raise FormatError(f"{name}: {what} block is too short")
    (n_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * n_restarts
    if n_restarts == 0 or limit < 0:
        raise FormatError(f"{name}: {what} block has a bad restart count {n_restarts}")
    restarts = struct.unpack_from(f"<{n_restarts}I", block, limit)
    mask = _RESTART_MASK if data_block else 0xFFFFFFFF
    starts = set()
    for r in restarts:
        if (r & mask) >= max(limit, 1):
            raise FormatError(f"{name}: {what} block has a restart offset out of range")
        starts.add(r & mask)
    pos = 0
    key = b""
    try:
        while pos < limit:
            at = pos
            # One-byte varints are the rule (short keys and values): decode those inline.
            shared = block[pos]
            if shared < 0x80:
                pos += 1
            else:
                shared, pos = get_uvarint(block, pos, limit)
            unshared = block[pos]
            if unshared < 0x80:
                pos += 1
            else:
                unshared, pos = get_uvarint(block, pos, limit)
            vlen = block[pos]
            if vlen < 0x80:
                pos += 1
            else:
                vlen, pos = get_uvarint(block, pos, limit)
            if shared > len(key) or pos + unshared + vlen > limit or (at in starts and shared):
                raise ValueError("entry out of bounds")
            key = key[:shared] + block[pos : pos + unshared]
            pos += unshared
            yield key, block[pos : pos + vlen]
            pos += vlen
    except (ValueError, IndexError):
        raise FormatError(f"{name}: {what} block has a corrupt entry at offset {pos}") from None


def row_block_columns(
    block: bytes, name: str, what: str, data_block: bool, first_bytes: bool = False
) -> tuple[list[bytes], list]:  # type: ignore[type-arg]
    """iter_row_block's entries as two lists (keys, values), with the same checks, in one tight
    loop: varints of up to two bytes decoded inline, no generator. The hot path of CHECK_FILES
    over row tables. With `first_bytes` the second list holds each value's first byte (-1 for
    an empty value) instead of a copy of the value: all a check needs of in-place values."""
    if len(block) < 4:
        raise FormatError(f"{name}: {what} block is too short")
    (n_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * n_restarts
    if n_restarts == 0 or limit < 0:
        raise FormatError(f"{name}: {what} block has a bad restart count {n_restarts}")
    restarts = struct.unpack_from(f"<{n_restarts}I", block, limit)
    mask = _RESTART_MASK if data_block else 0xFFFFFFFF
    starts = {r & mask for r in restarts}
    if max(starts) >= max(limit, 1):
        raise FormatError(f"{name}: {what} block has a restart offset out of range")
    keys: list[bytes] = []
    values: list = []  # type: ignore[type-arg]  # bytes, or ints with first_bytes
    add_key, add_value = keys.append, values.append
    pos = 0
    key = b""
    buf = bytes(block) if not isinstance(block, bytes) else block
    try:
        while pos < limit:
            at = pos
            shared = buf[pos]
            if shared < 0x80:
                pos += 1
            elif buf[pos + 1] < 0x80:
                shared = (shared & 0x7F) | buf[pos + 1] << 7
                pos += 2
            else:
                shared, pos = get_uvarint(buf, pos, limit)
            unshared = buf[pos]
            if unshared < 0x80:
                pos += 1
            elif buf[pos + 1] < 0x80:
                unshared = (unshared & 0x7F) | buf[pos + 1] << 7
                pos += 2
            else:
                unshared, pos = get_uvarint(buf, pos, limit)
            vlen = buf[pos]
            if vlen < 0x80:
                pos += 1
            elif buf[pos + 1] < 0x80:
                vlen = (vlen & 0x7F) | buf[pos + 1] << 7
                pos += 2
            else:
                vlen, pos = get_uvarint(buf, pos, limit)
            if pos > limit or shared > len(key) or pos + unshared + vlen > limit or (shared and at in starts):
                raise ValueError("entry out of bounds")
            end = pos + unshared
            key = key[:shared] + buf[pos:end] if shared else buf[pos:end]
            add_key(key)
            pos = end + vlen
            if first_bytes:
                add_value(buf[end] if vlen else -1)
            else:
                add_value(buf[end:pos])
    except (ValueError, IndexError):
        raise FormatError(f"{name}: {what} block has a corrupt entry at offset {pos}") from None
    return keys, values


@dataclass
class _ValueIndex:
    handle: tuple[int, int]
    widths: tuple[int, int, int]


class Table:
    """One parsed table: footer, metaindex, properties, and checksum-verified block access."""

    def __init__(self, data: bytes | bytearray | memoryview, name: str) -> None:
        self.data = memoryview(data)
        self.name = name
        self.footer: Footer = parse_footer(data, name)
        self.columnar = self.footer.format.columnar
        self.version = self.footer.format.pebble_version
        meta = self.read_block(self.footer.metaindex, "metaindex")
        entries = (
            self._colblk(decode_key_value_block, meta, "metaindex")
            if self.version >= 6
            else list(iter_row_block(meta, name, "metaindex", False))
        )
        self.meta: dict[bytes, tuple[int, int]] = {}
        self.value_index: _ValueIndex | None = None
        for key, value in entries:
            self.meta[key] = self.decode_handle(value, f"metaindex entry {key!r}")
            if key == META_VALUE_INDEX:
                _, pos = get_uvarint(value, 0, len(value))
                _, pos = get_uvarint(value, pos, len(value))
                if len(value) != pos + 3:
                    raise self.fail("bad value index handle in the metaindex")
                widths = (value[pos], value[pos + 1], value[pos + 2])
                self.value_index = _ValueIndex(self.meta[key], widths)
        if META_RANGE_DEL_V1 in self.meta and META_RANGE_DEL not in self.meta:
            raise self.fail("holds a v1 range deletion block (rocksdb.range_del), not read")
        self.properties: dict[bytes, bytes] = {}
        if META_PROPERTIES in self.meta:
            props = self.read_block(self.meta[META_PROPERTIES], "properties")
            if self.version >= 7:
                pairs = self._colblk(decode_key_value_block, props, "properties")
            else:
                pairs = list(iter_row_block(props, name, "properties", False))
            self.properties = dict(pairs)
        elif self.columnar:
            raise self.fail("metaindex has no properties block")
        self.comparer_name = self.properties.get(b"rocksdb.comparator", b"").decode(
            "utf-8", "replace"
        )
        self.schema = self.properties.get(PROP_KEY_SCHEMA, b"").decode("utf-8", "replace")
        if self.columnar and not self.schema:
            raise self.fail("columnar table without a key schema property (pebble.colblk.schema)")
        self._value_blocks: list[tuple[int, int]] | None = None
        self._value_cache: dict[int, bytes] = {}

    def fail(self, what: str) -> FormatError:
        return FormatError(f"{self.name}: {what}")

    def _colblk(self, decode: Callable[[bytes], _T], block: bytes, what: str) -> _T:
        try:
            return decode(block)
        except (ColumnError, struct.error, IndexError) as exc:
            raise self.fail(f"{what} block: {exc}") from None

    def decode_handle(self, value: bytes, where: str) -> tuple[int, int]:
        """offset, length varints; trailing bytes (block properties) are ignored."""
        try:
            offset, pos = get_uvarint(value, 0, len(value))
            length, _ = get_uvarint(value, pos, len(value))
        except ValueError:
            raise self.fail(f"corrupt block handle in {where}") from None
        if offset + length + BLOCK_TRAILER_LEN > self.footer.end:
            raise self.fail(f"block handle in {where} points past the end of the file")
        return offset, length

    def check_handle(self, handle: tuple[int, int], where: str) -> None:
        offset, length = handle
        if offset + length + BLOCK_TRAILER_LEN > self.footer.end:
            raise self.fail(f"block handle in {where} points past the end of the file")

    def read_block(self, handle: tuple[int, int], what: str) -> bytes:
        offset, length = handle
        end = offset + length
        if end + BLOCK_TRAILER_LEN > self.footer.end:
            raise self.fail(f"{what} block at offset {offset} runs past the end of the file")
        typed = bytes(self.data[offset : end + 1])  # the checksum libraries take bytes only
        (stored,) = struct.unpack_from("<I", self.data, end + 1)
        if block_checksum(self.footer.checksum, typed) != stored:
            raise self.fail(f"{what} block at offset {offset}: checksum mismatch")
        indicator = typed[-1]
        if indicator == COMPRESSION_NONE:
            return typed[:-1]
        # A compressed block goes to the decompressor as a view: no copy of its input.
        return decompress(memoryview(typed)[:-1], indicator, self.name, f"{what} block at offset {offset}")

    def int_property(self, name: bytes) -> int | None:
        raw = self.properties.get(name)
        if raw is None:
            return None
        if name == PROP_INDEX_TYPE:
            index_type: int = struct.unpack("<I", raw[:4].ljust(4, b"\0"))[0]
            return index_type
        try:
            return get_uvarint(raw, 0, len(raw))[0]
        except ValueError:
            raise self.fail(f"corrupt property {name.decode()}") from None

    def two_level(self) -> bool:
        return self.int_property(PROP_INDEX_TYPE) == INDEX_TWO_LEVEL

    def _index_entries(
        self, handle: tuple[int, int], what: str, native: bool = False
    ) -> list[tuple[bytes, tuple[int, int]]]:
        if native and not self.columnar and blockscan.AVAILABLE:
            # the same rules natively; None: the Python path decides (and raises its error)
            entries = blockscan.index_entries(
                self.data, handle, end=self.footer.end, checksum=self.footer.checksum
            )
            if entries is not None:
                return entries
        block = self.read_block(handle, what)
        if self.columnar:
            idx = self._colblk(decode_index_block, block, what)
            out = list(zip(idx.separators, zip(idx.offsets, idx.lengths)))
            for _, h in out:
                self.check_handle(h, what)
            return out
        seps, values = row_block_columns(block, self.name, what, False)
        where = what + " block"
        return [(sep, self.decode_handle(value, where)) for sep, value in zip(seps, values)]

    def data_handles(self, native: bool = False) -> Iterator[tuple[bytes, tuple[int, int]]]:
        """(separator, data block handle) from a one- or two-level index. Separators are
        internal keys in row tables and user keys in columnar ones. `native`: row index blocks
        are decoded by engine.formats.blockscan where it can (same entries, same errors)."""
        top = self._index_entries(self.footer.index, "index", native)
        if not self.two_level():
            yield from top
            return
        for _, handle in top:
            yield from self._index_entries(handle, "second-level index", native)

    # --- values stored out of line ---------------------------------------------------------

    def resolve_value(self, value: bytes, row: int) -> bytes:
        """A v3+ value with its prefix byte: in place, in a value block, or a blob reference."""
        if not value:
            raise self.fail(f"entry {row}: SET value without its value prefix byte")
        kind = value[0] & _VALUE_KIND_MASK
        if kind == _VALUE_IN_PLACE:
            return value[1:]
        try:
            if kind == _VALUE_BLOCK_HANDLE:
                vlen, pos = get_uvarint(value, 1, len(value))
                block_num, pos = get_uvarint(value, pos, len(value))
                offset, pos = get_uvarint(value, pos, len(value))
                block = self.value_block(block_num)
                if offset + vlen > len(block):
                    raise self.fail(f"entry {row}: value handle runs past value block {block_num}")
                return block[offset : offset + vlen]
            if kind == _VALUE_BLOB_HANDLE:
                ref, pos = get_uvarint(value, 1, len(value))
                vlen, pos = get_uvarint(value, pos, len(value))
                blk, pos = get_uvarint(value, pos, len(value))
                vid, pos = get_uvarint(value, pos, len(value))
        except ValueError:
            raise self.fail(f"entry {row}: corrupt value handle") from None
        if kind == _VALUE_BLOB_HANDLE:
            raise self.fail(
                f"entry {row}: the value ({vlen} bytes) is stored in a separate blob file "
                f"(Pebble value separation: blob reference f{ref}, block {blk}, value {vid}; "
                "the blob file's number is in Pebble's MANIFEST, not in this SST), which a "
                "backup SST must not depend on"
            )
        raise self.fail(f"entry {row}: unknown value kind 0x{value[0]:02x}")

    def value_blocks(self) -> list[tuple[int, int]]:
        """valblk.DecodeIndex: fixed-width (block number, offset, length) rows, numbers 0..n-1."""
        if self._value_blocks is None:
            if self.value_index is None:
                raise self.fail("a value refers to a value block but the table has no value index")
            raw = self.read_block(self.value_index.handle, "value index")
            wn, wo, wl = self.value_index.widths
            row = wn + wo + wl
            if row == 0 or len(raw) % row:
                raise self.fail("value index block has a partial entry")
            blocks = []
            for i, at in enumerate(range(0, len(raw), row)):
                num = int.from_bytes(raw[at : at + wn], "little")
                off = int.from_bytes(raw[at + wn : at + wn + wo], "little")
                length = int.from_bytes(raw[at + wn + wo : at + row], "little")
                if num != i:
                    raise self.fail(f"value index block lists block {num} where {i} belongs")
                self.check_handle((off, length), "value index")
                blocks.append((off, length))
            self._value_blocks = blocks
        return self._value_blocks

    def value_block(self, num: int) -> bytes:
        if num not in self._value_cache:
            blocks = self.value_blocks()
            if num >= len(blocks):
                raise self.fail(f"a value handle names value block {num} of {len(blocks)}")
            self._value_cache = {num: self.read_block(blocks[num], f"value block {num}")}
        return self._value_cache[num]

    # --- data blocks -----------------------------------------------------------------------

    def column_block(self, handle: tuple[int, int]) -> DataBlock:
        block = self.read_block(handle, "data")
        try:
            return decode_data_block(block, self.schema)
        except (ColumnError, struct.error, IndexError) as exc:
            raise self.fail(f"data block at offset {handle[0]}: {exc}") from None

    def column_values(self, block: DataBlock, first_row: int) -> list[bytes]:
        values = block.values.all()
        external = block.external
        if external:
            for i in range(block.rows):
                if external >> i & 1:
                    values[i] = self.resolve_value(values[i], first_row + i)
        return values

    def points(
        self,
        on_block: Callable[[bytes, bytes, int], None] | None = None,
        all_kinds: bool = False,
    ) -> Iterator[tuple[bytes, int, bytes]]:
        """(user key, trailer without the obsolete bit, value) of every point SET (of every
        point key, DEL and MERGE too, with `all_kinds`), block by block.
        `on_block(separator, last user key, last trailer)` runs after each data block."""
        allowed = POINT_KINDS if all_kinds else POINT_SETS
        row = 0
        for sep, handle in self.data_handles():
            if self.columnar:
                block = self.column_block(handle)
                kinds = {t & ~OBSOLETE_BIT & 0xFF for t in block.trailers}
                if not kinds <= allowed:
                    raise self.fail(kind_message(kinds - allowed))
                keys = block.user_keys()
                values = self.column_values(block, row)
                trailers = [t & ~OBSOLETE_BIT for t in block.trailers]
                yield from zip(keys, trailers, values)
                row += block.rows
                if on_block is not None:
                    on_block(sep, keys[-1], trailers[-1])
                continue
            keys, trailers, values = self.row_block(handle, row, allowed)
            yield from zip(keys, trailers, values)
            row += len(keys)
            if on_block is not None and keys:
                on_block(sep, keys[-1], trailers[-1])

    def row_block(
        self,
        handle: tuple[int, int],
        first_row: int,
        allowed: frozenset[int] = POINT_SETS,
        values_wanted: bool = True,
    ) -> tuple[list[bytes], list[int], list[bytes]]:
        """A row data block as columns: user keys, trailers (obsolete bit cleared), values
        (v3+ SET values without their prefix byte, out-of-line ones resolved). Without
        `values_wanted` the values list is empty: the values are not copied, only their prefix
        bytes checked and out-of-line ones resolved (what a check needs)."""
        block = self.read_block(handle, "data")
        v3 = self.version >= 3
        ikeys, values = row_block_columns(block, self.name, "data", v3, not values_wanted)
        if ikeys and min(map(len, ikeys)) < TRAILER_LEN:
            raise self.fail("data block holds a key shorter than its 8-byte trailer")
        keys = [k[:-TRAILER_LEN] for k in ikeys]
        trailers = [int.from_bytes(k[-TRAILER_LEN:], "little") for k in ikeys]
        if self.version >= 4:
            trailers = [t & ~OBSOLETE_BIT for t in trailers]
        kinds = {t & 0xFF for t in trailers}
        if not kinds <= allowed:
            raise self.fail(kind_message(kinds - allowed))
        if not values_wanted:
            if v3:
                self._check_prefixes(block, values, trailers, kinds == {KIND_SET}, first_row)
            return keys, trailers, []
        if v3:
            if kinds == {KIND_SET}:
                if not all(values):
                    raise self.fail("a SET value lacks its value prefix byte")
                plain = [v[0] & _VALUE_KIND_MASK == _VALUE_IN_PLACE for v in values]
                values = [
                    v[1:] if ok else self.resolve_value(v, first_row + i)
                    for i, (v, ok) in enumerate(zip(values, plain))
                ]
            else:  # only SETs carry the prefix byte (rowblk_writer.go addPoint)
                values = [
                    self.resolve_value(v, first_row + i) if (t & 0xFF) == KIND_SET else v
                    for i, (v, t) in enumerate(zip(values, trailers))
                ]
        return keys, trailers, values

    def _check_prefixes(
        self, block: bytes, firsts: list[int], trailers: list[int], sets_only: bool, first_row: int
    ) -> None:
        """row_block's value checks from each value's first byte (-1: empty): the same errors, in
        the same order, as resolving every SET value; only the rare out-of-line values (and the
        faulty ones) are sliced out of the block, by decoding it again."""
        mask = _VALUE_KIND_MASK
        if sets_only:
            if -1 in firsts:
                raise self.fail("a SET value lacks its value prefix byte")
            odd = [i for i, b in enumerate(firsts) if b & mask]
        else:  # only SETs carry the prefix byte; -1 & mask is nonzero, so empty SETs are odd
            odd = [
                i for i, (b, t) in enumerate(zip(firsts, trailers))
                if b & mask and t & 0xFF == KIND_SET
            ]
        if odd:
            _, values = row_block_columns(block, self.name, "data", True)
            for i in odd:
                self.resolve_value(values[i], first_row + i)

    # --- range deletions and range keys ----------------------------------------------------

    def spans(self) -> list[Span]:
        out: list[Span] = []
        if META_RANGE_DEL in self.meta:
            out += self._spans(self.meta[META_RANGE_DEL], "range deletion", (KIND_RANGE_DELETE,))
        if META_RANGE_KEY in self.meta:
            kinds = (KIND_RANGE_KEY_DELETE, KIND_RANGE_KEY_UNSET, KIND_RANGE_KEY_SET)
            out += self._spans(self.meta[META_RANGE_KEY], "range key", kinds)
        return out

    def _spans(self, handle: tuple[int, int], what: str, kinds: tuple[int, ...]) -> list[Span]:
        block = self.read_block(handle, what)
        out = []
        if self.columnar:
            for s in self._colblk(decode_keyspan_block, block, what):
                kind = s.trailer & 0xFF
                if kind not in kinds:
                    raise self.fail(f"{what} block holds a key of kind {kind}")
                seq = s.trailer >> 8
                out.append(Span(KIND_NAMES[kind], s.start, s.end, seq, s.suffix, s.value))
            return out
        for ikey, value in iter_row_block(block, self.name, what, False):
            if len(ikey) < TRAILER_LEN:
                raise self.fail(f"{what} block holds a key shorter than its trailer")
            (trailer,) = struct.unpack_from("<Q", ikey, len(ikey) - TRAILER_LEN)
            kind, seq, start = trailer & 0xFF, trailer >> 8, ikey[:-TRAILER_LEN]
            if kind not in kinds:
                raise self.fail(f"{what} block holds a key of kind {kind}")
            name = KIND_NAMES[kind]
            if kind in (KIND_RANGE_DELETE, KIND_RANGE_KEY_DELETE):
                out.append(Span(name, start, value, seq, b"", b""))
                continue
            try:
                end, pos = _varstring(value, 0)
                while pos < len(value):
                    suffix, pos = _varstring(value, pos)
                    val = b""
                    if kind == KIND_RANGE_KEY_SET:
                        val, pos = _varstring(value, pos)
                    out.append(Span(name, start, end, seq, suffix, val))
            except ValueError:
                raise self.fail(f"{what} block holds a corrupt range key value") from None
        return out


def _varstring(buf: bytes, pos: int) -> tuple[bytes, int]:
    n, pos = get_uvarint(buf, pos, len(buf))
    if pos + n > len(buf):
        raise ValueError("varstring past the end")
    return buf[pos : pos + n], pos + n


def kind_message(kinds: set[int]) -> str:
    names = ", ".join(sorted(KIND_NAMES.get(k, f"#{k}") for k in kinds))
    return f"point key kind {names} is not supported (backups hold SETs)"
