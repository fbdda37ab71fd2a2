"""TUI test setup: a private data dir and external-IO dir per test, the demo collection written
with a fixed seed, cursor blink off, no user config (harlequin's habits)."""

from __future__ import annotations

import asyncio
import inspect
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.demo import write_demo

@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests with asyncio.run (no async plugin needed for app.run_test)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**args))
    return True


from tui_support import SEED  # noqa: E402  (shared constants live in tui_support)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("demo-template") / "demo"
    write_demo(d, seed=SEED)
    return d


@pytest.fixture
def tui_env(tmp_path: Path, demo_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    extern = tmp_path / "extern"
    shutil.copytree(demo_template, extern / "demo")
    monkeypatch.setenv("REWRAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REWRAP_EXTERNAL_IO_DIR", str(extern))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # not the user's config.toml
    monkeypatch.delenv("REWRAP_AUDIT_LOG", raising=False)
    return tmp_path


@pytest.fixture
def make_app(tui_env: Path) -> Callable[..., object]:
    from tui.app.main import RewrapApp

    def make(**kwargs: object) -> RewrapApp:
        kwargs.setdefault("cursor_blink", False)
        return RewrapApp(**kwargs)  # type: ignore[arg-type]

    return make
