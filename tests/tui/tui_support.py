"""Constants and helpers shared by the TUI tests (a uniquely named module: several test
directories have a conftest.py, so `from conftest import ...` would be ambiguous)."""

from __future__ import annotations


SEED = 11
SIZE = (140, 42)
DEMO_URI = "nodelocal://self/demo"
DEMO_KMS = "testkms:///demo-key"


async def wait_for(pilot, messages: list, name: str, *, count: int = 1, timeout: float = 10.0):
    """Pause until `count` messages of type `name` arrived; return them."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = unique(m for m in messages if type(m).__name__ == name)
        if len(found) >= count:
            return found
        await pilot.pause(0.05)
    raise AssertionError(f"no {name} message within {timeout}s; got "
                         f"{sorted({type(m).__name__ for m in messages})}")


def unique(messages) -> list:
    """Each message once (a bubbling message reaches the hook at every node it passes)."""
    seen: set[int] = set()
    out = []
    for m in messages:
        if id(m) not in seen:
            seen.add(id(m))
            out.append(m)
    return out
