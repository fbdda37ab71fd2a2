"""Fixtures for SHOW KMS RETIREMENT: a fresh copy of the seeded demo collection per test (3 full
backups with 3 incrementals each, testkms:///demo-key), and the rewrap test helpers."""

from __future__ import annotations

import asyncio
import inspect
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rewrap"))

# The same seeded demo collection, copy-per-test and KMS-call fixtures as the engine tests.
from tests.rewrap.conftest import coll_dir, demo_template, io_dir, kms_calls  # noqa: E402,F401


def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests (the console screen's) with asyncio.run."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**args))
    return True
