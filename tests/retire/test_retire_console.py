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
from tui.app.screens.retirement import RetirementScreen


class Host(App[None]):
    def __init__(self, screen: RetirementScreen) -> None:
        super().__init__()
        self.retire = screen

    def on_mount(self) -> None:
        self.push_screen(self.retire)


async def checked(pilot, screen: RetirementScreen) -> None:
    """Wait for the check's worker, then for its StateChanged to be handled (no polling)."""
    await screen.app.workers.wait_for_complete()
    await pilot.pause()
    assert "checking" not in str(screen.query_one("#retire-verdict", Static).render())


def matrix_rows(screen: RetirementScreen) -> list[list[str]]:
    table = screen.query_one("#retire-matrix", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def run_screen(io_dir: Path, tmp_path: Path, keep: str, session_keys: list[str] | None = None,
                     ) -> tuple[str, list[list[str]], list[str]]:
    ex = Executor(StorageSettings(external_io_dir=io_dir))
    screen = RetirementScreen(lambda stmt: ex.run(stmt), collection=rs.COLL_URI,
                              old_kms=rs.DEMO_KMS, remaining=[keep], report_dir=tmp_path / "reports",
                              session_keys=(lambda: session_keys) if session_keys else None)
    app = Host(screen)
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f5")
        await checked(pilot, screen)
        verdict = str(screen.query_one("#retire-verdict", Static).render())
        rows = matrix_rows(screen)
        labels = [str(c.label) for c in screen.query_one("#retire-matrix", DataTable).ordered_columns]
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.report_paths is not None
    return verdict, rows, labels


async def test_matrix_before_and_after_rotation(io_dir: Path, coll_dir: Path, tmp_path: Path) -> None:
    import chain_reader as cr

    fulls = cr.full_backups(coll_dir)
    verdict, rows, _ = await run_screen(io_dir, tmp_path, "testkms:///new")
    assert "cannot be retired" in verdict and "3 of 3" in verdict
    assert [r[0] for r in rows] == list(reversed(fulls))  # newest first
    assert all(r[1:] == ["needs ALTER", "○", "✗"] for r in rows), rows

    rs.run_sql(io_dir, rs.alter_sql("'testkms:///new'", target="ALL"))
    verdict, rows, _ = await run_screen(io_dir, tmp_path, "testkms:///new")
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


async def test_keys_seen_by_the_session_are_columns_present_or_absent(io_dir: Path, tmp_path: Path) -> None:
    """A key the session knows but the check does not name: ○ where a file holds it, never ✓
    (it was not proven), ✗ elsewhere; the one named as remaining but absent is ✗."""
    rs.run_sql(io_dir, rs.alter_sql("'testkms:///seen'", target="LATEST"))
    verdict, rows, labels = await run_screen(io_dir, tmp_path, "testkms:///other",
                                             session_keys=["testkms:///seen", rs.DEMO_KMS, "not a uri"])
    assert "cannot be retired" in verdict
    assert labels == ["backup", "verdict", "retire demo-key", "keep other", "seen seen"]
    assert rows[0][1:] == ["needs ALTER", "○", "✗", "○"]  # LATEST (newest first) holds the seen key
    assert [r[1:] for r in rows[1:]] == [["needs ALTER", "○", "✗", "✗"]] * 2


async def test_browser_key_r_opens_the_check_for_the_collection(io_dir: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REWRAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REWRAP_EXTERNAL_IO_DIR", str(io_dir))  # the session's own listings
    from textual.widgets import Input

    from tui.app.main import RewrapApp
    from tui.app.widgets.browser import CollectionBrowser
    from tui.collections_store import CollectionStore
    from tui.history import History

    msgs: list = []
    app = RewrapApp(collections=[rs.COLL_URI], demo=False, cursor_blink=False,
                    store=CollectionStore(tmp_path / "c.json"), history=History(tmp_path / "h"),
                    executor_factory=lambda dry: Executor(StorageSettings(external_io_dir=io_dir), dry_run=dry))
    async with app.run_test(size=(140, 40), message_hook=msgs.append) as pilot:
        browser = app.query_one("#browser", CollectionBrowser)
        browser.focus()
        browser.move_cursor(browser.root.children[0])
        browser.root.children[0].expand()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any(n.data is not None for n in browser.root.children[0].children)  # listed
        full = browser.root.children[0].children[0]
        assert full.data is not None and full.data.kind == "full"
        browser.move_cursor(full)  # a full backup: the check is for its collection
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, RetirementScreen)
        assert app.screen.query_one("#retire-collection", Input).value == rs.COLL_URI


async def test_bad_input_is_an_error_on_screen_and_nothing_is_written(io_dir: Path, coll_dir: Path, tmp_path: Path) -> None:
    import chain_reader as cr

    before = cr.snapshot(coll_dir)
    ex = Executor(StorageSettings(external_io_dir=io_dir))
    screen = RetirementScreen(lambda stmt: ex.run(stmt), collection=rs.COLL_URI, old_kms=rs.DEMO_KMS,
                              remaining=[rs.DEMO_KMS], report_dir=tmp_path / "reports")
    async with Host(screen).run_test(size=(140, 40)) as pilot:
        await pilot.press("f5")
        await checked(pilot, screen)
        verdict = str(screen.query_one("#retire-verdict", Static).render())
        assert verdict.startswith("ERROR: WITH KMS 'testkms:///demo-key' is the key to retire"), verdict
        assert matrix_rows(screen) == []
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "run the check first" in str(screen.query_one("#retire-verdict", Static).render())
    assert not (tmp_path / "reports").exists()
    assert cr.snapshot(coll_dir) == before


async def until(pilot, ready, what: str, tries: int = 300) -> None:  # type: ignore[no-untyped-def]
    """Pause until `ready()`; FAIL naming `what` if it never is (no fall-through)."""
    for _ in range(tries):
        if ready():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"{what}: not within {tries} pauses")


