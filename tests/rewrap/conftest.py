"""Fixtures for the rewrap engine tests: a fresh copy of a seeded demo collection per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import rewrap_support as rs
from engine.demo import write_demo


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 full backups with 3 incrementals each, testkms:///demo-key, fixed seed."""
    d = tmp_path_factory.mktemp("template") / "coll"
    write_demo(d, seed=7)
    return d


@pytest.fixture
def io_dir(tmp_path: Path, demo_template: Path) -> Path:
    """An external-IO dir holding `coll` (nodelocal://self/coll), copied from the template."""
    io = tmp_path / "extern"
    shutil.copytree(demo_template, io / "coll")
    return io


@pytest.fixture
def coll_dir(io_dir: Path) -> Path:
    return io_dir / "coll"


@pytest.fixture
def kms_calls() -> list[tuple[str, str, str]]:
    rs.CALLS.clear()
    return rs.CALLS
