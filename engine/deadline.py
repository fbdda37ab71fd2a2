"""Whole-call deadlines for SDK calls, and the process-wide interrupt that abandons them.

SDK timeouts are per socket read: a server that trickles a byte a second is waited on forever,
and retries multiply a dead endpoint's wait. `call_with_deadline` runs the call on a daemon
thread and stops waiting when the deadline passes, or at once after `interrupt()` (the first
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

_interrupted = threading.Event()


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

    threading.Thread(target=work, name=f"rewrap {what}", daemon=True).start()
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
