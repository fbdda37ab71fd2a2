"""check_sst's checks over a parsed Table (engine.formats.sst_reader): every block checksum,
key order under the table's comparer, index separators, keyspan blocks, value blocks, entry
counts and Pebble v7 footer attributes.

Row tables are checked block by block as columns, columnar tables on their decoded columns:
keys (or, for CockroachDB keys, their roach parts) compare bytewise in bulk, and the comparer
runs only where that does not decide (equal prefixes: MVCC versions, duplicates) and at block
boundaries. Pebble's DataBlockValidator (sstable/colblk/data_block.go at f82e3ff7) checks the
same per-block rules: order, prefix-changed bits, shadowed keys marked obsolete.

With the native scanner built (engine.formats.blockscan) data blocks go to it in batches, with
the GIL released: a block it accepts gets only the checks against its neighbours and its index
separator here; a block it defers takes the Python path below, which raises the exact error
(or accepts what the scanner leaves alone: MVCC versions of one key, out-of-line values). So
verdicts, errors and their order do not depend on whether it is built or used (native=False).

A ScanShare lets a second thread (check_pipelined's decrypting thread, once it has nothing left
to decrypt) scan native batches from the back of the table while check_table consumes them
from the front; the checks stay in index order on check_table's thread, so again nothing a
caller sees depends on it.
"""

from __future__ import annotations

import operator
import struct
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple

from engine.errors import FormatError
from engine.formats import blockscan
from engine.formats.colblk.blocks import CRDB1_SCHEMA
from engine.formats.mvcc import engine_compare
from engine.formats.sst_format import (
    ATTR_BLOB_VALUES,
    ATTR_POINT_KEYS,
    ATTR_RANGE_DELS,
    ATTR_RANGE_KEY_DELS,
    ATTR_RANGE_KEY_SETS,
    ATTR_RANGE_KEY_UNSETS,
    ATTR_TWO_LEVEL_INDEX,
    ATTR_VALUE_BLOCKS,
    BLOCK_TRAILER_LEN,
)
from engine.formats.sst_reader import (
    BYTEWISE_COMPARATOR,
    COMPARERS,
    CORRUPTION,
    META_PROPERTIES,
    META_RANGE_DEL,
    META_RANGE_KEY,
    META_VALUE_INDEX,
    OBSOLETE_BIT,
    POINT_SETS,
    TRAILER_LEN,
    Span,
    Table,
    bytewise_compare,
    kind_message,
)


Ready = Callable[[int], None]


def check_table(
    table: Table,
    ready: Ready | None = None,
    workers: int = 1,
    native: bool = True,
    *,
    share: ScanShare | None = None,
) -> int:
    """Entry count, after verifying every block checksum, key order (with the table's comparer),
    index separators, keyspan blocks, value blocks, v7 footer attributes and entry counts.

    `ready(end)` blocks until table.data[0:end) holds plaintext (the caller decrypts the rest
    meanwhile); it is called from this thread only, with ends that never decrease, before any
    byte below `end` is read beyond the footer, metaindex, properties and index blocks that
    Table() already read. `workers` > 1 scans batches of data blocks natively on that many
    threads (the scanner releases the GIL) while this thread checks block boundaries in order.
    `native` False (or the extension not built) checks every block in Python; either way the
    verdict, the error and its order are the same. `share`: native batches another thread may
    scan from the back (ScanShare.help); it is closed whatever way this returns."""
    share = share or ScanShare()
    try:
        return _check_table(table, ready, workers, native, share)
    finally:
        share.close()


