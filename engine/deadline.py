"""Whole-call deadlines for SDK calls, and the process-wide interrupt that abandons them.

Two ways, one contract. SDK timeouts are per socket read: a server that trickles a byte a second is waited on forever,
and retries multiply a dead endpoint's wait. `call_with_deadline` runs the call on a daemon
thread (a cached idle one when there is one: starting a thread per KMS call cost more than the
call's own Python work at 32 workers) and stops waiting when the deadline passes, or at once after `interrupt()` (the first
Ctrl-C). The abandoned call may still finish in the background; whatever it was doing is then
not looked at. Create-only writes are never abandoned on interrupt (`abandon_on_interrupt`),
so a write that was sent completes and is seen, as the engine's "a write in flight always
completes" promise says. `call_inline` makes the call in the caller's own thread instead, for an
SDK whose sockets and retries can be hooked (AWS KMS with static keys): one watchdog thread for
the process shuts down the sockets of a call whose deadline passed, or of every call on
`interrupt()`.
"""

from __future__ import annotations

import _thread
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

    Hand-offs use bare locks (`_thread.allocate_lock`) as binary semaphores, not
    threading.Event/Semaphore: those are Conditions that allocate a lock per wait and take a
    second one around it, which at 32 workers making 3 calls a backup was ~0.5 ms of CPU per
    backup and more GIL hand-overs (tests/bench/bench_alter_aws.py).
    """

    def __init__(self) -> None:
        self._lock = _thread.allocate_lock()
        self._idle: list[_Worker] = []

    def run(self, job: Callable[[], None]) -> None:
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None:
            _Worker(self, job).start()
        else:
            worker.give(job)

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
    def __init__(self, pool: _Workers, job: Callable[[], None]) -> None:
        super().__init__(name="rewrap call", daemon=True)
        self.pool = pool
        self.job: Callable[[], None] | None = job
        # Held while there is no job; released once per job handed over (by `give`), which
        # happens only after `_park`, so it is never released twice.
        self.ready = _thread.allocate_lock()
        self.ready.acquire()

    def give(self, job: Callable[[], None]) -> None:
        self.job = job
        self.ready.release()

    def run(self) -> None:
        while True:
            job, self.job = self.job, None
            assert job is not None
            job()  # never raises: call_with_deadline's work() catches everything
            del job  # drop the finished call's closure (its result) while idle
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
    """Make every call waiting here (and every later one) raise Cancelled; inline calls in
    flight have their sockets shut down (`call_inline`)."""
    _interrupted.set()
    _watchdog.cancel_all()


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
    done = _thread.allocate_lock()  # held until the call is over (released by the worker)
    done.acquire()
    box: list[object] = []  # [value] or [error, None]

    def work() -> None:
        try:
            box.append(fn())
        except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
            box[:] = [e, None]
        finally:
            done.release()

    _workers.run(work)
    end = None if seconds is None else time.monotonic() + seconds
    while True:
        left = POLL if end is None else min(POLL, end - time.monotonic())
        if left > 0 and done.acquire(timeout=left):
            break
        if box:  # finished as the wait ran out
            break
        if abandon_on_interrupt and _interrupted.is_set():
            raise Cancelled(f"{what}: cancelled")
        if end is not None and time.monotonic() >= end:
            assert seconds is not None
            raise DeadlineExceeded(seconds)
    if len(box) == 2:
        raise box[0]  # type: ignore[misc]
    return box[0]  # type: ignore[return-value]


# -- calls made in the calling thread, their deadline enforced at the socket ----------------------


class InlineCall:
    """One call running in its caller's thread (`call_inline`): its deadline, the connections it
    has checked out, and whether the watchdog (deadline passed) or `interrupt()` broke it.

    Breaking a call shuts its sockets down (shutdown(2) on the file descriptor), which makes a
    read or write blocked in another thread return at once; the SDK then fails the attempt, and
    the hooks that consult `check()` stop it from retrying. A connection is detached when it goes
    back to its pool, under the same lock as a break, so a connection another call took from the
    pool since is never touched."""

    __slots__ = ("end", "what", "seconds", "conns", "expired", "cancelled", "lock")

    def __init__(self, seconds: float | None, what: str) -> None:
        self.seconds = seconds
        self.end = None if seconds is None else time.monotonic() + seconds
        self.what = what
        self.conns: list[object] = []
        self.expired = False
        self.cancelled = False
        self.lock = _thread.allocate_lock()

    def remaining(self) -> float | None:
        return None if self.end is None else self.end - time.monotonic()

    def attach(self, conn: object) -> None:
        with self.lock:
            self.conns.append(conn)
            broken = self.expired or self.cancelled
        if broken:
            _shutdown(conn)

    def connected(self, conn: object) -> None:
        """A connection attached before it had a socket has connected: if the call was broken
        meanwhile (the break found no socket to shut down), shut the new one down now. Under the
        lock, so a break either sees the socket or is seen here."""
        with self.lock:
            broken = self.expired or self.cancelled
        if broken:
            _shutdown(conn)

    def detach(self, conn: object) -> None:
        with self.lock:
            try:
                self.conns.remove(conn)
            except ValueError:
                pass

    def check(self) -> None:
        """Raise Cancelled / DeadlineExceeded once the call was broken (SDK hooks call this
        before a retry or a new attempt)."""
        if self.cancelled:
            raise Cancelled(f"{self.what}: cancelled")
        if self.expired:
            assert self.seconds is not None
            raise DeadlineExceeded(self.seconds)

    def expire(self) -> None:
        """Break the call as its deadline would (a wait of the SDK's own that ran out)."""
        self._break(cancel=False)

    def _break(self, *, cancel: bool) -> None:
        with self.lock:
            if cancel:
                self.cancelled = True
            else:
                self.expired = True
            conns = list(self.conns)
            for conn in conns:  # under the lock: a detach waits, so the pool cannot hand it on
                _shutdown(conn)


def _shutdown(conn: object) -> None:
    import socket

    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the fd itself, also under TLS
    except (OSError, TypeError, ValueError):
        pass


class _Watchdog:
    """One daemon thread for the whole process that breaks inline calls whose deadline passed.

    It sleeps until the earliest deadline among the calls running when it last looked; a call
    added with a later deadline (the usual case: one timeout for every KMS call) does not wake
    it, so a call costs two uncontended lock acquisitions and no thread switch."""

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.Lock())
        self.live: set[InlineCall] = set()
        self.wake_at = float("inf")
        self.thread: threading.Thread | None = None

    def add(self, call: InlineCall) -> None:
        with self.cond:
            self.live.add(call)
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="rewrap deadlines", daemon=True)
                self.thread.start()
            elif call.end is not None and call.end < self.wake_at:
                self.cond.notify()

    def remove(self, call: InlineCall) -> None:
        with self.cond:
            self.live.discard(call)

    def cancel_all(self) -> None:
        with self.cond:
            calls = list(self.live)
        for call in calls:
            call._break(cancel=True)

    def _run(self) -> None:
        with self.cond:
            while True:
                now = time.monotonic()
                nxt = float("inf")
                for call in list(self.live):
                    if call.end is None:
                        continue
                    if call.end <= now:
                        self.live.discard(call)
                        call._break(cancel=False)
                    elif call.end < nxt:
                        nxt = call.end
                self.wake_at = nxt
                self.cond.wait(None if nxt == float("inf") else nxt - now)


