"""The console's retirement screen: the same check as batch (the real Executor on a local demo
collection), a key-coverage matrix newest first, and the report key writing Markdown + JSON."""

from __future__ import annotations

import json
from pathlib import Path

from textual.app import App
from textual.widgets import DataTable, Static

import rewrap_support as rs
from engine.execute import Executor
from engine.storage import StorageSettings
from syntax import parse
from tui.app.screens.retirement import RetirementScreen


class Host(App[None]):
    def __init__(self, screen: RetirementScreen) -> None:
        super().__init__()
        self.retire = screen

    def on_mount(self) -> None:
        self.push_screen(self.retire)


async def run_screen(io_dir: Path, tmp_path: Path, keep: str) -> tuple[str, list[list[str]], RetirementScreen]:
    ex = Executor(StorageSettings(external_io_dir=io_dir))
    screen = RetirementScreen(lambda sql: ex.run(parse(sql)[0]), collection=rs.COLL_URI,
                              old_kms=rs.DEMO_KMS, remaining=[keep], report_dir=tmp_path / "reports")
    app = Host(screen)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f5")
        for _ in range(200):
            await pilot.pause(0.05)
            if "checking" not in str(screen.query_one("#retire-verdict", Static).render()):
                break
        verdict = str(screen.query_one("#retire-verdict", Static).render())
        table = screen.query_one("#retire-matrix", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        await pilot.press("ctrl+r")
        await pilot.pause(0.1)
    return verdict, rows, screen


async def test_matrix_before_and_after_rotation(io_dir: Path, coll_dir: Path, tmp_path: Path) -> None:
    import chain_reader as cr

    fulls = cr.full_backups(coll_dir)
    verdict, rows, _ = await run_screen(io_dir, tmp_path, "testkms:///new")
    assert "cannot be retired" in verdict and "3 of 3" in verdict
    assert [r[0] for r in rows] == list(reversed(fulls))  # newest first
    assert all(r[1:] == ["needs ALTER", "○", "✗"] for r in rows), rows

    rs.run_sql(io_dir, rs.alter_sql("'testkms:///new'", target="ALL"))
    verdict, rows, screen = await run_screen(io_dir, tmp_path, "testkms:///new")
    assert "can be retired" in verdict
    assert all(r[1:] == ["safe", "○", "✓"] for r in rows), rows
    first, second = sorted((tmp_path / "reports").glob("*.json"))  # one report per Ctrl+R
    assert json.loads(first.read_text())["retirable"] is False
    assert json.loads(second.read_text())["retirable"] is True
    assert len(list((tmp_path / "reports").glob("*.md"))) == 2


async def test_palette_opens_the_retirement_screen_for_the_selected_collection(io_dir: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REWRAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REWRAP_EXTERNAL_IO_DIR", str(io_dir))
    from tui.app.main import RewrapApp
    from tui.collections_store import CollectionStore
    from tui.history import History

    app = RewrapApp(collections=[rs.COLL_URI], demo=False, cursor_blink=False,
                    store=CollectionStore(tmp_path / "c.json"), history=History(tmp_path / "h"),
                    executor_factory=lambda dry: Executor(StorageSettings(external_io_dir=io_dir), dry_run=dry))
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.pause(0.3)
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "Retire key" in commands
        app.action_retire_key()
        await pilot.pause(0.2)
        assert isinstance(app.screen, RetirementScreen)
