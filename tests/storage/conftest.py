"""Fixtures for the local-storage tests: a seeded demo collection under an external-IO dir."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine.demo import write_demo


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("storage-template") / "coll"
    write_demo(d, seed=11, full_backups=2, incrementals=1)
    return d


@pytest.fixture
def io_dir(tmp_path: Path, demo_template: Path) -> Path:
    """External-IO dir holding the demo as `coll` (nodelocal://self/coll)."""
    io = tmp_path / "extern"
    shutil.copytree(demo_template, io / "coll", symlinks=True)
    return io


@pytest.fixture
def coll_dir(io_dir: Path) -> Path:
    return io_dir / "coll"
