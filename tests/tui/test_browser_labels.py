"""The browser's full-backup labels fit the panel: "/subdir  LATEST" where it is wide enough, the
compact "subdir ●" with a "● LATEST" legend in the border where it is not (80x24), switching
when the terminal is resized; the path `i` inserts is the full subdir either way."""

from __future__ import annotations

from tui_support import SIZE, Inbox
from tui.app.widgets.browser import COMPACT_LEGEND, COMPACT_MARK, LATEST_MARK, node_label
from tui.app.messages import NodeRef

NARROW = (80, 24)


async def listed_browser(pilot, app, msgs: Inbox):  # type: ignore[no-untyped-def]
    """The browser once the demo collection is listed and laid out."""
    await msgs.listed(pilot, app)
    await pilot.pause()
    return app.query_one("#browser")


def labels(browser) -> list[str]:
    (coll,) = browser.root.children
    return [str(c.label) for c in coll.children]


def test_node_label_forms() -> None:
    ref = NodeRef("full", "nodelocal://self/demo", subdir="/2026/11/26-022012.34", latest=True)
    assert node_label(ref).plain == "/2026/11/26-022012.34" + LATEST_MARK
    compact = node_label(ref, compact=True)
    assert compact.plain == "2026/11/26-022012.34" + COMPACT_MARK
    assert "green" in str(compact.style)
    older = NodeRef("full", "nodelocal://self/demo", subdir="/2026/11/25-022012.34")
    assert node_label(older, compact=True).plain == "2026/11/25-022012.34"


async def test_at_80_columns_latest_is_marked_compact_and_the_border_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=NARROW, message_hook=(msgs := Inbox())) as pilot:
        browser = await listed_browser(pilot, app, msgs)
        shown = labels(browser)
        assert browser.compact
        assert shown[0].endswith(COMPACT_MARK) and not shown[0].startswith("/")
        assert not any(s.endswith(COMPACT_MARK) for s in shown[1:])
        assert browser.border_subtitle == COMPACT_LEGEND
        width = browser.scrollable_content_region.width
        assert all(len(s) + 4 <= width for s in shown), (shown, width)  # nothing cut off


async def test_wide_panel_keeps_latest_and_resizing_switches_forms(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        browser = await listed_browser(pilot, app, msgs)
        assert not browser.compact and labels(browser)[0].endswith(LATEST_MARK)
        assert labels(browser)[0].startswith("/") and not browser.border_subtitle
        await pilot.resize_terminal(*NARROW)
        await pilot.pause()
        assert browser.compact and labels(browser)[0].endswith(COMPACT_MARK)
        await pilot.resize_terminal(*SIZE)
        await pilot.pause()
        assert not browser.compact and labels(browser)[0].endswith(LATEST_MARK)
        assert not browser.border_subtitle


async def test_insert_uses_the_full_subdir_in_the_compact_form(make_app) -> None:
    app = make_app()
    async with app.run_test(size=NARROW, message_hook=(msgs := Inbox())) as pilot:
        browser = await listed_browser(pilot, app, msgs)
        browser.focus()
        (coll,) = browser.root.children
        browser.move_cursor(coll.children[0])
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        from tui.app.widgets.editor import SQLEditor

        subdir = coll.children[0].data.subdir
        assert subdir.startswith("/") and f"'{subdir}'" in app.query_one(SQLEditor).text
