"""Running the installed `rewrap` command on a fresh demo collection, with its own data dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from engine.demo import write_demo

REWRAP = str(Path(sys.executable).parent / "rewrap")
OLD_KMS = "testkms:///demo-key"
COLL = "nodelocal://self/coll"
_TEMPLATE: dict[int, Path] = {}


def demo_io_dir(tmp: Path, seed: int = 15) -> Path:
    """tmp/extern holding a demo collection `coll` (written once per seed, then copied)."""
    if seed not in _TEMPLATE:
        template = tmp.parent / f"cli-demo-template-{seed}"  # pytest basetemp: one per worker
        if not template.exists():
            write_demo(template / "coll", seed=seed)
        _TEMPLATE[seed] = template
    io_dir = tmp / "extern"
    shutil.copytree(_TEMPLATE[seed], io_dir)
    return io_dir


def env_for(tmp: Path, io_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "REWRAP_EXTERNAL_IO_DIR": str(io_dir),
        "REWRAP_DATA_DIR": str(tmp / "data"),
        "HOME": str(tmp / "home"),
        "XDG_CONFIG_HOME": str(tmp / "home" / ".config"),  # no user's config.toml
        **extra,
    }


def full_backups(io_dir: Path) -> list[Path]:
    """The full backup directories of the demo collection, oldest first."""
    coll = io_dir / "coll"
    return sorted(p.parent for p in coll.glob("*/*/*/BACKUP_MANIFEST") if "incrementals" not in p.parts)


def run(args: list[str], env: dict[str, str], *, stdin: bytes | None = b"", timeout: float = 120,
        **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run([REWRAP, *args], input=stdin, capture_output=True, env=env,
                          timeout=timeout, **kw)  # type: ignore[call-overload]
