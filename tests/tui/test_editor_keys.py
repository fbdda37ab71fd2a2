"""Editor keys and completion placement (issue 12 item 6), at 80x24 and 160x48: Ctrl+A selects
all, Ctrl+L clears, Ctrl+F formats (secrets kept in the buffer, never painted), F8 browses
history (redacted, Enter inserts), collections and paths after `IN '`, the dropdown inside the
panel with whole-word descriptions, the view follows the cursor after a completion, and the
status line shows the walker's expected-next text whole (Ctrl+G lists every problem)."""

from __future__ import annotations

import pytest

from tui_support import unique


def unique_last(messages: list, name: str):
    return [m for m in unique(messages) if type(m).__name__ == name][-1]

SIZES = [(80, 24), (160, 48)]
SECRET = "s3cr3tvalue"
ALTER = ("alter backup latest in 'nodelocal://self/demo' add new_kms='testkms:///a' with "
         f"old_kms='aws:///k?AWS_ACCESS_KEY_ID=id&AWS_SECRET_ACCESS_KEY={SECRET}&REGION=us-east-1'")


def lines_of(widget) -> list[str]:
    size = widget.size
    from textual.geometry import Region

    return [s.text for s in widget.render_lines(Region(0, 0, size.width, size.height))]


@pytest.mark.parametrize("size", SIZES)
async def test_ctrl_a_selects_all_ctrl_l_clears_undoably(make_app, size) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=size) as pilot:
        editor = app.query_one("#editor")
        await pilot.press(*"SHOW BACKUPS IN 'a';", "enter", *"SHOW")
        await pilot.press("ctrl+a")
        assert editor.selected_text == editor.text == "SHOW BACKUPS IN 'a';\nSHOW"
        await pilot.press("home")  # Home still goes to the line start
        assert editor.cursor_location == (1, 0)
        await pilot.press("ctrl+l")
        assert editor.text == ""
        await pilot.press("ctrl+z")
        assert editor.text == "SHOW BACKUPS IN 'a';\nSHOW"


@pytest.mark.parametrize("size", SIZES)
async def test_format_keeps_secrets_in_buffer_only(make_app, size) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=size) as pilot:
        editor = app.query_one("#editor")
        editor.load_text(f"{ALTER};   show backups in 'nodelocal://self/demo'  ; junk here")
        await pilot.press("ctrl+f")
        await pilot.pause()
        lines = editor.text.split("\n")
        assert lines[0].startswith("ALTER BACKUP 'latest' IN 'nodelocal://self/demo' ADD NEW_KMS=")
        assert SECRET in lines[0]  # the buffer keeps what was typed
        assert lines[1] == "SHOW BACKUPS IN 'nodelocal://self/demo';"
        assert lines[2] == "junk here"  # does not parse: left as typed
        assert SECRET not in app.export_screenshot()  # painted as dots
        await pilot.press("ctrl+z")
        assert editor.text.startswith(ALTER)


@pytest.mark.parametrize("size", SIZES)
async def test_history_browser_redacted_newest_first_enter_inserts(make_app, size) -> None:
    app = make_app(demo=False)
    app.history.append("SHOW BACKUPS IN 'nodelocal://self/old'")
    app.history.append(f"SHOW BACKUPS IN 's3://b/p?AWS_ACCESS_KEY_ID=x&AWS_SECRET_ACCESS_KEY={SECRET}'")
    app.history.append("SHOW BACKUPS IN 'nodelocal://self/new'")
    async with app.run_test(size=size) as pilot:
        editor = app.query_one("#editor")
        await pilot.press(*"-- ")
        await pilot.press("f8")
        await pilot.pause()
        from tui.app.widgets.editor_screens import HistoryBrowser

        assert isinstance(app.screen, HistoryBrowser)
        assert app.screen.shown[0].endswith("/new'")
        assert SECRET not in app.export_screenshot()
        await pilot.press(*"b/p")
        await pilot.pause()
        assert len(app.screen.shown) == 1
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, HistoryBrowser) and app.focused is editor
        assert editor.text.startswith("-- SHOW BACKUPS IN 's3://b/p?")
        assert SECRET not in editor.text and "redacted" in editor.text
        editor.load_text("")
        await pilot.press("f8", "down", "down", "enter")  # arrows move the list from the filter
        await pilot.pause()
        assert editor.text == "SHOW BACKUPS IN 'nodelocal://self/old'"


