"""ScanShare (engine.formats.sst_check): a second thread scanning native batches of data blocks
from the back of a table while check_table consumes them from the front gives the same count,
the same error text and the same error order as a serial check, native or not; cancellation
still stops the checks; a helper's scan error reaches the checker.

No upstream behaviour is involved (this is scheduling only); the rules checked are those
engine/formats/sst_check.py cites (Pebble's sstable/colblk/data_block.go DataBlockValidator at
f82e3ff7). The tables are CockroachDB-schema columnar SSTs from engine.formats.colblk_write, with
a small index block size so the index is two-level (Pebble's partitioned index) and an index
partition can be damaged while the data blocks listed before it stay good.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

import engine.formats.sst_check as sc
import engine.formats.sst_pipeline as sp
from engine.errors import RewrapError
from engine.formats import blockscan
from engine.formats import encrypted_file as ef
from engine.formats.buffers import new_buffer
from engine.formats.colblk_write import write_columnar_sst
from engine.formats.keys import encode_uvarint_ascending, table_prefix
from engine.formats.mvcc import encode_mvcc_key
from engine.formats.sst_check import ScanShare, check_table
from engine.formats.sst_pipeline import CheckOptions, check_pipelined
from engine.formats.sst_reader import CORRUPTION, Table



@pytest.fixture(scope="module", autouse=True)
def native_built() -> None:
    """The share only exists on the native paths; a missing build fails, never skips."""
    assert blockscan.AVAILABLE, "engine.formats._blockscan did not build (gcc, libsnappy-dev, ...)"

KEY = bytes(range(32))
IV = bytes(range(100, 112))
BATCH = 32 << 10  # small native batches: a few dozen per table


@pytest.fixture(autouse=True)
def small_batches(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sc, "_BATCH_BYTES", BATCH)


@pytest.fixture(scope="module")
def plain() -> bytes:
    """~1.2 MiB (stored; snappy) columnar SST, /Table/106/1/<pk>/0 MVCC rows, two-level index (1 KiB partitions)."""
    rng = random.Random(7)
    prefix = table_prefix(106) + encode_uvarint_ascending(1)
    rows = []
    for i in range(18000):
        pk = prefix + encode_uvarint_ascending(i) + b"\x88"
        rows.append((encode_mvcc_key(pk, 1_700_000_000_000_000_000 + i * 1000, 0),
                     rng.randbytes(60) + b"row %08d " % i * 5))
    return write_columnar_sst(rows, index_block_size=1024)


def _outcome(run: Callable[[], int]) -> tuple[str, object]:
    try:
        return "ok", run()
    except RewrapError as e:
        return type(e).__name__, str(e)
    except CORRUPTION as e:
        return type(e).__name__, str(e)


def _serial(data: bytes, native: bool) -> tuple[str, object]:
    return _outcome(lambda: check_table(Table(data, "f.sst"), native=native))


def _helped(data: bytes, k: int, workers: int = 1) -> tuple[tuple[str, object], ScanShare]:
    """check_table on a thread, held at its first wait for plaintext while this thread helps k
    times (fewer if nothing is left to claim), then let go."""
    table = Table(data, "f.sst")
    share = ScanShare()
    gate = threading.Event()

    def ready(end: int) -> None:
        assert gate.wait(60)

    with ThreadPoolExecutor(1) as pool:
        got = pool.submit(_outcome, lambda: check_table(table, ready=ready, workers=workers, share=share))
        try:
            for _ in range(k):
                for _ in range(600):  # True without scanning while the share is not open yet
                    before = share.helped
                    if not share.help(0.1) or share.helped > before:
                        break
        finally:
            gate.set()
        outcome = got.result(timeout=60)
    assert share.closed
    return outcome, share


def _batches(data: bytes) -> int:
    share = ScanShare()
    check_table(Table(data, "f.sst"), share=share)
    return share._back  # noqa: SLF001 - the number of native batches opened


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_helped_batches_are_used_and_the_count_is_the_serial_one(plain, k, workers) -> None:  # type: ignore[no-untyped-def]
    assert _batches(plain) > 20
    outcome, share = _helped(plain, k, workers)
    assert outcome == _serial(plain, native=False) == _serial(plain, native=True)
    assert outcome[0] == "ok" and share.helped == share.used == k


def test_helping_everything_leaves_the_checker_nothing_to_scan(plain) -> None:  # type: ignore[no-untyped-def]
    n = _batches(plain)
    outcome, share = _helped(plain, n + 5)
    assert outcome == _serial(plain, native=False) and share.helped == share.used == n
    assert not share.help(0.01)  # closed


def _data_blocks(data: bytes) -> list[tuple[int, int]]:
    return [h for _, h in Table(data, "f.sst").data_handles()]


def _damage_block(data: bytes, handle: tuple[int, int]) -> bytes:
    off, length = handle
    bad = bytearray(data)
    bad[off + length // 2] ^= 0x01  # the payload; the checksum is not fixed
    return bytes(bad)


@pytest.mark.parametrize("where", ["front", "back", "last", "meeting-helped", "meeting-checked", "both ends"])
def test_a_damaged_block_gives_the_serial_error_with_help(plain, where) -> None:  # type: ignore[no-untyped-def]
    k = 6
    blocks = _data_blocks(plain)
    per_batch = len(blocks) / _batches(plain)
    n = len(blocks)
    meet = int(n - k * per_batch)  # about where the helper's last-claimed batch starts
    at = {
        "front": [2], "back": [n - 3], "last": [n - 1], "meeting-helped": [meet + 2],
        "meeting-checked": [meet - 2], "both ends": [1, n - 2],
    }[where]  # fmt: skip
    data = plain
    for b in at:
        data = _damage_block(data, blocks[b])
    outcome, share = _helped(data, k)
    assert outcome[0] == "FormatError"
    assert outcome == _serial(data, native=False) == _serial(data, native=True)
    assert share.helped == k


def _partitions(data: bytes) -> list[tuple[int, int]]:
    t = Table(data, "f.sst")
    assert t.two_level()
    return [h for _, h in t._index_entries(t.footer.index, "index")]  # noqa: SLF001


@pytest.mark.parametrize("which", [0, 1, -1])
def test_an_index_error_comes_after_the_blocks_before_it_with_help(plain, which) -> None:  # type: ignore[no-untyped-def]
    parts = _partitions(plain)
    assert len(parts) >= 3
    off, length = parts[which]
    bad = bytearray(plain)
    bad[off + length // 2] ^= 0x01
    data = bytes(bad)
    outcome, share = _helped(data, 3)
    assert outcome[0] != "ok"
    assert outcome == _serial(data, native=False) == _serial(data, native=True)
    # the first partition bad: no data block is listed before it, so there is nothing to help
    assert share.helped == share.used == (0 if which == 0 else 3)
    # and a damaged block before the bad partition wins over it, as in the plain walk
    data = _damage_block(data, _data_blocks(plain)[3])
    outcome, _ = _helped(data, 3)
    assert outcome[0] == "FormatError"
    assert outcome == _serial(data, native=False) == _serial(data, native=True)


def test_a_helper_scan_error_is_raised_by_the_checker_at_its_batch() -> None:
    share = ScanShare()

    def scan(handles: list[tuple[int, int]]) -> list[blockscan.Summary | None]:
        if handles[0][0] == 30:
            raise ValueError("bad batch")
        return [None] * len(handles)

    share.open([[(0, 5)], [(10, 5)], [(20, 5)], [(30, 5)]], scan)
    assert share.help(0.01)  # batch 3: its error is stored
    assert share.help(0.01)  # batch 2
    assert share.helped == 2
    assert share.claim_front(0) and share.claim_front(1)
    assert not share.claim_front(2)
    assert share.result(2) == [None]
    assert not share.claim_front(3)
    with pytest.raises(ValueError, match="bad batch"):
        share.result(3)
    assert share.used == 2
    assert not share.help(0.01)  # nothing left
    share.close()
    assert not share.help(0.01)


def test_an_unopened_share_asks_again_and_a_closed_one_never_blocks() -> None:
    share = ScanShare()
    assert share.help(0.01) and share.helped == 0
    share.close()
    assert not share.help(60)


# --- through check_pipelined ---------------------------------------------------------------------


PIPE = {"min_chunks": 4, "batch_chunks": 4}  # a ~20-chunk file, pipelined


class Stop(RewrapError):
    pass


def _reader(stored: bytes) -> ef.DecryptingReader:
    return ef.DecryptingReader(lambda off, n: stored[off : off + n], len(stored), KEY, name="f.sst")


def _pipelined(
    stored: bytes,
    pool: ThreadPoolExecutor,
    options: CheckOptions,
    on_batch: Callable[[int], None] = lambda n: None,
    share: ScanShare | None = None,
) -> int:
    """check_pipelined of the encrypted file `stored` into a fresh buffer."""
    buffer = new_buffer(len(stored))
    return check_pipelined(_reader(stored), buffer, on_batch, "f.sst", pool, options, share=share, **PIPE)


def _hold_checks(monkeypatch, gate: threading.Event) -> None:  # type: ignore[no-untyped-def]
    """The checks wait for `gate` at every wait for plaintext (the real ReadyPoint's after it):
    decryption finishes first, so the helping is not left to timing."""
    real = sp._check

    def held(table, name, options, ready=None, share=None):  # type: ignore[no-untyped-def]
        def gated(end: int) -> None:
            assert gate.wait(60)
            ready(end)

        return real(table, name, options, gated, share)

    monkeypatch.setattr(sp, "_check", held)


def _no_blockscan_threads() -> bool:
    return not any(t.name.startswith("blockscan") for t in threading.enumerate())


@pytest.mark.parametrize("workers", [1, 2])
def test_pipelined_counts_agree_with_help_on_and_off(plain, monkeypatch, workers) -> None:  # type: ignore[no-untyped-def]
    stored = ef.encrypt(KEY, plain, iv=IV)
    serial = _serial(plain, native=False)
    with ThreadPoolExecutor(1) as pool:
        off = CheckOptions(pipelined=True, help_scan=False, workers=workers)
        share_off = ScanShare()
        got_off = _outcome(lambda: _pipelined(stored, pool, off, share=share_off))
        free = _outcome(lambda: _pipelined(stored, pool, CheckOptions(workers=workers)))
        gate = threading.Event()
        _hold_checks(monkeypatch, gate)
        share = ScanShare()

        def on_batch(n: int) -> None:
            if share.helped >= 4:
                gate.set()

        on = CheckOptions(pipelined=True, help_scan=True, workers=workers)
        got_on = _outcome(lambda: _pipelined(stored, pool, on, on_batch, share))
    assert got_on == got_off == free == serial and serial[0] == "ok"
    assert share_off.helped == 0 and share.helped == share.used >= 4 and share.closed
    assert _no_blockscan_threads()


def test_cancel_while_helping_stops_the_checks_and_propagates(plain, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    stored = ef.encrypt(KEY, plain, iv=IV)
    gate = threading.Event()
    _hold_checks(monkeypatch, gate)
    share = ScanShare()
    calls: list[int] = []

    def on_batch(n: int) -> None:
        calls.append(n)
        if share.helped >= 1:
            gate.set()
            raise Stop("cancelled")

    with ThreadPoolExecutor(1) as pool:
        with pytest.raises(Stop):
            _pipelined(stored, pool, CheckOptions(pipelined=True), on_batch, share)
        assert pool.submit(lambda: True).result(timeout=10)  # the checks let go
    assert share.closed and share.helped == 1 and calls[-1] == len(stored)
    assert not share.help(60)  # closed: never blocks, never scans
    assert _no_blockscan_threads()


def test_a_damaged_block_in_a_pipelined_check_with_help(plain, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    data = _damage_block(plain, _data_blocks(plain)[-2])  # in the batches the helper takes
    stored = ef.encrypt(KEY, data, iv=IV)
    want = _outcome(lambda: sp.check_plaintext(data, "f.sst", sp.SERIAL))
    gate = threading.Event()
    _hold_checks(monkeypatch, gate)
    share = ScanShare()

    def on_batch(_: int) -> None:
        if share.helped >= 3:
            gate.set()

    with ThreadPoolExecutor(1) as pool:
        got = _outcome(lambda: _pipelined(stored, pool, CheckOptions(pipelined=True), on_batch, share))
    assert got[0] == "FormatError" and share.helped >= 3
    assert got == want