_watchdog = _Watchdog()
_local = threading.local()


def current_call() -> InlineCall | None:
    """The inline call this thread is making, for SDK hooks (None outside one)."""
    return getattr(_local, "call", None)


def call_inline(fn: Callable[[], T], seconds: float | None, *, what: str = "call") -> T:
    """fn() in this thread, with the same contract as `call_with_deadline` (DeadlineExceeded
    after `seconds`, Cancelled after `interrupt()`, fn's own errors raised), for SDK calls whose
    sockets are registered with `current_call()` by hooks (engine/kms/aws.py) and whose retries
    consult its `check()`. No helper thread: a KMS call at 32 workers made 2 extra thread
    hand-offs through the interpreter lock, each a wake-up of another thread for nothing."""
    if _interrupted.is_set():
        raise Cancelled(f"{what}: cancelled")
    call = InlineCall(seconds, what)
    outer = getattr(_local, "call", None)
    _local.call = call
    _watchdog.add(call)
    if _interrupted.is_set():  # interrupted between the first look and the add
        call._break(cancel=True)
    try:
        call.check()
        result = fn()
    except (Cancelled, DeadlineExceeded):
        raise
    except BaseException:
        call.check()  # an error caused by the break is the deadline's or the cancel's
        raise
    finally:
        _local.call = outer
        _watchdog.remove(call)
    return result
