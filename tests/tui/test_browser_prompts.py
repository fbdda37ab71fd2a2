"""The browser's prompts and collection list (issue 12, item 8): `s` asks for an unknown KMS, a
mistyped collection says nothing is stored there, Remove collection, placeholders that name only
what is listed, prompt text that wraps."""

from __future__ import annotations

from textual.widgets import Input, Label

from tui_support import DEMO_KMS, DEMO_URI, Inbox
from tui.app.widgets.browser import NOTHING_STORED
from tui.collections_store import CollectionStore

WIDE = (160, 48)


async def listed(pilot, app, msgs: Inbox):
    await msgs.listed(pilot, app)
    browser = app.query_one("#browser")
    browser.focus()
    return browser, browser.root.children[0]


async def test_s_asks_for_the_kms_when_no_known_one_opens_the_backup(make_app) -> None:
    app = make_app(collections=[DEMO_URI], demo=False)  # the demo's KMS is not known
    async with app.run_test(size=WIDE, message_hook=(msgs := Inbox())) as pilot:
        browser, coll = await listed(pilot, app, msgs)
        browser.move_cursor(coll.children[0])
        await pilot.press("s")
        await msgs.worker(pilot, "node")
        await pilot.pause()
        assert type(app.screen).__name__ == "KmsPrompt"
        field = app.screen.query_one(Input)
        field.value = "aws:///k?REGION=us-east-1&AWS_SECRET_ACCESS_KEY=hush"
        await pilot.pause()
        assert field.password  # a secret in it: drawn as bullets
        field.value = DEMO_KMS
        await pilot.pause()
        assert not field.password
        await pilot.press("enter")
        (done,) = await msgs.message(pilot, "StatementExecuted")
        assert done.ok and done.rows and f"kms = '{DEMO_KMS}'" in done.text
        assert not msgs.of("StatementFailed")


async def test_a_mistyped_collection_says_nothing_is_stored_there(make_app) -> None:
    app = make_app(collections=["nodelocal://self/demo-typo"], demo=False)
    async with app.run_test(size=WIDE, message_hook=(msgs := Inbox())) as pilot:
        _, coll = await listed(pilot, app, msgs)
        assert [str(c.label) for c in coll.children] == [NOTHING_STORED]


async def test_remove_collection_forgets_it_in_the_browser_and_the_store(make_app) -> None:
    app = make_app(collections=[DEMO_URI], demo=False)
    async with app.run_test(size=WIDE, message_hook=(msgs := Inbox())) as pilot:
        browser, coll = await listed(pilot, app, msgs)
        assert [r.uri for r in CollectionStore().load()] == [DEMO_URI]
        assert "Remove collection" in [c.title for c in app.get_system_commands(app.screen)]
        browser.move_cursor(coll.children[0])  # a backup of it: its collection is removed
        await pilot.press("delete")
        await pilot.pause()
        assert list(browser.root.children) == []
        assert CollectionStore().load() == []


async def test_placeholders_name_only_a_listed_collection(make_app) -> None:
    app = make_app(collections=["nodelocal://self/elsewhere"], demo=False)
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        placeholder = str(app.query_one("#editor").placeholder)
        assert "'nodelocal://self/elsewhere'" in placeholder and "demo" not in placeholder
        app.action_add_collection()
        await pilot.pause()
        shown = " ".join(str(label.render()) for label in app.screen.query(Label))
        assert "nodelocal://self/backups" not in shown and "<directory>" in shown


async def test_the_secret_prompt_wraps_its_text(make_app) -> None:
    from tui.app.screens.secret_prompt import SecretPrompt

    uri = "s3://bucket/" + "very-long-path-segment/" * 12 + "?AWS_ACCESS_KEY_ID=AKIAEXAMPLE"
    app = make_app(demo=False)
    async with app.run_test(size=WIDE) as pilot:
        app.push_screen(SecretPrompt(uri, "AWS_SECRET_ACCESS_KEY"))
        await pilot.pause()
        first = app.screen.query(Label).first()
        box = app.screen.query_one("Vertical")
        assert first.region.right <= box.content_region.right
        assert first.size.height >= 2  # wrapped, not cut