@pytest.mark.parametrize("size", SIZES)
async def test_collections_and_paths_after_in(make_app, tui_env, size) -> None:
    extern = tui_env / "extern"
    (extern / "other-coll" / "deeper").mkdir(parents=True)
    from tui.collections_store import CollectionStore

    CollectionStore().add("s3://rem/coll?AUTH=implicit")
    app = make_app(demo=False, collections=["nodelocal://self/demo"])
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        editor = app.query_one("#editor")
        dropdown = app.query_one("#dropdown")
        editor.load_text("SHOW BACKUPS IN '")
        editor.move_cursor(editor.document.end)
        await pilot.press("ctrl+@")
        texts = [c.text for c in dropdown.completions]
        assert texts[:2] == ["nodelocal://self/demo", "s3://rem/coll?AUTH=implicit"]
        await pilot.press(*"nodelocal://self/")
        await pilot.pause()
        assert dropdown.is_open  # typing refreshes it
        texts = [c.text for c in dropdown.completions if c.kind == "collection"]
        assert texts == ["nodelocal://self/demo", "nodelocal://self/other-coll"]
        await pilot.press(*"other-coll/", "ctrl+@")  # an exact match closed it: open again
        await pilot.pause()
        assert [c.text for c in dropdown.completions if c.kind == "collection"] == [
            "nodelocal://self/other-coll/deeper"]
        editor.load_text("SHOW BACKUPS IN 'file://")
        editor.move_cursor(editor.document.end)
        await pilot.press("ctrl+@")
        texts = [c.text for c in dropdown.completions if c.kind == "collection"]
        assert f"file://{extern}/demo" in texts and f"file://{extern}/other-coll" in texts


@pytest.mark.parametrize("size", SIZES)
async def test_dropdown_inside_panel_and_whole_words(make_app, size) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=size) as pilot:
        editor = app.query_one("#editor")
        dropdown = app.query_one("#dropdown")
        inner = editor.content_region
        editor.load_text(" " * (inner.width - 8) + "SHOW ")
        editor.move_cursor(editor.document.end)
        await pilot.press("ctrl+@")
        await pilot.pause()
        assert dropdown.is_open and len(dropdown.completions) >= 3
        region = dropdown.region
        assert inner.contains_region(region), (region, inner)
        details = {c.text: c.detail for c in dropdown.completions}
        cut = 0
        for i in range(dropdown.option_count):
            plain = dropdown.get_option_at_index(i).prompt.plain
            assert len(plain) <= region.width
            word = plain[4:].split("  ", 1)
            shown = word[1] if len(word) > 1 else ""
            full = details[word[0]]
            if shown.endswith("…"):
                cut += 1
                stem = shown[:-1]
                assert full.startswith(stem) and full[len(stem)] in " ,;:(-", (shown, full)
            elif shown:
                assert shown == full
        if size == (80, 24):
            assert cut  # the narrow panel had to cut something


@pytest.mark.parametrize("size", SIZES)
async def test_view_follows_cursor_after_accepting_past_right_edge(make_app, size) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=size) as pilot:
        editor = app.query_one("#editor")
        width = editor.content_region.width
        editor.load_text(" " * (width - 10) + "SHOW BACKUPS IN ")
        editor.move_cursor(editor.document.end)
        await pilot.pause()
        await pilot.press("ctrl+@", "enter")  # 'nodelocal://self/ ends past the right edge
        await pilot.pause()
        await pilot.pause()
        assert editor.text.endswith("IN 'nodelocal://self/")
        assert editor.scroll_x > 0
        assert editor.content_region.contains(*editor.cursor_screen_offset)


