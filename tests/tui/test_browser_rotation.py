"""Browser (lazy tree, details), node actions, the guided rotation, progress, results copy,
cancellation, remembered collections and the secret prompt."""

from __future__ import annotations

import json
import os

from tui_support import DEMO_KMS, DEMO_URI, SIZE, Inbox, unique
from engine.execute import Executor
from syntax import parse
from tui.collections_store import CollectionStore, strip_secrets

NEW_KMS = "testkms:///rotated-key"


async def open_demo(pilot, app, msgs: Inbox):
    """Wait for the demo collection's listing; return the browser (focused) and the collection."""
    await msgs.listed(pilot, app)
    browser = app.query_one("#browser")
    browser.focus()
    coll = browser.root.children[0]
    return browser, coll


async def open_rotation(pilot, app, msgs: Inbox):
    """`k` on the LATEST full backup; return the rotation dialog once its fields are there."""
    browser, coll = await open_demo(pilot, app, msgs)
    browser.move_cursor(coll.children[0])
    await pilot.press("k")
    await msgs.worker(pilot, "node")  # the worker found the keys and pushed the dialog
    assert type(app.screen).__name__ == "RotationModal"
    return app.screen, coll.children[0]


async def test_first_frame_then_lazy_tree_and_details(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        assert app.focused is app.query_one("#editor")  # the editor has focus at start
        browser, coll = await open_demo(pilot, app, msgs)
        fulls = [c.data for c in coll.children]
        assert len(fulls) == 3
        assert [f.subdir for f in fulls] == sorted((f.subdir for f in fulls), reverse=True)
        assert fulls[0].latest and not any(f.latest for f in fulls[1:])  # LATEST marked
        browser.move_cursor(coll.children[0])
        coll.children[0].expand()
        await msgs.listed(pilot, app, count=2)
        assert [c.data.kind for c in coll.children[0].children] == ["incremental"] * 3
        panel = app.query_one("#details")
        await msgs.until(pilot, lambda: panel.node == fulls[0] and panel.fields, "the details of LATEST")
        fields = dict(panel.fields)
        assert fields["encryption"] == "kms"
        assert fields["unlocked by"] == DEMO_KMS
        assert fields["end time"].endswith("UTC") and int(fields["files"]) > 0
        assert fields["ENCRYPTION-INFO"].startswith("key ")


async def test_node_actions_insert_and_show(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        browser, coll = await open_demo(pilot, app, msgs)
        latest = coll.children[0]
        browser.move_cursor(latest)
        await pilot.press("i")
        assert app.query_one("#editor").text == f"'{latest.data.subdir}' IN '{DEMO_URI}'"
        assert app.focused is app.query_one("#editor")
        browser.focus()
        await pilot.press("s")
        (done,) = await msgs.message(pilot, "StatementExecuted")
        assert done.columns[:3] == ["database_name", "parent_schema_name", "object_name"]
        assert done.rows and DEMO_KMS in done.text
        table = app.query_one("#results-table")
        table.focus()
        await pilot.press("y")
        row = app.clipboard
        assert row.split("\t")[2] == "movr"  # the first row, as the table shows it
        await pilot.press("c")
        assert app.clipboard == row.split("\t")[0]


async def test_guided_rotation_adds_a_key_that_opens_the_backup(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        modal, latest = await open_rotation(pilot, app, msgs)
        assert modal.query_one("#rotation-old").text == f"'{DEMO_KMS}'"
        await pilot.press(*f"'{NEW_KMS}'")
        await pilot.press("f6")
        await app.workers.wait_for_complete()  # the dialog's dry run (its messages skip the hook)
        await pilot.pause()
        status = str(modal.query_one("#rotation-status").render())
        statement = str(modal.query_one("#rotation-statement").render())
        assert modal.planned, status
        assert "ALTER BACKUP" in statement and NEW_KMS in statement
        assert modal.query_one("#rotation-plan").get_row_at(0)[1] == "would add"
        await pilot.press("f7")
        (done,) = await msgs.message(pilot, "StatementExecuted")
        assert done.rows[0][1] == "added"
        events = [type(m.event).__name__ for m in msgs.of("ProgressEvent")]
        assert events[0] == "PlanReady" and events[-1] == "Finished" and "StepStarted" in events
        pane = app.query_one("#progress")
        assert pane.display and pane.states[latest.data.subdir] == "added"
        # The engine, not the app, decides: the new key alone opens the backup.
        check = parse(f"SHOW BACKUP '{latest.data.subdir}' IN '{DEMO_URI}' WITH KMS = '{NEW_KMS}'")[0]
        assert Executor(settings=app.settings.engine).run(check).rows


async def test_cancel_keeps_the_session_usable(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        app.query_one("#editor").load_text(
            f"ALTER BACKUP ALL IN '{DEMO_URI}' ADD NEW_KMS = '{NEW_KMS}' WITH OLD_KMS = '{DEMO_KMS}'"
        )
        # No await in between: the worker thread starts only when the event loop runs again, so
        # the cancel lands before the first step, deterministically.
        app.run_statements([app.query_one("#editor").text])
        app.action_cancel_run()
        (run,) = await msgs.worker(pilot, "execute")
        assert run.result.cancelled
        assert not app.running
        app.query_one("#editor").load_text(f"SHOW BACKUPS IN '{DEMO_URI}'")
        await pilot.press("f5")
        (first, second) = await msgs.worker(pilot, "execute", count=2)
        assert second.result.ran == 1 and not second.result.cancelled


def test_store_strips_secrets_mode_0600(tui_env) -> None:
    store = CollectionStore()
    uri = "s3://bucket/coll?AWS_ACCESS_KEY_ID=AKIA&AWS_SECRET_ACCESS_KEY=s3cr3t&AUTH=specified"
    entry = store.add(uri)
    assert entry.uri == "s3://bucket/coll?AWS_ACCESS_KEY_ID=AKIA&AUTH=specified"
    assert entry.secrets == ("AWS_SECRET_ACCESS_KEY",)
    raw = store.path.read_text()
    assert "s3cr3t" not in raw and json.loads(raw)[0]["secrets"] == ["AWS_SECRET_ACCESS_KEY"]
    assert os.stat(store.path).st_mode & 0o777 == 0o600
    assert entry.with_secrets({"AWS_SECRET_ACCESS_KEY": "x y"}).endswith("AWS_SECRET_ACCESS_KEY=x%20y")
    assert strip_secrets("azure-blob://c/p?AZURE_ACCOUNT_KEY=k").uri == "azure-blob://c/p"
    assert strip_secrets("gs://u:pw@b/p").uri == "gs://u@b/p"
    store.add(uri)
    assert len(store.load()) == 1


async def test_remembered_collection_asks_for_its_secret(make_app, tui_env) -> None:
    CollectionStore().add(f"{DEMO_URI}?AWS_SECRET_ACCESS_KEY=gone")
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        await msgs.until(pilot, lambda: type(app.screen).__name__ == "SecretPrompt", "the secret prompt opens")
        await pilot.press(*"typed", "enter")
        await msgs.listed(pilot, app)
        (coll,) = app.query_one("#browser").root.children
        assert coll.data.collection == f"{DEMO_URI}?AWS_SECRET_ACCESS_KEY=typed"  # the secret, in memory
        assert str(coll.label) == f"{DEMO_URI}?AWS_SECRET_ACCESS_KEY=redacted"  # never on screen
        shown = [str(c.label) for c in coll.children]
        assert shown and "loading…" not in shown and not any("typed" in s for s in shown), shown


async def test_collection_flag_is_remembered_and_help_opens(make_app, tui_env) -> None:
    app = make_app(collections=[DEMO_URI])
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        await msgs.listed(pilot, app)
        assert [r.uri for r in CollectionStore().load()] == [DEMO_URI]
        await pilot.press("f1")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for t in ("Run statement", "Add collection", "Insert path", "SHOW BACKUP", "Add key",
                  "Copy cell", "Copy row", "Cancel", "Help", "Theme"):
            assert any(t in title for title in titles), t


async def test_rotation_fields_tab_moves_on_and_ctrl_space_completes(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        await open_rotation(pilot, app, msgs)
        assert app.focused is not None and app.focused.id == "rotation-new"
        await pilot.press("ctrl+@")
        assert app.screen.query_one("CompletionDropdown").is_open
        await pilot.press("escape")
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "rotation-old"


async def test_add_key_dialog_never_paints_a_typed_secret(make_app) -> None:
    """Issue 15 #2: an unquoted URI (and a quoted one with a doubled quote) typed into the
    Add-key dialog is drawn with its secret as bullets; so is the statement line below it."""
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        await open_rotation(pilot, app, msgs)
        field = app.screen.query_one("#rotation-new")
        typed = "aws:///k?REGION=r&AWS_SECRET_ACCESS_KEY=Bare,Sec9 , 's3://u:Pw''d9@h/p?aws_session_token=Tok''en9'"
        field.load_text(typed)
        field._build_highlight_map()
        painted = field.get_line(0).plain
        for secret in ("Bare", "Sec9", "Pw", "d9", "Tok", "en9"):
            assert secret not in painted, painted
        assert painted.count("•") == len("Bare,Sec9") + len("Pw''d9") + len("Tok''en9")
        await pilot.press("f6")  # dry run: the statement shown below is redacted
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = str(app.screen.query_one("#rotation-status").render()) + str(
            app.screen.query_one("#rotation-statement").render()
        )
        for secret in ("Sec9", "d9", "en9"):
            assert secret not in shown, shown


async def test_f6_right_after_a_paste_plans_the_pasted_uri(make_app) -> None:
    """The dialog's F6 is a priority binding too: a paste into the new-KMS field followed at once
    by F6 (one read of the terminal) dry-runs the pasted URI, not the field's older text."""
    from textual import events

    app = make_app()
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        modal, _ = await open_rotation(pilot, app, msgs)
        assert app.focused is modal.query_one("#rotation-new")
        app.post_message(events.Paste(f"'{NEW_KMS}'"))
        app.post_message(events.Key("f6", None))
        await pilot.pause()
        await app.workers.wait_for_complete()  # the dialog's dry run
        await pilot.pause()
        statement = str(modal.query_one("#rotation-statement").render())
        assert modal.planned, str(modal.query_one("#rotation-status").render())
        assert NEW_KMS in statement


async def test_a_listing_done_before_mount_is_in_the_first_frame(make_app) -> None:
    """`rewrap` lists the demo before importing Textual (tui/app/listing.py EarlyStart); a
    listing already done when the app mounts is shown in the first frame, without a browse
    worker, and the editor's warm-up imports wait until it is on screen."""
    from tui.app.listing import EarlyStart
    from tui.settings import load_settings

    settings = load_settings()
    early = EarlyStart(settings)
    (future,) = early.listings.values()
    future.result(timeout=30)  # done before the app exists, as on a real start
    app = make_app(settings=settings, early=early)
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        (coll,) = app.query_one("#browser").root.children
        assert coll.is_expanded and [c.data.kind for c in coll.children] == ["full"] * 3
        assert coll.children[0].data.latest and "LATEST" in str(coll.children[0].label)
        assert not early.listings  # taken once: a later expansion lists afresh
        await pilot.pause()
        assert early.listing_shown.is_set()
        assert not [m for m in msgs.messages if getattr(getattr(m, "worker", None), "group", "") == "browse"]
