"""CHECK_FILES over a real chain on local storage (crdb_fixtures), pipelined against serial:
the same problems in the same order, the same per-file progress events, and cancellation in the
middle of a pipelined file. Its ~2.7 MiB files are small enough to be checked two at a time
(engine.reader.PAIR_MAX_BYTES); every test runs with that pairing and without it (then each
file goes through check_pipelined)."""

from __future__ import annotations

import hashlib
import random
import shutil
from pathlib import Path

import pytest

import crdb_fixtures as fx
import engine.reader
from engine.collection import open_collection_target
from engine.deadline import Cancelled
from engine.encryption import DataKey
from engine.execute import Executor
from engine.formats.sst_pipeline import CheckOptions
from engine.formats.sst_writers import write_table
from engine.reader import check_chain_files, read_contents
from engine.rewrap.events import CancelToken, CheckFinished, CheckProgress, CheckStarted, Event
from engine.storage import StorageSettings

KEY = bytes(range(32))
DB = (104, "bank")
SERIAL = CheckOptions(pipelined=False, native=False)
PIPED = [CheckOptions(native=False, pipelined=True), CheckOptions(native=True, pipelined=True),
         CheckOptions(native=True, pipelined=True, workers=2)]


@pytest.fixture(autouse=True, params=["pairs", "one-by-one"])
def pairing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "one-by-one":
        monkeypatch.setattr(engine.reader, "PAIR_MAX_BYTES", 0)
    return str(request.param)


def _table(seed: int, rows: int = 26000) -> bytes:
    rng = random.Random(seed)
    fmt = "pebble,v2" if seed % 2 else "pebble,v7"
    return write_table([(b"k%08d\x00" % i, rng.randbytes(90)) for i in range(rows)], fmt, block_size=4096)


def _chain(root: Path) -> list[Path]:
    """One full backup of four ~2.7 MiB data files (row and columnar), sealed by the fixtures'
    own AES-GCM; their paths in check order."""
    w = fx.Writer(root, data_key=KEY)
    end = fx.utc(2026, 11, 1, 10)
    full = fx.subdir(end).strip("/")
    w.put(f"{full}/ENCRYPTION-INFO", fx.encryption_info(kms={hashlib.sha256(b"cmk").digest(): fx.testkms_wrap("cmk", KEY)}))
    files = {f"data/{1000 + i}.sst": _table(i) for i in range(4)}
    tables = [fx.FixtureTable(200 + i, f"t{i}", 1000, len(p)) for i, p in enumerate(files.values())]
    w.backup_dir(full, fx.manifest(start=None, end=end, db=DB, tables=tables, files=list(files)), data_files=files)
    w.put("LATEST", ("/" + full).encode())
    return [root / full / p for p in sorted(files)]


def _flip(path: Path, at: int) -> None:
    b = bytearray(path.read_bytes())
    b[at] ^= 0x55
    path.write_bytes(bytes(b))


