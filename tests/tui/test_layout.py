"""The layout adapts: the sidebar (collections, details) takes 30% of the width within 28..44
columns, Ctrl+B / F9 hides and shows it, the editor and results get the rest. SVG snapshots at
80x24, 120x40 and 200x60 (update with --snapshot-update after checking them by eye)."""

from __future__ import annotations

import pytest
from tui_support import DEMO_KMS, DEMO_URI, settled

SIZES = [(80, 24), (120, 40), (200, 60)]


async def _with_result(app, pilot) -> None:
    """The demo listed and a run of two statements shown (elapsed on a fixed clock): the strip
    names both, the second is shown."""
    app.clock = lambda: 1000.0
    await settled(pilot)
    editor = app.query_one("#editor")
    editor.load_text(f"SHOW BACKUPS IN '{DEMO_URI}';\nSHOW BACKUP FROM LATEST IN '{DEMO_URI}' WITH KMS = '{DEMO_KMS}';\n")
    editor.move_cursor(editor.document.end)
    await pilot.press("f5")
    await settled(pilot)
    assert len(app.query_one("#results").results) == 2 and not app.running
    assert app.query_one("#results-table").row_count == 24
    await pilot.wait_for_scheduled_animations()


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_layout_snapshot(snap_compare, make_app, size) -> None:
    app = make_app()

    async def before(pilot) -> None:
        await _with_result(app, pilot)

    assert snap_compare(app, terminal_size=size, run_before=before)


def test_layout_sidebar_hidden_80x24(snap_compare, make_app) -> None:
    app = make_app()

    async def before(pilot) -> None:
        await _with_result(app, pilot)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not app.query_one("#sidebar").display

    assert snap_compare(app, terminal_size=(80, 24), run_before=before)


@pytest.mark.parametrize(("size", "sidebar"), [((80, 24), 28), ((120, 40), 36), ((200, 60), 44), ((60, 20), 28)])
async def test_sidebar_shrinks_and_the_editor_gets_the_width(make_app, size, sidebar) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.query_one("#sidebar").outer_size.width == sidebar
        assert app.query_one("#main").outer_size.width == size[0] - sidebar


async def test_ctrl_b_and_f9_hide_and_show_the_sidebar(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar, main = app.query_one("#sidebar"), app.query_one("#main")
        app.query_one("#browser").focus()
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not sidebar.display and main.outer_size.width == 80
        assert app.focused is app.query_one("#editor")  # focus left the hidden browser
        await pilot.press("ctrl+b")  # from the editor: the TextArea does not take Ctrl+B
        await pilot.pause()
        assert sidebar.display and main.outer_size.width == 52
        await pilot.press("f9")
        await pilot.pause()
        assert not sidebar.display
        await pilot.press("f1")  # over the help (another screen): the keys do nothing, no crash
        await pilot.press("ctrl+b", "ctrl+s")
        await pilot.pause()
        assert app.is_running and not sidebar.display and len(app.screen_stack) == 2
