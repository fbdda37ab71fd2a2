"""The pipelined check (engine.formats.sst_pipeline) against the serial one: the same entry
count, and for every damage the same error text, whichever chunk or block is hit and however
many; cancellation from on_batch stops the checking thread; progress never goes back."""

from __future__ import annotations

import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.errors import FormatError, RewrapError
from engine.formats import encrypted_file as ef
from engine.formats.buffers import new_buffer
from engine.formats.sst_format import parse_footer
from engine.formats.sst_pipeline import CheckOptions, check_pipelined, check_serially
from engine.formats.sst_writers import write_table

KEY = bytes(range(32))
IV = bytes(range(100, 112))


def _rows(n: int, seed: int) -> list[tuple[bytes, bytes]]:
    rng = random.Random(seed)
    return [(b"k%08d\x00" % i, rng.randbytes(90)) for i in range(n)]


@pytest.fixture(scope="module")
def tables() -> dict[str, bytes]:
    """~2.3 MiB row (Pebble v2) and columnar (v7) tables: ~36 chunks, a few hundred blocks."""
    rows = _rows(22000, 1)
    return {
        "v2": write_table(rows, "pebble,v2", block_size=4096),
        "v7": write_table(rows, "pebble,v7"),
    }


# The pipelined path with the Python checker, the native scanner, and two scanning workers; the
# reference is always the serial Python path.
OPTIONS = [CheckOptions(native=False), CheckOptions(native=True), CheckOptions(native=True, workers=2)]
OPTION_IDS = ["python", "native", "native-2-workers"]


@pytest.fixture(params=OPTIONS, ids=OPTION_IDS)
def opts(request) -> CheckOptions:  # type: ignore[no-untyped-def]
    return request.param


class Pool:
    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(1)

    def idle(self) -> bool:
        """True when no check is still running (the buffer is free again)."""
        return self.pool.submit(lambda: True).result(timeout=10)


@pytest.fixture()
def pool():  # type: ignore[no-untyped-def]
    p = Pool()
    yield p
    p.pool.shutdown()


def _reader(stored: bytes) -> ef.DecryptingReader:
    return ef.DecryptingReader(lambda off, n: stored[off : off + n], len(stored), KEY, name="f.sst")


def _outcome(run: Callable[[], int]) -> tuple[str, object]:
    try:
        return "ok", run()
    except RewrapError as e:
        return type(e).__name__, str(e)


def both(
    stored: bytes, pool: Pool, opts: CheckOptions = OPTIONS[0], **kw: int
) -> tuple[tuple[str, object], tuple[str, object], list[int]]:
    """(serial Python outcome, pipelined outcome with `opts`, pipelined on_batch values)."""
    buf = new_buffer(len(stored))
    serial = _outcome(lambda: check_serially(_reader(stored), buf, lambda n: None, "f.sst"))
    seen: list[int] = []
    buf2 = new_buffer(len(stored))
    buf2[:] = b"\xa5" * len(stored)  # stale bytes where nothing is decrypted yet
    piped = _outcome(lambda: check_pipelined(_reader(stored), buf2, seen.append, "f.sst", pool.pool, opts, **kw))
    assert pool.idle()
    return serial, piped, seen


def _flip(stored: bytes, at: int) -> bytes:
    b = bytearray(stored)
    b[at] ^= 0x55
    return bytes(b)


def _chunk_at(i: int) -> int:
    return ef.HEADER_SIZE + i * ef.SEALED_CHUNK_SIZE + 1000


@pytest.mark.parametrize("fmt", ["v2", "v7"])
def test_a_good_file_gives_the_serial_count_and_progress_to_the_end(tables, pool, fmt, opts) -> None:  # type: ignore[no-untyped-def]
    stored = ef.encrypt(KEY, tables[fmt], iv=IV)
    serial, piped, seen = both(stored, pool, opts)
    assert serial == piped and serial[0] == "ok" and serial[1] == 22000
    assert seen == sorted(seen) and seen[-1] == len(stored)
    assert seen[0] < ef.HEADER_SIZE + 2 * ef.SEALED_CHUNK_SIZE  # the tail came first: pipelined
    assert len(seen) >= _reader(stored).num_chunks // 16  # a call per batch at least