def _check(io_dir: Path, options: CheckOptions, **kw):  # type: ignore[no-untyped-def]
    ex = Executor(StorageSettings(external_io_dir=io_dir))
    _, backup = open_collection_target(ex.open_storage, "nodelocal://self/c", "LATEST")
    key = DataKey(KEY)
    contents = [read_contents(layer, key) for layer in backup.chain()]
    return check_chain_files(contents, key, options=options, **kw)


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chain with: file 0 two bad chunks (middle, then tail), file 1 a flipped byte in a
    data block (sealed intact), file 2 intact, file 3 a bad chunk at the front."""
    io_dir = tmp_path_factory.mktemp("io")
    paths = _chain(io_dir / "c")
    size = paths[0].stat().st_size
    _flip(paths[0], fx_chunk(20))
    _flip(paths[0], size - 40)
    plain = bytearray(fx.open_encrypted(KEY, paths[1].read_bytes()))
    plain[len(plain) // 3] ^= 1
    paths[1].write_bytes(fx.seal_v2(KEY, bytes(plain)))
    _flip(paths[3], fx_chunk(0))
    return io_dir


BAD_BLOCK = 908668  # the data block holding byte len // 3 of file 1 (4 KiB blocks)


def fx_chunk(i: int) -> int:
    return 20 + i * 65552 + 500


@pytest.mark.parametrize("options", PIPED, ids=["python", "native", "native-2-workers"])
def test_problems_are_the_serial_ones(damaged: Path, options: CheckOptions) -> None:
    serial = _check(damaged, SERIAL)
    assert [(p.path.rsplit("/", 1)[1], p.problem.split(": ", 1)[1]) for p in serial] == [
        ("1000.sst", "failed to decrypt: wrong key or corrupted data (chunk 20)"),
        ("1001.sst", f"data block at offset {BAD_BLOCK}: checksum mismatch"),
        ("1003.sst", "failed to decrypt: wrong key or corrupted data (chunk 0)"),
    ]
    assert _check(damaged, options) == serial


@pytest.mark.parametrize("options", PIPED, ids=["python", "native", "native-2-workers"])
def test_an_odd_file_out_and_a_missing_file(damaged: Path, tmp_path: Path, options: CheckOptions) -> None:
    """Three files left (the last one deleted): a pair, then one alone; the missing file is
    reported first, as the serial path lists it before checking anything."""
    io_dir = tmp_path / "io"
    shutil.copytree(damaged, io_dir)
    (last,) = io_dir.glob("c/*/*/*/data/1003.sst")
    last.unlink()
    serial = _check(io_dir, SERIAL)
    assert [(p.path.rsplit("/", 1)[1], p.problem.rsplit(": ", 1)[-1]) for p in serial] == [
        ("1003.sst", "missing"),
        ("1000.sst", "wrong key or corrupted data (chunk 20)"),
        ("1001.sst", "checksum mismatch"),
    ]
    assert _check(io_dir, options) == serial


def _events(io_dir: Path, options: CheckOptions) -> list[Event]:
    events: list[Event] = []
    _check(io_dir, options, progress=events.append)
    return events


def _file_ends(events: list[Event]) -> list[tuple[int, int]]:
    """(files_done, bytes_done) of the event after each file (the forced one)."""
    ends: dict[int, int] = {}
    for e in events:
        if isinstance(e, CheckProgress):
            ends[e.files_done] = max(ends.get(e.files_done, 0), e.bytes_done)
    return sorted(ends.items())


@pytest.mark.parametrize("options", PIPED, ids=["python", "native", "native-2-workers"])
def test_progress_events_keep_their_semantics(tmp_path: Path, options: CheckOptions, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _chain(tmp_path / "c")
    total = sum(p.stat().st_size for p in paths)
    monkeypatch.setattr(engine.reader, "_PROGRESS_EVERY", 0.0)  # an event per batch
    serial, piped = _events(tmp_path, SERIAL), _events(tmp_path, options)
    for events in (serial, piped):
        assert isinstance(events[0], CheckStarted) and isinstance(events[-1], CheckFinished)
        progress = [e for e in events if isinstance(e, CheckProgress)]
        assert [(e.files_done, e.bytes_done) for e in progress] == sorted((e.files_done, e.bytes_done) for e in progress)
        assert progress[-1].bytes_done == total and progress[-1].eta == 0.0
        assert all(e.bytes_done <= total for e in progress)
    assert _file_ends(serial) == _file_ends(piped)
    assert (serial[0], serial[-1].files_done, serial[-1].bytes_done) == (piped[0], piped[-1].files_done, piped[-1].bytes_done)
    # both emit an event after every batch of every file: the same order of magnitude of events
    n_serial = sum(isinstance(e, CheckProgress) for e in serial)
    n_piped = sum(isinstance(e, CheckProgress) for e in piped)
    assert n_serial // 2 <= n_piped <= 2 * n_serial + 8


@pytest.mark.parametrize("options", PIPED, ids=["python", "native", "native-2-workers"])
def test_cancel_in_the_middle_of_a_pipelined_file(tmp_path: Path, options: CheckOptions, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _chain(tmp_path / "c")
    first = paths[0].stat().st_size
    monkeypatch.setattr(engine.reader, "_PROGRESS_EVERY", 0.0)
    cancel = CancelToken()
    events: list[Event] = []

    def sink(e: Event) -> None:
        events.append(e)
        if isinstance(e, CheckProgress) and e.files_done == 0 and e.bytes_done >= 1 << 20:
            cancel.cancel()

    with pytest.raises(Cancelled, match=r"CHECK_FILES cancelled after 0 of 4 data files"):
        _check(tmp_path, options, progress=sink, cancel=cancel)
    seen = [e for e in events if isinstance(e, CheckProgress)]
    assert seen[-1].files_done == 0 and seen[-1].bytes_done < first
    assert isinstance(events[-1], CheckFinished) and events[-1].cancelled
