"""ALTER BACKUP ALL over two processes: the run's own and one helper, each with its own GIL.

At 32 workers a large ALTER ALL is bound by one interpreter lock: boto3's signing and parsing
and rewrap's per-backup work all need it, so wall time tracks the CPU time one process can hold
it for (a bare boto3 thread pool making only the KMS calls is bound the same way). A helper
process (`python -m engine.rewrap.worker`) takes half of the workers; both pull backups from one
queue held here, so the share follows the speed of each side and the helper's start-up
(interpreter, boto3, its own clients) costs nothing but its own CPU.

What stays as in one process:
- every backup runs the same `rewrap_backup` (same steps, checks, create-only writes, journal
  records: the journal is O_APPEND, one write a line, safe across processes; the helper makes
  its records durable before it exits, and the run waits for it, so the statement still returns
  only after every record is on disk);
- one event stream, in the caller's process: the helper's events are sent over its stdout and
  emitted here; outcomes come back in the order given;
- cancellation: a cancel (or Ctrl-C, which the helper ignores itself) is relayed at once, and the
  helper's calls in flight are abandoned as here (engine.deadline.interrupt); if this process
  dies, the helper sees its stdin close and cancels the same way;
- a helper that fails or dies never loses a backup: whatever it was given and did not report is
  run here afterwards (rewrap is safe to re-run on a backup: keys are proven before anything is
  written, and a key already stored is "already present").

Only for what a fresh process can reopen exactly: local storage (file://, nodelocal://), KMS
schemes built in (not ones registered at run time, e.g. by tests), a KMSEnv that pickles; and
only when it pays: `SPLIT_MIN_CONCURRENCY` workers or more and `SPLIT_MIN_BACKUPS` backups or
more. One difference: a KMS that timed out is remembered per process, so each process waits
for it once (at the same time) before failing the rest of its backups at once.

Wire format, both ways: frames of a 4-byte big-endian length and a pickle (same program on both
sides; the pipes are private to the two processes).
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.collection import FullBackup
from engine.kms import KMSEnv
from engine.kms.registry import PROVIDERS, _REGISTERED
from engine.rewrap.events import BackupFinished, CancelToken, Event, Notice
from engine.rewrap.journal import AuditJournal
from engine.settings import Limits, limits

SPLIT_MIN_CONCURRENCY = 16
"""Below this many workers one process is not bound by its interpreter lock (bench_alter_aws.py:
at 8 workers rewrap is within a few per cent of the bound)."""

SPLIT_MIN_BACKUPS = 200
"""A helper costs ~0.3 s of CPU to start (interpreter, boto3, clients): worth it for long runs."""

CANCEL_POLL = 0.05  # seconds between looks at the cancel token while the helper runs

_FRAME = struct.Struct(">I")


def write_frame(out: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_FRAME.pack(len(data)) + data)
    out.flush()


def read_frame(inp: IO[bytes]) -> Any:
    """The next message, or None at end of stream (also for a stream cut mid-frame)."""
    head = inp.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(head)
    data = inp.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)


@dataclass(frozen=True)
class Job:
    """What the helper needs to run backups of the statement exactly as this process would."""

    storage: object  # the collection's LocalStorage (pickles without its warnings and locks)
    paths: tuple[str, ...]  # FullBackup.path of every backup of the run, by index
    new_kms: tuple[str, ...]
    old_kms: tuple[str, ...]
    statement: str
    dry_run: bool
    concurrency: int
    env: KMSEnv | None
    limits: Limits
    journal: str | None
    first: tuple[int, ...]  # the indices to start with (more are asked for)


def _schemes_built_in(uris: Sequence[str]) -> bool:
    for uri in uris:
        scheme = uri.partition(":")[0].lower()
        if scheme not in PROVIDERS or scheme in _REGISTERED or scheme == "external":
            return False
    return True


def split_job(
    backups: Sequence[FullBackup],
    *,
    new_kms: Sequence[str],
    old_kms: Sequence[str],
    statement: str,
    dry_run: bool,
    concurrency: int,
    env: KMSEnv | None,
    journal: AuditJournal | None,
    processes: int | None,
) -> Job | None:
    """The helper's job when this run should be split (None: run in this process alone).
    `processes`: 1 never splits, 2 splits whenever possible, None decides by the thresholds."""
    from engine.storage.local import LocalStorage

    if processes == 1 or len(backups) < 2 or concurrency < 2:
        return None
    if processes is None and (concurrency < SPLIT_MIN_CONCURRENCY or len(backups) < SPLIT_MIN_BACKUPS):
        return None
    if processes is None and (os.cpu_count() or 1) < 2:
        return None
    coll = backups[0].collection
    if type(coll.storage) is not LocalStorage or any(b.collection is not coll for b in backups):
        return None
    if not _schemes_built_in([*new_kms, *old_kms]):
        return None
    try:
        pickle.dumps((coll.storage, env))
    except Exception:  # noqa: BLE001 - e.g. a test's injected credential object
        return None
    return Job(
        storage=coll.storage, paths=tuple(b.path for b in backups), new_kms=tuple(new_kms),
        old_kms=tuple(old_kms), statement=statement, dry_run=dry_run, concurrency=concurrency // 2,
        env=env, limits=limits(), journal=str(journal.path) if journal is not None else None,
        first=(),
    )


class _Queue:
    """Indices not yet started, shared by this process's workers and the helper."""

    def __init__(self, n: int) -> None:
        self._todo = deque(range(n))
        self._lock = threading.Lock()

    def take(self, k: int = 1) -> list[int]:
        with self._lock:
            return [self._todo.popleft() for _ in range(min(k, len(self._todo)))]