def _check_table(table: Table, ready: Ready | None, workers: int, native: bool, share: ScanShare) -> int:
    comparer = table.comparer_name or BYTEWISE_COMPARATOR
    compare = COMPARERS.get(comparer)
    if compare is None:
        raise table.fail(f"cannot check key order: unknown comparer {comparer!r}")
    wait = ready or _no_wait
    if table.value_index is not None:
        wait(len(table.data))  # out-of-line values live in value blocks after the data blocks
    blocks = _Blocks(table, compare, wait, workers, native, share)
    if table.columnar:
        count = _check_columnar(table, compare, blocks)
    else:
        count = _check_rows(table, compare, blocks)
    wait(len(table.data))
    checked = {META_PROPERTIES}
    spans = table.spans()
    checked |= {META_RANGE_DEL, META_RANGE_KEY}
    _check_spans(table, spans, compare)
    if table.value_index is not None:
        for i in range(len(table.value_blocks())):
            table.value_block(i)
        checked.add(META_VALUE_INDEX)
    for meta_name, handle in table.meta.items():
        if meta_name not in checked:
            table.read_block(handle, meta_name.decode("utf-8", "replace"))
    expected = table.int_property(b"rocksdb.num.entries")
    range_dels = table.int_property(b"rocksdb.num.range-deletions") or 0
    if expected is not None and expected - range_dels != count:
        raise table.fail(f"holds {count} point entries, its properties say {expected - range_dels}")
    n_dels = sum(1 for s in spans if s.kind == "RANGEDEL")
    if table.int_property(b"rocksdb.num.range-deletions") not in (None, n_dels):
        raise table.fail(f"holds {n_dels} range deletions, its properties say {range_dels}")
    if table.footer.attributes is not None:
        _check_attributes(table)
    return count


def _no_wait(end: int) -> None:
    return None


_Entry = tuple[bytes, tuple[int, int]]  # (separator, data block handle)
_Scanned = tuple[bytes, tuple[int, int], "blockscan.Summary | None"]
_Summaries = list["blockscan.Summary | None"]
_Handles = list[tuple[int, int]]
# (entries, the pool's scan or None, the share's batch number or -1, the index's error)
_Pending = tuple[list[_Entry], "Future[_Summaries] | None", int, BaseException | None]
_BATCH_BYTES = 1 << 20  # a native batch: about 1 MiB of stored blocks
_BATCH_BLOCKS = 512


class ScanShare:
    """The native batches of one table's data blocks, scanned from the front by the checking
    thread and from the back by a helper, so two cores share the scanning.

    The checking thread opens it with every batch's handles (open), then per batch in order
    either claims it (claim_front: it scans it itself) or, if the helper got there first, waits
    for the helper's summaries (result: a scan error the helper met is raised there, as if the
    checker had scanned the batch). The helper calls help() once the whole data region is
    plaintext: it scans one unclaimed batch from the back. close() (check_table does it on every
    exit) ends the helping: help() then never blocks and never scans, so nothing reads the buffer
    once the checks let go of it. `helped` counts batches help() scanned, `used` those of them
    the checker consumed."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._batches: list[_Handles] = []
        self._scan: Callable[[_Handles], _Summaries] | None = None
        self._front = 0  # batches [0, front) are claimed in order by the checker...
        self._back = 0  # ...except those in [back, n), the helper's
        self._results: dict[int, _Summaries | BaseException] = {}
        self._opened = False
        self._closed = False
        self.helped = 0
        self.used = 0

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed

    def open(self, batches: list[_Handles], scan: Callable[[_Handles], _Summaries]) -> None:
        with self._cond:
            self._batches, self._scan = batches, scan
            self._back = len(batches)
            self._opened = True
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def claim_front(self, i: int) -> bool:
        """True: batch `i` (the next in order) is the caller's to scan; False: the helper's."""
        with self._cond:
            assert i == self._front, (i, self._front)
            self._front = i + 1
            return i < self._back

    def result(self, i: int) -> _Summaries:
        """The summaries the helper found for batch `i` (waiting for them), or its scan's error."""
        with self._cond:
            while i not in self._results:
                self._cond.wait()
            got = self._results.pop(i)
            self.used += 1
        if isinstance(got, BaseException):
            raise got
        return got

    def help(self, timeout: float) -> bool:
        """Scan one batch nobody claimed, from the back: True when one was scanned (or the share
        is not opened yet after `timeout` seconds: ask again), False when nothing is left to
        claim or the share is closed."""
        with self._cond:
            if not self._opened and not self._closed:
                self._cond.wait(timeout)
                if not self._opened and not self._closed:
                    return True
            if self._closed or self._front >= self._back:
                return False
            self._back -= 1
            i, handles, scan = self._back, self._batches[self._back], self._scan
        assert scan is not None
        got: _Summaries | BaseException
        try:
            got = scan(handles)
        except BaseException as exc:  # the checker raises it when it reaches this batch
            got = exc
        with self._cond:
            self._results[i] = got
            self.helped += 1
            self._cond.notify_all()
        if isinstance(got, BaseException) and not isinstance(got, Exception):
            raise got  # KeyboardInterrupt and the like stop this thread too
        return True


