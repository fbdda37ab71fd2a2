"""Constants and helpers shared by the TUI tests (a uniquely named module: several test
directories have a conftest.py, so `from conftest import ...` would be ambiguous)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from textual.message import Message
from textual.worker import Worker, WorkerState

SEED = 11
SIZE = (140, 42)
DEMO_URI = "nodelocal://self/demo"
DEMO_KMS = "testkms:///demo-key"
TIMEOUT = 30.0  # only a hung app reaches it: the wait then fails, naming what it waited for


class Inbox:
    """`app.run_test(message_hook=inbox)`: every message posted, and a way to await one.

    Waiting is on messages, never a poll: each posted message (from any thread) wakes the
    waiter, which checks its condition and, once true, lets the app handle what is queued.
    """

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._loop = asyncio.get_running_loop()
        self._posted = asyncio.Event()

    def __call__(self, message: Message) -> None:
        self.messages.append(message)
        self._loop.call_soon_threadsafe(self._posted.set)

    def of(self, name: str) -> list:
        return unique(m for m in self.messages if type(m).__name__ == name)

    async def until(self, pilot, ready: Callable[[], object], what: str) -> None:
        """Await messages until `ready()`; fail naming `what` if the app goes quiet first."""
        try:
            async with asyncio.timeout(TIMEOUT):
                while not ready():
                    self._posted.clear()
                    await self._posted.wait()
        except TimeoutError:
            seen = sorted({f"{m.worker.group}:{m.state.name}" for m in self.messages if isinstance(m, Worker.StateChanged)})
            raise AssertionError(f"{what}: not within {TIMEOUT}s; workers seen: {seen}") from None
        await pilot.pause()  # what the message asked for is handled before the test looks

    async def message(self, pilot, name: str, *, count: int = 1) -> list:
        """The first `count` messages of type `name` (waiting for them to be posted)."""
        await self.until(pilot, lambda: len(self.of(name)) >= count, f"{count} {name} message(s)")
        return self.of(name)[:count]

    async def listed(self, pilot, app, *, count: int = 1) -> None:
        """`count` browser nodes show their listing: from a browse worker, or (a listing done
        before the app mounted, tui/app/listing.py EarlyStart) already in the first frame."""
        def shown() -> int:
            n, stack = 0, list(app.query_one("#browser").root.children)
            while stack:
                node = stack.pop()
                stack.extend(node.children)
                n += bool(node.is_expanded and node.children and str(node.children[0].label) != "loading…")
            return n
        await self.until(pilot, lambda: shown() >= count, f"{count} node listing(s) shown")

    async def worker(self, pilot, group: str, *, count: int = 1) -> list[Worker]:
        """Workers of `group` that finished (succeeded or failed), once `count` have."""
        def done() -> list[Worker]:
            return [m.worker for m in unique(self.messages) if isinstance(m, Worker.StateChanged)
                    and m.worker.group == group and m.state in (WorkerState.SUCCESS, WorkerState.ERROR)]

        await self.until(pilot, lambda: len(done()) >= count, f"{count} {group!r} worker(s) done")
        return done()


async def settled(pilot) -> None:
    """Let start-up and every worker it starts finish (the demo's, then its listing's)."""
    app = pilot.app
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await app.workers.wait_for_complete()  # what the first batch's results started
    await pilot.pause()


def unique(messages: Iterable[Message]) -> list:
    """Each message once (a bubbling message reaches the hook at every node it passes)."""
    seen: set[int] = set()
    out = []
    for m in messages:
        if id(m) not in seen:
            seen.add(id(m))
            out.append(m)
    return out
