"""Whole-call deadlines for SDK calls, and the process-wide interrupt that abandons them.

SDK timeouts are per socket read: a server that trickles a byte a second is waited on forever,
and retries multiply a dead endpoint's wait. `call_with_deadline` runs the call on a daemon
thread (a cached idle one when there is one: starting a thread per KMS call cost more than the
call's own Python work at 32 workers) and stops waiting when the deadline passes, or at once after `interrupt()` (the first
Ctrl-C). The abandoned call may still finish in the background; whatever it was doing is then
not looked at. Create-only writes are never abandoned on interrupt (`abandon_on_interrupt`),
so a write that was sent completes and is seen, as the engine's "a write in flight always
completes" promise says.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from engine.errors import RewrapError

T = TypeVar("T")
POLL = 0.05  # seconds between looks at the interrupt flag

IDLE_SECONDS = 30.0  # an idle worker thread ends after this long without work

_interrupted = threading.Event()


class _Workers:
    """Daemon threads that run one call at a time and wait for the next while idle.

    Not a ThreadPoolExecutor: its threads are joined at interpreter exit, so one abandoned call
    to a dead endpoint would hold the process open, and its fixed size would queue new calls
    behind abandoned ones (whose deadline would then run out waiting). Here a call never waits
    for a thread: it takes an idle one or starts a new one, so abandoned calls cost only the
    thread they keep busy.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []

    def run(self, job: Callable[[], None], name: str) -> None:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            worker = _Worker(self)
            worker.jobs.append((job, name))
            worker.start()
        else:
            worker.give(job, name)

    def _park(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def _retire(self, worker: _Worker) -> bool:
        """Remove an idle worker that timed out; False when a job was just handed to it."""
        with self._lock:
            if worker in self._idle:
                self._idle.remove(worker)
                return True
            return False


class _Worker(threading.Thread):
    def __init__(self, pool: _Workers) -> None:
        super().__init__(name="rewrap call", daemon=True)
        self.pool = pool
        self.jobs: list[tuple[Callable[[], None], str]] = []
        self.ready = threading.Semaphore(0)

    def give(self, job: Callable[[], None], name: str) -> None:
        self.jobs.append((job, name))
        self.ready.release()

    def run(self) -> None:
        while True:
            job, _name = self.jobs.pop()
            job()  # never raises: call_with_deadline's work() catches everything
            self.pool._park(self)
            if not self.ready.acquire(timeout=IDLE_SECONDS):
                if self.pool._retire(self):
                    return
                self.ready.acquire()  # handed a job while timing out: it is on its way


_workers = _Workers()


class Cancelled(RewrapError):
    """The run was cancelled; raised between steps, never in the middle of a write."""


class DeadlineExceeded(Exception):
    """A call did not finish within its deadline; callers turn it into their own error."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


def interrupt() -> None:
    """Make every call waiting here (and every later one) raise Cancelled."""
    _interrupted.set()


def clear_interrupt() -> None:
    """Start over after an interrupted statement (the shell and the console run many)."""
    _interrupted.clear()


def interrupted() -> bool:
    return _interrupted.is_set()


def call_with_deadline(
    fn: Callable[[], T], seconds: float | None, *, what: str = "call", abandon_on_interrupt: bool = True
) -> T:
    """fn(), or DeadlineExceeded after `seconds` (None: no deadline), or Cancelled after
    `interrupt()`. Exceptions raised by fn are raised here."""
    if abandon_on_interrupt and _interrupted.is_set():
        raise Cancelled(f"{what}: cancelled")
    done = threading.Event()
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
            box["error"] = e
        finally:
            done.set()

    _workers.run(work, f"rewrap {what}")
    end = None if seconds is None else time.monotonic() + seconds
    while True:
        left = POLL if end is None else min(POLL, end - time.monotonic())
        if left > 0 and done.wait(left):
            break
        if done.is_set():
            break
        if abandon_on_interrupt and _interrupted.is_set():
            raise Cancelled(f"{what}: cancelled")
        if end is not None and time.monotonic() >= end:
            assert seconds is not None
            raise DeadlineExceeded(seconds)
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
