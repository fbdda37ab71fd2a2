"""The layout adapts: the sidebar (collections, details) takes 30% of the width within 28..44
columns, hides by itself below 70 columns, Ctrl+B / F9 hides and shows it, the editor and
results get the rest. SVG snapshots at 60x20, 80x24, 120x40 and 200x60 (update with
--snapshot-update after checking them by eye)."""

from __future__ import annotations

import pytest
from tui_support import DEMO_KMS, DEMO_URI, settled

SIZES = [(60, 20), (80, 24), (120, 40), (200, 60)]


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


@pytest.mark.parametrize(("size", "sidebar"), [((80, 24), 28), ((120, 40), 36), ((200, 60), 44), ((70, 20), 28)])
async def test_sidebar_shrinks_and_the_editor_gets_the_width(make_app, size, sidebar) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        assert app.query_one("#sidebar").outer_size.width == sidebar
        assert app.query_one("#main").outer_size.width == size[0] - sidebar


async def test_below_70_columns_the_sidebar_hides_by_itself_and_a_choice_holds(make_app) -> None:
    """60x20 starts without the sidebar (the editor gets all 60 columns); Ctrl+B shows it and
    that holds while the terminal stays narrow; crossing 70 columns fits it again."""
    app = make_app(demo=False)
    async with app.run_test(size=(60, 20)) as pilot:
        sidebar, main = app.query_one("#sidebar"), app.query_one("#main")
        await pilot.pause()
        assert not sidebar.display and main.outer_size.width == 60
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert sidebar.display and main.outer_size.width == 60 - 28
        await pilot.resize_terminal(64, 20)  # still narrow: the user's choice stays
        await pilot.pause()
        assert sidebar.display
        await pilot.resize_terminal(100, 30)  # wide: shown (it was)
        await pilot.pause()
        assert sidebar.display and main.outer_size.width == 100 - 30
        await pilot.press("f9")  # hidden by choice on the wide side: stays hidden while wide
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert not sidebar.display
        await pilot.resize_terminal(60, 20)  # crossing to narrow: hidden (it is)
        await pilot.pause()
        assert not sidebar.display
        await pilot.resize_terminal(90, 24)  # crossing to wide: shown again
        await pilot.pause()
        assert sidebar.display and main.outer_size.width == 90 - 28


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


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_details_show_every_value_whole(make_app, size) -> None:
    """The details of LATEST at the panel's own width: every value whole (wrapped), no "…"."""
    from rich.console import Console
    from tui_support import Inbox

    app = make_app()
    async with app.run_test(size=size, message_hook=(msgs := Inbox())) as pilot:
        await msgs.listed(pilot, app)
        browser, panel = app.query_one("#browser"), app.query_one("#details")
        browser.focus()
        browser.move_cursor(browser.root.children[0].children[0])
        await msgs.until(pilot, lambda: bool(panel.fields), "the details of LATEST")
        console = Console(width=panel.content_size.width, record=True, color_system=None)
        console.print(panel.content)
        text = console.export_text()
        assert "…" not in text
        joined = "".join(text.split())  # a folded value is whole once the line breaks go
        for label, value in panel.fields:
            assert "".join(f"{label}{value}".split()) in joined or "".join(value.split()) in joined