@pytest.mark.parametrize("fmt", ["v2", "v7"])
@pytest.mark.parametrize("where", ["front", "middle", "tail", "index", "front+tail", "middle+last-but-one", "two in the data"])
def test_bad_chunks_report_the_first_in_file_order(tables, pool, fmt, where, opts) -> None:  # type: ignore[no-untyped-def]
    plain = tables[fmt]
    stored = ef.encrypt(KEY, plain, iv=IV)
    n = _reader(stored).num_chunks
    index_chunk = parse_footer(plain, "f").index[0] // ef.CHUNK_SIZE
    chunks = {
        "front": [0], "middle": [n // 2], "tail": [n - 1], "index": [index_chunk],
        "front+tail": [0, n - 1], "middle+last-but-one": [n // 2, n - 2], "two in the data": [3, 20],
    }[where]  # fmt: skip
    for c in chunks:
        stored = _flip(stored, _chunk_at(c) if c < n - 1 else len(stored) - 20)
    serial, piped, _ = both(stored, pool, opts)
    assert serial[0] == "DecryptError" and f"(chunk {min(chunks)})" in str(serial[1])
    assert piped == serial


@pytest.mark.parametrize("fmt", ["v2", "v7"])
@pytest.mark.parametrize("block_at", [0.05, 0.5, 0.9])
def test_a_damaged_block_gives_the_serial_error(tables, pool, fmt, block_at, opts) -> None:  # type: ignore[no-untyped-def]
    plain = bytearray(tables[fmt])
    plain[int(len(plain) * block_at)] ^= 0x01
    serial, piped, seen = both(ef.encrypt(KEY, bytes(plain), iv=IV), pool, opts)
    assert serial[0] == "FormatError" and piped == serial
    assert seen[0] < ef.HEADER_SIZE + 2 * ef.SEALED_CHUNK_SIZE  # pipelined, no fallback


def test_a_bad_chunk_after_a_bad_block_wins_as_in_the_serial_path(tables, pool, opts) -> None:  # type: ignore[no-untyped-def]
    plain = bytearray(tables["v2"])
    plain[5000] ^= 0x01  # the first data block: the checks fail long before decryption ends
    stored = ef.encrypt(KEY, bytes(plain), iv=IV)
    stored = _flip(stored, _chunk_at(25))
    serial, piped, _ = both(stored, pool, opts)
    assert "(chunk 25)" in str(serial[1]) and piped == serial


def test_damaged_tail_blocks_fall_back_to_the_serial_error(tables, pool, opts) -> None:  # type: ignore[no-untyped-def]
    plain = tables["v2"]
    footer = parse_footer(plain, "f")
    for at in (footer.index[0] + 7, footer.metaindex[0] + 3, len(plain) - 53):
        bad = bytearray(plain)
        bad[at] ^= 0x01
        serial, piped, _ = both(ef.encrypt(KEY, bytes(bad), iv=IV), pool, opts)
        assert serial[0] == "FormatError" and piped == serial


def test_small_and_v1_files_take_the_serial_path(tables, pool) -> None:  # type: ignore[no-untyped-def]
    small = write_table(_rows(50, 2), "pebble,v2")
    for stored in (ef.encrypt(KEY, small, iv=IV), ef.encrypt_v1(KEY, tables["v2"], iv=IV)):
        serial, piped, seen = both(stored, pool)
        assert serial == piped and serial[0] == "ok" and seen[-1] == len(stored)
    # a one-chunk file forced through the pipeline: its whole plaintext is the tail
    serial, piped, _ = both(ef.encrypt(KEY, small, iv=IV), pool, min_chunks=0)
    assert serial == piped == ("ok", 50)


def test_small_batches_interleave_and_agree(tables, pool, opts) -> None:  # type: ignore[no-untyped-def]
    stored = ef.encrypt(KEY, tables["v7"], iv=IV)
    serial, piped, seen = both(stored, pool, opts, batch_chunks=1)
    assert serial == piped and len(seen) >= _reader(stored).num_chunks


class Stop(RewrapError):
    pass


@pytest.mark.parametrize("after", [1, 2, 30])
def test_cancel_from_on_batch_stops_the_checks_and_propagates(tables, pool, after) -> None:  # type: ignore[no-untyped-def]
    stored = ef.encrypt(KEY, tables["v2"], iv=IV)
    calls = []

    def on_batch(n: int) -> None:
        calls.append(n)
        if len(calls) == after:
            raise Stop("cancelled")

    with pytest.raises(Stop):
        check_pipelined(_reader(stored), new_buffer(len(stored)), on_batch, "f.sst", pool.pool, batch_chunks=1)
    assert len(calls) == after and pool.idle()


def test_errors_name_the_file(tables, pool) -> None:  # type: ignore[no-untyped-def]
    stored = _flip(ef.encrypt(KEY, tables["v2"], iv=IV), _chunk_at(4))
    with pytest.raises(FormatError, match=r"^f\.sst: failed to decrypt: wrong key or corrupted data \(chunk 4\)$"):
        check_pipelined(_reader(stored), new_buffer(len(stored)), lambda n: None, "f.sst", pool.pool)


# --- the tail plan on Pebble's own files ---------------------------------------------------------

from engine.errors import FormatError as _FormatError  # noqa: E402
from engine.formats.sst import check_sst  # noqa: E402
from engine.formats.sst_pipeline import _needs_below  # noqa: E402
from engine.formats.sst_reader import CORRUPTION, Table  # noqa: E402
from tests.formats.pebble_testdata import FIXTURES  # noqa: E402

PEBBLE_SSTS = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.sst"))


@pytest.mark.parametrize("path", PEBBLE_SSTS)
def test_the_tail_plan_finds_every_non_data_block_of_pebble_files(path: str) -> None:
    """Byte-granular tails (chunks are 64 KiB, these files smaller): starting at the footer,
    widen to what _needs_below asks with stale bytes below the tail, as check_pipelined does;
    Pebble writes every non-data block after the data blocks, so the plan ends in a Table that
    checks the file exactly as check_sst does, without reading below its tail."""
    plain = (FIXTURES / path).read_bytes()
    buf = bytearray(len(plain))
    tail = len(plain) - 61 if len(plain) > 61 else 0
    widened = 0
    while True:
        buf[:tail] = b"\xa5" * tail
        buf[tail:] = plain[tail:]
        try:
            need = _needs_below(memoryview(buf), "f.sst", tail)
        except (_FormatError, *CORRUPTION):
            # a file the serial check rejects in its tail may fall back; none that it accepts
            with pytest.raises(_FormatError):
                check_sst(plain, name="f.sst")
            return
        if isinstance(need, Table):
            break
        assert 0 <= need < tail
        tail, widened = need, widened + 1
    assert widened <= 3
    data_ends = [h[0] + h[1] + 5 for _, h in Table(plain, "f").data_handles()]
    assert tail >= max(data_ends, default=0)  # the tail holds no data block: all of them pipeline
    buf[:] = plain  # then the data region arrives
    assert _outcome(lambda: _check_table(need)) == _outcome(lambda: check_sst(plain, name="f.sst"))


def _check_table(table: Table) -> int:
    from engine.formats.sst_pipeline import SERIAL, _check

    return _check(lambda: table, "f.sst", SERIAL)


def test_cancel_while_the_checks_finish_stops_them(tables, pool, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Decryption done, the checks still running: on_batch keeps running every poll, and its
    exception stops the checks at their next batch. The checks are held until decryption is
    over and the stop is given (on a fast machine they would otherwise finish first and leave
    nothing to stop); then their first wait for plaintext must fail."""
    import threading

    import engine.formats.sst_pipeline as sp

    monkeypatch.setattr(sp, "_WAIT_POLL", 0.0005)
    stored = ef.encrypt(KEY, tables["v2"], iv=IV)
    calls: list[int] = []
    stopped = threading.Event()
    seen: list[BaseException] = []
    real_check, real_stop = sp._check, sp.ReadyPoint.stop

    def held_check(*args, **kwargs):  # type: ignore[no-untyped-def]
        assert stopped.wait(60), "the pipeline never stopped its checks"
        try:
            return real_check(*args, **kwargs)
        except BaseException as e:
            seen.append(e)
            raise

    def stop(self) -> None:  # type: ignore[no-untyped-def]
        real_stop(self)
        stopped.set()

    monkeypatch.setattr(sp, "_check", held_check)
    monkeypatch.setattr(sp.ReadyPoint, "stop", stop)

    def on_batch(n: int) -> None:
        calls.append(n)
        if calls.count(len(stored)) == 2:  # the first poll after the last batch
            raise Stop("cancelled")

    with pytest.raises(Stop):
        check_pipelined(_reader(stored), new_buffer(len(stored)), on_batch, "f.sst", pool.pool,
                        CheckOptions(native=False, pipelined=True), batch_chunks=1)
    assert [type(e) for e in seen] == [sp.PlaintextUnavailable]
    assert pool.idle()