class _Blocks:
    """(separator, handle, native summary or None) of every data block, in index order.

    On the native paths the index is read whole first (it lies in the tail Table() already
    read), so its batches can be shared (ScanShare); an index block's error is still raised only
    after every data block listed before it was checked, as the plain walk does."""

    def __init__(
        self,
        table: Table,
        compare: Callable[[bytes, bytes], int],
        ready: Ready,
        workers: int,
        native: bool,
        share: ScanShare,
    ) -> None:
        self.table = table
        self.share = share
        self.ready = ready
        self.workers = max(1, workers)
        cockroach = compare is engine_compare
        supported = compare is engine_compare or compare is bytewise_compare
        if table.columnar:
            supported = supported and table.schema == CRDB1_SCHEMA
        self.use_native = native and blockscan.AVAILABLE  # index blocks: any comparer
        self.native = self.use_native and supported
        self.cockroach = cockroach

    def _scan(self, handles: list[tuple[int, int]]) -> list[blockscan.Summary | None]:
        t = self.table
        return blockscan.scan_blocks(
            t.data,
            handles,
            end=t.footer.end,
            checksum=t.footer.checksum,
            pebble_version=t.version,
            cockroach=self.cockroach,
            columnar=t.columnar,
        )

    def rescan(self, handle: tuple[int, int]) -> blockscan.Summary | None:
        """A block the batch deferred only because Python must decompress it (zstd, MinLZ):
        read and decoded by the Python path's own read_block (so its error, if any, is the one
        that path raises first), then scanned natively. None: the Python path checks it."""
        offset, length = handle
        t = self.table
        if not self.native or t.data[offset + length] in blockscan.NATIVE_DECODES:
            return None
        return blockscan.scan_block(
            t.read_block(handle, "data"),
            pebble_version=t.version,
            cockroach=self.cockroach,
            columnar=t.columnar,
        )

    def _batches(self) -> Iterator[tuple[list[_Entry], BaseException | None]]:
        """Batches of index entries; the last one carries the index's error, if any."""
        batch: list[_Entry] = []
        size = 0
        try:
            for entry in self.table.data_handles(native=self.use_native):
                batch.append(entry)
                size += entry[1][1]
                if size >= _BATCH_BYTES or len(batch) >= _BATCH_BLOCKS:
                    yield batch, None
                    batch, size = [], 0
        except CORRUPTION + (FormatError,) as exc:
            yield batch, exc
            return
        if batch:
            yield batch, None

    def __iter__(self) -> Iterator[_Scanned]:
        if not self.native:
            self.share.close()  # nothing native to share
            for batch, error in self._batches():
                for sep, handle in batch:
                    self.ready(handle[0] + handle[1] + BLOCK_TRAILER_LEN)
                    yield sep, handle, None
                if error is not None:
                    raise error
            return
        entries = list(self._batches())
        batches = [[h for _, h in batch] for batch, _ in entries if batch]
        self.share.open(batches, self._scan)
        if self.workers == 1:
            k = 0
            for batch, error in entries:
                if batch:
                    handles = batches[k]
                    self.ready(max(o + n for o, n in handles) + BLOCK_TRAILER_LEN)
                    if self.share.claim_front(k):
                        summaries = self._scan(handles)
                    else:
                        summaries = self.share.result(k)
                    k += 1
                    for (sep, handle), summary in zip(batch, summaries):
                        yield sep, handle, summary
                if error is not None:
                    raise error
            return
        yield from self._threaded(entries, batches)

    def _threaded(
        self, entries: list[tuple[list[_Entry], BaseException | None]], batches: list[_Handles]
    ) -> Iterator[_Scanned]:
        ahead = 2 * self.workers
        with ThreadPoolExecutor(self.workers, thread_name_prefix="blockscan") as pool:
            pending: deque[_Pending] = deque()
            todo = iter(entries)
            k = 0
            done = False
            try:
                while True:
                    while not done and len(pending) < ahead:
                        try:
                            batch, error = next(todo)
                        except StopIteration:
                            done = True
                            break
                        future = None
                        shared = -1
                        if batch:
                            handles = batches[k]
                            self.ready(max(o + n for o, n in handles) + BLOCK_TRAILER_LEN)
                            if self.share.claim_front(k):
                                future = pool.submit(self._scan, handles)
                            else:
                                shared = k
                            k += 1
                        pending.append((batch, future, shared, error))
                        if error is not None:
                            done = True
                    if not pending:
                        return
                    batch, future, shared, error = pending.popleft()
                    if future is not None:
                        summaries = future.result()
                    elif shared >= 0:
                        summaries = self.share.result(shared)
                    else:
                        summaries = []
                    for (sep, handle), summary in zip(batch, summaries):
                        yield sep, handle, summary
                    if error is not None:
                        raise error
            finally:
                for _, future, _, _ in pending:
                    if future is not None:
                        future.cancel()