@pytest.mark.parametrize("size", SIZES)
async def test_status_shows_expected_next_whole(make_app, size) -> None:
    app = make_app(demo=False)
    msgs: list = []
    async with app.run_test(size=size, message_hook=msgs.append) as pilot:
        editor = app.query_one("#editor")
        await pilot.press(*"ALTER BACKUP LATEST IN 'nodelocal://self/demo' ADD NEW_KMS = 'testkms:///new'")
        await pilot.pause(0.3)  # the diagnose delay, then its worker
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "OLD_KMS" in unique_last(msgs, "DiagnosticsUpdated").message
        status = app.query_one("#status")
        lines = lines_of(status)
        print(lines)
        assert len(lines) > 1 or size[0] > 100  # it wraps in a narrow panel
        shown = " ".join(line.strip() for line in lines)
        assert "expected WITH OLD_KMS = ..." in shown, shown
        await pilot.press("ctrl+g")
        await pilot.pause()
        from tui.app.widgets.editor_screens import ProblemsList

        assert isinstance(app.screen, ProblemsList)
        assert app.screen.problems[0][1].endswith("expected WITH OLD_KMS = ...")
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is editor and editor.cursor_index == len(editor.text)


@pytest.mark.parametrize("size", SIZES)
async def test_dropdown_offers_in_only_and_subdirs_newest_first(make_app, size) -> None:
    app = make_app(demo=False, collections=["nodelocal://self/demo"])
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        editor = app.query_one("#editor")
        dropdown = app.query_one("#dropdown")
        await pilot.press(*"ALTER BACKUP LATEST ", "ctrl+@")
        assert [c.text for c in dropdown.completions] == ["IN"]
        await pilot.press("escape")
        editor.load_text("SHOW BACKUP  IN 'nodelocal://self/demo'")
        editor.move_cursor((0, len("SHOW BACKUP ")))
        await pilot.press("ctrl+@")
        subdirs = [c.text for c in dropdown.completions if c.kind == "subdir"]
        assert len(subdirs) == 3 and subdirs == sorted(subdirs, reverse=True)
        assert inner_has(editor, dropdown)


def inner_has(editor, dropdown) -> bool:
    return editor.content_region.contains_region(dropdown.region)


@pytest.mark.parametrize("size", SIZES)
async def test_rotation_field_dropdown_leaves_the_field_and_its_border_visible(make_app, size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        browser = app.query_one("#browser")
        await pilot.pause()
        browser.focus()
        browser.move_cursor(browser.root.children[0].children[0])
        await pilot.pause()
        await pilot.press("k")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert type(app.screen).__name__ == "RotationModal"
        await pilot.press("ctrl+@")
        await pilot.pause()
        await pilot.pause()
        field = app.screen.query_one("#rotation-new")
        dropdown = app.screen.query_one("CompletionDropdown")
        assert dropdown.is_open
        assert not dropdown.region.overlaps(field.region), (dropdown.region, field.region)
        assert dropdown.region.y == field.region.bottom  # right below it, where the dialog ends up
        inner = field.content_region
        assert inner.x <= dropdown.region.x and dropdown.region.right <= inner.right


async def test_f5_right_after_a_paste_runs_the_pasted_text(make_app) -> None:
    """A paste and F5 in one read (a script, tmux paste-buffer then send-keys): Textual forwards
    Paste to the focused editor's queue while F5, a priority binding, runs in the app's handler,
    so F5 ran the editor's text from before the paste ("nothing to run"). Now it runs behind it."""
    from textual import events

    from tui_support import Inbox

    app = make_app(demo=False)
    sql = "SHOW BACKUPS IN 'nodelocal://self/nowhere'"
    async with app.run_test(size=(160, 48), message_hook=(msgs := Inbox())) as pilot:
        await pilot.pause()
        # as the driver posts them from one read of the terminal: the paste, then F5 behind it
        app.post_message(events.Paste(sql))
        app.post_message(events.Key("f5", None))
        submitted = await msgs.message(pilot, "StatementsSubmitted")
        assert submitted[0].texts == [sql]
