"""A pipelined check of one encrypted SST: AES-GCM of later chunks overlaps the checks of
earlier data blocks, in the one plaintext buffer a serial check uses.

Order of work on a v2 file (engine.formats.encrypted_file):
1. the chunks holding everything Table() and the non-data checks read (footer, metaindex,
   properties, index and its partitions, value index and value blocks, keyspan and other meta
   blocks: Pebble writes them all after the data blocks), found by parsing the footer and
   widening the decrypted tail until every such handle lies in it;
2. the checks start on another thread (check_table with `ready`), while this thread decrypts the
   data region front to back, a batch of chunks at a time, publishing how far it got; the
   checks call `ready(end)` before each batch of data blocks;
3. decryption done, this thread helps scan: it takes native batches of data blocks from the
   back of the table while the checks consume them from the front (ScanShare), then waits.

What a serial check reports, this reports: every tag is still checked; a decryption error wins
over any check error (the serial path decrypts the whole file first); the data region is
decrypted in file order, so its first bad chunk is the file's first; and anything odd before the
checks start (a bad chunk in the tail, a tail that fails to parse, a layout whose non-data blocks
come before a data block) falls back to the serial path, which then reports as it always did.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from engine.errors import FormatError
from engine.formats import blockscan
from engine.formats.encrypted_file import (
    CHUNK_SIZE,
    HEADER_SIZE,
    SEALED_CHUNK_SIZE,
    DecryptError,
    DecryptingReader,
)
from engine.formats.sst_check import ScanShare, check_table
from engine.formats.sst_format import V7_FOOTER_LEN, parse_footer
from engine.formats.sst_reader import CORRUPTION, Table

# Chunks decrypted between two publications of the ready point (and two on_batch calls): the
# serial path's batch, ~1 MiB of ciphertext per storage read.
BATCH_CHUNKS = 16
# Below this many chunks a file is checked serially: too little to overlap.
MIN_CHUNKS = 2 * BATCH_CHUNKS
# How often (seconds) the decrypting thread, done, wakes while the checks finish: progress and
# cancellation stay as lively as during decryption.
_WAIT_POLL = 0.1


class PlaintextUnavailable(Exception):
    """Raised in the checking thread by `ready` when decryption failed or was cancelled; never
    reaches a caller (the decrypting thread's own error is what is reported)."""


class ReadyPoint:
    """How far a buffer's plaintext is decrypted: [0, front) and [tail, size), shared by the
    decrypting thread (publish, stop) and the checks (ready)."""

    def __init__(self, tail: int) -> None:
        self._cond = threading.Condition()
        self._front = 0
        self._tail = tail
        self._stopped = False

    def publish(self, front: int) -> None:
        with self._cond:
            self._front = front
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def ready(self, end: int) -> None:
        """Block until plaintext [0, end) is decrypted; PlaintextUnavailable if it never will be."""
        with self._cond:
            while not self._stopped and self._front < min(end, self._tail):
                self._cond.wait()
            if self._stopped:
                raise PlaintextUnavailable(end)


@dataclass(frozen=True)
class CheckOptions:
    """How CHECK_FILES checks a file; every choice gives the same verdicts and errors.

    `pipelined`: v2 files are decrypted and checked at once (check_pipelined); None: when the
    native scanner is used, since Python checks hold the GIL, and AES-GCM, which releases it
    for every 64 KiB chunk, then waits up to a switch interval to take it back (measured in
    tests/bench/bench_check_files.py: no gain, up to 2x slower). `native`: data blocks go to the
    native scanner when it is built (engine.formats.blockscan); `workers`: threads scanning
    batches of data blocks beside the in-order checks (check_table); `help_scan`: in a pipelined
    check the decrypting thread, done before the checks (AES-GCM is about twice as fast as the
    native scan), scans batches from the back of the table meanwhile (ScanShare)."""

    pipelined: bool | None = None
    native: bool = True
    workers: int = 1
    help_scan: bool = True

    @property
    def pipelines(self) -> bool:
        """Whether check_chain_files pipelines v2 files with these options."""
        if self.pipelined is None:
            return self.native and blockscan.AVAILABLE
        return self.pipelined


SERIAL = CheckOptions(pipelined=False)


def check_serially(
    reader: DecryptingReader,
    buffer: bytearray,
    on_batch: Callable[[int], None],
    name: str,
    options: CheckOptions = SERIAL,
) -> int:
    """The serial path: decrypt the whole file front to back into `buffer`, then check it."""
    return check_plaintext(reader.plaintext_into(buffer, on_batch), name, options)


def check_plaintext(data: bytes | bytearray | memoryview, name: str, options: CheckOptions = SERIAL) -> int:
    """check_sst with the native scanner and its workers as `options` say."""
    return _check(lambda: Table(data, name), name, options)


def _check(
    table: Callable[[], Table],
    name: str,
    options: CheckOptions,
    ready: Callable[[int], None] | None = None,
    share: ScanShare | None = None,
) -> int:
    """check_sst's check of the Table `table()` builds, with its wrapping of corruption errors."""
    try:
        return check_table(
            table(), ready=ready, workers=options.workers, native=options.native, share=share
        )
    except CORRUPTION as exc:
        raise FormatError(f"{name}: corrupt SST ({type(exc).__name__})") from None
    finally:
        if share is not None:
            share.close()  # also when table() raised before check_table could


def check_pipelined(
    reader: DecryptingReader,
    buffer: bytearray,
    on_batch: Callable[[int], None],
    name: str,
    executor: Executor,
    options: CheckOptions = CheckOptions(),
    *,
    min_chunks: int = MIN_CHUNKS,
    batch_chunks: int = BATCH_CHUNKS,
    share: ScanShare | None = None,
) -> int:
    """Entry count of the SST in the v2 file `reader`, decrypted into `buffer`, as check_sst
    over the serially decrypted plaintext would give it (or raise: the same error).

    `on_batch(stored bytes decrypted so far)` runs on this thread after every batch and every
    _WAIT_POLL while the checks finish (progress; it may raise, e.g. Cancelled, which stops the
    checks and propagates); `executor` runs the checks. `share`: the ScanShare this thread
    helps through (tests read its counters); a new one by default."""
    count = reader.num_chunks
    if reader.version != 2 or count < min_chunks:
        return check_serially(reader, buffer, on_batch, name, options)
    size = reader.plaintext_size
    view = memoryview(buffer)[:size]
    done = HEADER_SIZE

    def opened(first: int, stop: int) -> None:
        nonlocal done
        end = reader.open_chunks_into(view, first, stop)
        done += end - (HEADER_SIZE + first * SEALED_CHUNK_SIZE)
        on_batch(done)

    def serially() -> int:
        return check_serially(reader, buffer, lambda n: on_batch(max(n, done)), name, options)

    # 1. The tail: from the footer down until every non-data handle lies in it.
    tail = max(0, size - V7_FOOTER_LEN) // CHUNK_SIZE
    try:
        _open_down(opened, tail, count, batch_chunks)
        while True:
            need = _needs_below(view, name, tail * CHUNK_SIZE)
            if isinstance(need, Table):
                table = need
                break
            lower = need // CHUNK_SIZE
            _open_down(opened, lower, tail, batch_chunks)
            tail = lower
    except (FormatError, *CORRUPTION):
        return serially()  # a bad chunk or odd bytes in the tail: report as the serial path does
    if tail == 0:  # the whole file is the tail
        return _check(lambda: table, name, options)

    # 2. The checks on another thread, the data region front to back here.
    point = ReadyPoint(tail * CHUNK_SIZE)
    share = share or ScanShare()
    checks = executor.submit(_check, lambda: table, name, options, point.ready, share)
    try:
        for first in range(0, tail, batch_chunks):
            stop = min(first + batch_chunks, tail)
            opened(first, stop)
            point.publish(stop * CHUNK_SIZE)
        # 3. Every data chunk is plaintext: scan batches from the back until the checks meet us.
        while options.help_scan and not checks.done() and share.help(_WAIT_POLL):
            on_batch(done)
        while True:
            try:
                checks.exception(timeout=_WAIT_POLL)
                break
            except TimeoutError:
                on_batch(done)
    except BaseException:
        point.stop()  # a decryption error (which wins over the checks') or a cancellation
        share.close()
        checks.exception()  # the buffer is not reused before the checks let go of it
        raise
    return checks.result()  # PlaintextUnavailable only ever follows stop(), which re-raised


def _open_down(opened: Callable[[int, int], None], first: int, stop: int, batch: int) -> None:
    """Open chunks [first, stop) in batches from the top down (the tail grows downwards)."""
    while stop > first:
        lo = max(first, stop - batch)
        opened(lo, stop)
        stop = lo


def _needs_below(view: memoryview, name: str, tail: int) -> Table | int:
    """The parsed Table if every block it and the non-data checks read starts at or after
    `tail` (where the decrypted tail begins); else the lowest offset found below it. Raises
    FormatError (or a CORRUPTION error) if the tail does not parse: the caller falls back.

    Nothing below `tail` is read, except that Table() reads the properties block before its
    handle can be seen; a handle below `tail` then sends the caller back here with more
    decrypted, and a failure there falls back."""
    footer = parse_footer(view, name)
    low = min(footer.metaindex[0], footer.index[0])
    if low < tail:
        return low
    table = Table(view, name)
    handles = list(table.meta.values())
    if table.two_level():
        handles += [h for _, h in table._index_entries(footer.index, "index")]
    if table.value_index is not None and table.value_index.handle[0] >= tail:
        handles += table.value_blocks()
    low = min((h[0] for h in handles), default=tail)
    return low if low < tail else table