_RUN = 256  # native-accepted blocks whose boundaries one check_boundaries call checks


def _runs(blocks: Iterable[_Scanned]) -> Iterator[list[_Scanned]]:
    """The entries of `blocks` in order, grouped: runs of up to _RUN native-accepted entries
    (summary not None), and every other entry alone. An error of the index is raised only after
    the run before it was handed out (and checked: its own error, if any, comes first)."""
    run: list[_Scanned] = []
    try:
        for entry in blocks:
            if entry[2] is None:
                if run:
                    yield run
                    run = []
                yield [entry]
            else:
                run.append(entry)
                if len(run) >= _RUN:
                    yield run
                    run = []
    except Exception:  # from `blocks` (the consumer's own errors close us: GeneratorExit)
        if run:
            yield run
        raise
    if run:
        yield run


def _check_rows(table: Table, compare: Callable[[bytes, bytes], int], blocks: _Blocks) -> int:
    """Key order block by block: user keys bytewise (or their roach parts, for the cockroach
    comparer) in bulk, the comparer itself only where that does not already decide. Blocks the
    native scanner accepted get only the checks against their neighbours and their separators,
    a run of them in one blockscan.check_boundaries call; an entry it rejects is checked again
    here (_row_boundary), which raises the error."""
    prev: tuple[bytes, int] | None = None
    count = 0
    clear = ~OBSOLETE_BIT if table.version >= 4 else -1
    if not blocks.native:  # no summaries: every block on the Python path, as before
        for entry in blocks:
            prev, count = _row_boundary(table, compare, blocks, clear, prev, count, entry)
        return count
    for run in _runs(blocks):
        i = 0
        if run[0][2] is not None:
            while True:
                i, rows, (last, last_trailer, _) = blockscan.check_boundaries(
                    run,  # type: ignore[arg-type]  # _runs: every summary of a run is set
                    i,
                    (None, 0, None) if prev is None else (prev[0], prev[1], None),
                    cockroach=blocks.cockroach,
                    columnar=False,
                    clear=clear,
                )
                count += rows
                prev = None if last is None else (last, last_trailer)
                if i == len(run):
                    break
                prev, count = _row_boundary(table, compare, blocks, clear, prev, count, run[i])
                i += 1
            continue
        for entry in run:
            prev, count = _row_boundary(table, compare, blocks, clear, prev, count, entry)
    return count


def _row_boundary(
    table: Table,
    compare: Callable[[bytes, bytes], int],
    blocks: _Blocks,
    clear: int,
    prev: tuple[bytes, int] | None,
    count: int,
    entry: _Scanned,
) -> tuple[tuple[bytes, int] | None, int]:
    """One data block of a row table: its own rules (unless the native scanner accepted it),
    then those against the previous block and its separator. The new (prev, count)."""
    sep, handle, summary = entry
    if summary is None:
        summary = blocks.rescan(handle)
    if summary is None:
        keys, trailers, _ = table.row_block(handle, count, values_wanted=False)
        if not keys:
            return prev, count
        _check_sorted(table, keys, trailers, compare, count)
        rows, first, first_trailer = len(keys), keys[0], trailers[0]
        last, last_trailer = keys[-1], trailers[-1]
    else:
        rows, first, first_trailer, last, last_trailer = summary
        if not rows:
            return prev, count
        first_trailer &= clear
        last_trailer &= clear
    if prev is not None:
        c = compare(prev[0], first)
        if c > 0 or (c == 0 and prev[1] <= first_trailer):
            raise table.fail(f"keys out of order at entry {count}")
    if len(sep) < TRAILER_LEN:
        raise table.fail("index separator is shorter than its 8-byte trailer")
    c = compare(last, sep[:-TRAILER_LEN])
    sep_trailer = struct.unpack_from("<Q", sep, len(sep) - TRAILER_LEN)[0]
    if c > 0 or (c == 0 and last_trailer < sep_trailer & ~OBSOLETE_BIT):
        raise table.fail("index separator sorts before the last key of its data block")
    return (last, last_trailer), count + rows