async def test_rotating_one_backup_ends_in_a_step_that_names_the_others(io_dir: Path, coll_dir: Path,
                                                                       tmp_path: Path, monkeypatch) -> None:
    """The guided rotation of LATEST only: its last step checks the whole collection, so the
    verdict names the two older backups and the matrix shows LATEST proven with the new key."""
    import chain_reader as cr
    from tui.app.main import RewrapApp
    from tui.app.screens.rotation_modal import RetireStep, RotationModal
    from tui.app.widgets.browser import CollectionBrowser
    from tui.collections_store import CollectionStore
    from tui.history import History

    monkeypatch.setenv("REWRAP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REWRAP_EXTERNAL_IO_DIR", str(io_dir))
    fulls = cr.full_backups(coll_dir)
    app = RewrapApp(collections=[rs.COLL_URI], demo=False, cursor_blink=False,
                    store=CollectionStore(tmp_path / "c.json"), history=History(tmp_path / "h"),
                    executor_factory=lambda dry: Executor(StorageSettings(external_io_dir=io_dir), dry_run=dry))
    async with app.run_test(size=(120, 36)) as pilot:
        browser = app.query_one("#browser", CollectionBrowser)
        browser.focus()
        coll = browser.root.children[0]
        coll.expand()
        await until(pilot, lambda: len(coll.children) == 3 and coll.children[0].data is not None, "the listing")
        app.inspector.kms.remember(rs.DEMO_KMS)  # a key the session knows: the dialog's old key
        browser.move_cursor(coll.children[0])  # LATEST
        await pilot.press("k")
        await until(pilot, lambda: isinstance(app.screen, RotationModal) and bool(app.screen.query("#rotation-new")),
                    "the rotation dialog")
        modal = app.screen
        assert isinstance(modal, RotationModal)
        await pilot.press(*"'testkms:///one'")
        await pilot.press("f6")
        await until(pilot, lambda: modal.planned is not None, "the dry run")
        await pilot.press("f7")
        await until(pilot, lambda: isinstance(app.screen, RetireStep), "the retirement step")
        step = app.screen
        assert isinstance(step, RetireStep)
        await until(pilot, lambda: step.report is not None, "the check")
        verdict = str(step.query_one("#retire-verdict", Static).render())
        rows = matrix_rows(step)
        assert str(step.query_one("#retire-title").render()) == "Key added. Can the old key be retired?"
    assert verdict.startswith("ERROR: 'testkms:///demo-key' cannot be retired: 2 of 3 backups open only with it")
    assert fulls[0] in verdict and fulls[1] in verdict and fulls[2] not in verdict
    assert rows == [[fulls[2], "safe", "○", "✓"], [fulls[1], "needs ALTER", "○", "✗"],
                    [fulls[0], "needs ALTER", "○", "✗"]]
