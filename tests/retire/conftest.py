"""Fixtures for SHOW KMS RETIREMENT: a fresh copy of the seeded demo collection per test (3 full
backups with 3 incrementals each, testkms:///demo-key), and the rewrap test helpers."""

from __future__ import annotations

import asyncio
import inspect
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "rewrap"))

from engine.demo import write_demo  # noqa: E402


@pytest.fixture(scope="session")
def retire_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("retire-template") / "coll"
    write_demo(d, seed=7)
    return d


@pytest.fixture
def io_dir(tmp_path: Path, retire_template: Path) -> Path:
    io = tmp_path / "extern"
    shutil.copytree(retire_template, io / "coll")
    return io


@pytest.fixture
def coll_dir(io_dir: Path) -> Path:
    return io_dir / "coll"


@pytest.fixture
def kms_calls() -> list[tuple[str, str, str]]:
    import rewrap_support as rs

    rs.CALLS.clear()
    return rs.CALLS


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests (the console screen's) with asyncio.run."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**args))
    return True