_LAST = operator.itemgetter(-1)


def _roach_parts(keys: list[bytes]) -> list[bytes] | None:
    """The roach key of each engine key, or None if one is malformed (EngineKeyCompare then
    falls back to bytewise for it, so the caller compares pairwise)."""
    try:
        parts = [k[: len(k) - 1 - k[-1]] for k in keys]
    except IndexError:  # an empty key
        return None
    # A well-formed key is part + version + length byte; a malformed one (version length past
    # the key) slices a part longer than len - 1 - length, so the totals differ: one C-speed
    # comparison instead of a Python test per key.
    if sum(map(len, parts)) + sum(map(_LAST, keys)) + len(keys) != sum(map(len, keys)):
        return None
    return parts


def _check_sorted(
    table: Table,
    keys: list[bytes],
    trailers: list[int],
    compare: Callable[[bytes, bytes], int],
    first_row: int,
) -> None:
    """Strictly increasing internal keys within one block."""
    order: list[bytes] | None
    if compare is bytewise_compare:
        order = keys
    elif compare is engine_compare:
        order = _roach_parts(keys)
    else:
        order = None
    if order is not None and all(map(operator.lt, order, order[1:])):
        return
    for i in range(1, len(keys)):
        c = compare(keys[i - 1], keys[i])
        if c > 0 or (c == 0 and trailers[i - 1] <= trailers[i]):
            raise table.fail(f"keys out of order at entry {first_row + i}")


def _check_columnar(table: Table, compare: Callable[[bytes, bytes], int], blocks: _Blocks) -> int:
    """Key order checked on the decoded columns: roach keys (or key prefixes) bytewise in bulk,
    MVCC timestamps and trailers only where prefixes repeat; block boundaries and index
    separators with the comparer on the first and last user keys. Blocks the native scanner
    accepted get only the checks against their neighbours and their separators, a run of them
    in one blockscan.check_boundaries call; an entry it stops at is checked again here
    (_columnar_block), which raises the error or checks a block of no rows."""
    state = _ColumnarState(None, None, 0)
    # crdb1 under EngineKeyCompare: distinct roach keys order bytewise, so the prefix column
    # alone decides; any other pairing compares materialized keys.
    fast = table.schema == CRDB1_SCHEMA and compare is engine_compare
    if not blocks.native:  # no summaries: every block on the Python path, as before
        for entry in blocks:
            state = _columnar_block(table, compare, blocks, fast, state, entry)
        return state.entries
    for run in _runs(blocks):
        i = 0
        if run[0][2] is not None:
            while True:
                prev_last, prev_sep, count = state
                i, rows, (last, last_trailer, sep) = blockscan.check_boundaries(
                    run,  # type: ignore[arg-type]  # _runs: every summary of a run is set
                    i,
                    (None, 0, prev_sep) if prev_last is None else (*prev_last, prev_sep),
                    cockroach=blocks.cockroach,
                    columnar=True,
                    clear=-1,
                )
                state = _ColumnarState(
                    None if last is None else (last, last_trailer), sep, count + rows
                )
                if i == len(run):
                    break
                state = _columnar_block(table, compare, blocks, fast, state, run[i])
                i += 1
            continue
        for entry in run:
            state = _columnar_block(table, compare, blocks, fast, state, entry)
    return state.entries


class _ColumnarState(NamedTuple):
    """What _check_columnar carries from one data block to the next."""

    prev_last: tuple[bytes, int] | None  # the last user key and its trailer
    prev_sep: bytes | None  # its index separator
    entries: int  # entries so far