def run_split(
    backups: Sequence[FullBackup],
    helper: Helper,
    one: Callable[[FullBackup], BackupFinished],
    concurrency: int,
) -> list[BackupFinished]:
    """Run every backup, here with `concurrency - job.concurrency` workers and in the started
    `helper` with `job.concurrency`; returns one outcome per backup, in the order given."""
    from concurrent.futures import ThreadPoolExecutor

    n = len(backups)
    outcomes, queue = helper.outcomes, helper.queue
    mine = max(1, concurrency - helper.job.concurrency)

    def work() -> None:
        while True:
            taken = queue.take()
            if not taken:
                return
            (i,) = taken
            outcomes[i] = one(backups[i])

    try:
        with ThreadPoolExecutor(max_workers=mine) as pool:
            for f in [pool.submit(work) for _ in range(mine)]:
                f.result()
    finally:
        helper.join()
    # Given to a helper that did not report them (it failed or died): run them here.
    for i in range(n):
        if outcomes[i] is None:
            outcomes[i] = one(backups[i])
    return [o for o in outcomes if o is not None]


class Helper:
    """The helper process, the queue it shares with this process's workers, and the threads
    that talk to it. `start` it early (its start-up overlaps this process's own client builds),
    then `run_split`, or `stop` it if the run ends before."""

    def __init__(self, job: Job, n: int, emit: Callable[[Event], None], cancel: CancelToken) -> None:
        self.job, self.emit, self.cancel = job, emit, cancel
        self.queue = _Queue(n)
        self.outcomes: list[BackupFinished | None] = [None] * n
        self.reported = 0  # outcomes the helper sent
        self.proc: subprocess.Popen[bytes] | None = None
        self.threads: list[threading.Thread] = []
        self.done = threading.Event()
        self.stderr_done = threading.Event()
        self.send_lock = threading.Lock()
        self.stderr_tail = b""
        self.said_lost = False

    def start(self) -> None:
        first = tuple(self.queue.take(self.job.concurrency))
        if not first:
            self.done.set()
            return
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "engine.rewrap.worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            )
            assert self.proc.stdin is not None
            self._send(Job(**{**self.job.__dict__, "first": first}))
        except (OSError, ValueError) as e:
            self._lost(f"could not start: {e}")
            self.done.set()
            return
        for target in (self._read, self._read_stderr, self._relay_cancel):
            t = threading.Thread(target=target, name="rewrap helper", daemon=True)
            t.start()
            self.threads.append(t)

    def _send(self, message: object) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        with self.send_lock:
            try:
                write_frame(self.proc.stdin, message)
            except (OSError, ValueError):
                pass  # the helper is gone: its reader sees that and what it did not finish

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        try:
            while (batch := read_frame(self.proc.stdout)) is not None:
                for msg in batch:
                    self._handle(msg)
        except Exception as e:  # noqa: BLE001 - a bad frame, or the sink failed on an event
            # Nobody reads the helper's output any more, so it would block on a full pipe: end
            # it (its writes are create-only and published whole, or not at all) and run what it
            # did not report here.
            self.proc.kill()
            self._lost(f"was stopped after an error handling its messages ({type(e).__name__}: {e})")
        finally:
            rc = self.proc.wait()
            if rc != 0 and not self.said_lost:
                self.stderr_done.wait(2)  # its last line goes into the notice
                self._lost(f"exited with status {rc}" + self._tail())
            self.done.set()

    def _handle(self, msg: tuple[Any, ...]) -> None:
        kind = msg[0]
        if kind == "event":
            self.emit(msg[1])
        elif kind == "result":
            self.outcomes[msg[1]] = msg[2]
            self.reported += 1
        elif kind == "warning":
            self.job.storage.add_warning(msg[1])  # type: ignore[attr-defined]
        elif kind == "more":
            taken = self.queue.take(msg[1])
            self._send(("jobs", taken) if taken else ("end",))

    def _read_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        try:
            for line in self.proc.stderr:
                self.stderr_tail = (self.stderr_tail + line)[-2000:]
        except (OSError, ValueError):
            pass
        finally:
            self.stderr_done.set()

    def _tail(self) -> str:
        from syntax.redact import redact_text

        text = self.stderr_tail.decode("utf-8", "replace").strip().splitlines()
        return f": {redact_text(text[-1])}" if text else ""

    def _lost(self, why: str) -> None:
        self.said_lost = True
        self.emit(Notice("helper process", f"the helper process {why}; the backups it had not "
                         "finished are run in the main process"))

    def _relay_cancel(self) -> None:
        from engine.deadline import interrupted

        while not self.done.is_set():
            if self.cancel.cancelled or interrupted():
                self._send(("cancel",))
                return
            self.done.wait(CANCEL_POLL)

    def stop(self) -> None:
        """End a helper whose run never started: it cancels what it was given and exits."""
        if self.proc is not None and self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        self.join()

    def join(self) -> None:
        self.done.wait()
        for t in self.threads:
            t.join()
        if self.proc is not None:
            for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if f is not None:
                    try:
                        f.close()
                    except (OSError, ValueError):
                        pass