def _columnar_block(
    table: Table,
    compare: Callable[[bytes, bytes], int],
    blocks: _Blocks,
    fast: bool,
    state: _ColumnarState,
    entry: _Scanned,
) -> _ColumnarState:
    """One data block of a columnar table: its own rules on the decoded columns (unless the
    native scanner accepted it), then those against the previous block and the separators."""
    prev_last, prev_sep, count = state
    sep, handle, summary = entry
    if summary is None:
        summary = blocks.rescan(handle)
    if summary is not None and summary[0]:
        n, first, first_trailer, last, last_trailer = summary
        if prev_last is not None:
            c = compare(prev_last[0], first)
            if c > 0 or (c == 0 and prev_last[1] <= first_trailer):
                raise table.fail(f"keys out of order at entry {count}")
        if compare(sep, last) < 0:
            raise table.fail("index separator sorts before the last key of its data block")
        if prev_sep is not None and compare(prev_sep, first) > 0:
            raise table.fail("index separator sorts after the first key of the next data block")
        return _ColumnarState((last, last_trailer), sep, count + n)
    block = table.column_block(handle)
    n = block.rows
    kinds = {t & 0xFF for t in block.trailers}
    if not kinds <= POINT_SETS:
        raise table.fail(kind_message(kinds - POINT_SETS))
    prefixes = block.prefixes
    distinct = list(map(operator.ne, prefixes, prefixes[1:]))
    all_distinct = all(distinct)
    full = (1 << n) - 1
    if all_distinct:
        expected_changed = full
    else:
        expected_changed = 1 | sum(1 << (i + 1) for i, d in enumerate(distinct) if d)
    if (block.prefix_changed | 1) != expected_changed:
        raise table.fail(
            f"data block at offset {handle[0]}: prefix-changed bitmap disagrees with the keys"
        )
    keys: list[bytes] | None = None
    if not all_distinct or not fast:
        keys = block.user_keys()
        for i in range(1, n):
            c = compare(keys[i - 1], keys[i])
            if c > 0 or (c == 0 and block.trailers[i - 1] <= block.trailers[i]):
                raise table.fail(f"keys out of order at entry {count + i}")
            if c == 0 and not block.obsolete >> i & 1:
                raise table.fail(f"entry {count + i} repeats a user key without being obsolete")
    else:
        # crdb1, distinct roach keys: EngineKeyCompare is their bytewise order.
        if not all(map(operator.lt, prefixes, prefixes[1:])):
            i = next(i for i in range(1, n) if prefixes[i - 1] >= prefixes[i])
            raise table.fail(f"keys out of order at entry {count + i}")
    if block.external:
        table.column_values(block, count)
    first = keys[0] if keys else block.key_at(0)
    last = keys[-1] if keys else block.key_at(n - 1)
    if prev_last is not None:
        c = compare(prev_last[0], first)
        if c > 0 or (c == 0 and prev_last[1] <= block.trailers[0]):
            raise table.fail(f"keys out of order at entry {count}")
    if compare(sep, last) < 0:
        raise table.fail("index separator sorts before the last key of its data block")
    if prev_sep is not None and compare(prev_sep, first) > 0:
        raise table.fail("index separator sorts after the first key of the next data block")
    return _ColumnarState((last, block.trailers[-1]), sep, count + n)


def _check_spans(table: Table, spans: list[Span], compare: Callable[[bytes, bytes], int]) -> None:
    prev: dict[str, Span] = {}
    for s in spans:
        if compare(s.start, s.end) > 0:  # Pebble writes empty spans (hamlet-sst's a-a)
            raise table.fail(f"{s.kind} span has its start key after its end key")
        group = "RANGEDEL" if s.kind == "RANGEDEL" else "RANGEKEY"
        p = prev.get(group)
        if p is not None:
            c = compare(p.start, s.start)
            if c > 0 or (c == 0 and compare(p.end, s.end) != 0):
                raise table.fail(f"{s.kind} spans are out of order or not fragmented")
        prev[group] = s


def _check_attributes(table: Table) -> None:
    """Pebble v7: the footer's attribute bits must equal what the properties say."""

    def positive(name: str) -> bool:
        return (table.int_property(name.encode()) or 0) > 0

    want = 0
    if positive("pebble.num.value-blocks") or positive("pebble.num.values.in.value-blocks"):
        want |= ATTR_VALUE_BLOCKS
    if positive("pebble.num.range-key-sets"):
        want |= ATTR_RANGE_KEY_SETS
    if positive("pebble.num.range-key-unsets"):
        want |= ATTR_RANGE_KEY_UNSETS
    if positive("pebble.num.range-key-dels"):
        want |= ATTR_RANGE_KEY_DELS
    if positive("rocksdb.num.range-deletions"):
        want |= ATTR_RANGE_DELS
    if table.two_level():
        want |= ATTR_TWO_LEVEL_INDEX
    if positive("pebble.num.values.in.blob-files"):
        want |= ATTR_BLOB_VALUES
    if positive("rocksdb.num.data.blocks"):
        want |= ATTR_POINT_KEYS
    if want != table.footer.attributes:
        raise table.fail(
            f"footer attributes 0x{table.footer.attributes:x} disagree with the properties "
            f"(0x{want:x})"
        )
