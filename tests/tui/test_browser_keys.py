"""Footer and help (issue 12, item 7): the rotation dialog's own keys in its footer, Esc shown
while a statement runs, F6/F7 in F1's help, Run that looks disabled until a dry run succeeded."""

from __future__ import annotations

from textual.widgets import Button

from tui_support import DEMO_KMS, DEMO_URI, SIZE, Inbox, settled
from engine.rewrap.events import Step, StepStarted
from engine.settings import Limits, set_limits
from tests.kms.hang_servers import HangServer

NEW_KMS = "testkms:///footer-key"


def footer_keys(screen) -> dict[str, str]:
    """{key: description} as the screen's own footer draws them."""
    return {k.key: k.description for k in screen.query("FooterKey")}


async def open_rotation(pilot, app, msgs: Inbox):
    await msgs.listed(pilot, app)
    browser = app.query_one("#browser")
    browser.focus()
    await pilot.pause()
    assert {"i", "s", "k"} <= set(footer_keys(app.screen))  # the browser's keys, in the browser
    browser.move_cursor(browser.root.children[0].children[0])
    await pilot.press("k")
    await msgs.worker(pilot, "node")
    await pilot.pause()
    assert type(app.screen).__name__ == "RotationModal"
    return app.screen


async def test_the_rotation_dialog_footer_shows_its_keys_and_run_waits_for_the_dry_run(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        modal = await open_rotation(pilot, app, msgs)
        keys = footer_keys(modal)
        assert {"f6": "Dry run", "f7": "Run", "escape": "Close"}.items() <= keys.items()
        assert not {"i", "s", "k", "f5"} & set(keys)  # nor the browser's, nor the editor's F5
        run = modal.query_one("#rotation-run", Button)
        assert run.disabled and run.variant == "default"  # not the warning colour of a live Run
        await pilot.press(*f"'{NEW_KMS}'")
        await pilot.press("f6")
        await app.workers.wait_for_complete()  # the dialog's dry run (its messages skip the hook)
        await pilot.pause()
        assert modal.planned, str(modal.query_one("#rotation-status").render())
        assert not run.disabled and run.variant == "warning"
        await pilot.press("space")  # an edit: the plan is for another statement
        await pilot.pause()
        assert run.disabled and run.variant == "default"


async def test_esc_is_in_the_footer_while_a_statement_runs(make_app) -> None:
    set_limits(Limits(kms_timeout=600.0))
    try:
        with HangServer() as server:
            app = make_app()
            async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
                await settled(pilot)
                assert "escape" not in footer_keys(app.screen)  # nothing to cancel
                new = f"aws:///alias/k?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=x&REGION=us-east-1&AWS_ENDPOINT={server.http}"
                app.run_statements([f"ALTER BACKUP LATEST IN '{DEMO_URI}' ADD NEW_KMS = '{new}' "
                                    f"WITH OLD_KMS = '{DEMO_KMS}'"])
                await msgs.until(pilot, lambda: any(isinstance(m.event, StepStarted) and m.event.step is Step.WRAPPING
                                                    for m in msgs.of("ProgressEvent")), "the wrap step")
                await pilot.pause()
                assert footer_keys(app.screen).get("escape") == "Cancel"
                await pilot.press("escape")
                await msgs.worker(pilot, "execute")
                await pilot.pause()
                assert "escape" not in footer_keys(app.screen)
    finally:
        set_limits(None)


async def test_f1_help_tells_the_rotation_dialog_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        text = app.screen.query_one("Markdown").source
        assert "F6 / F7 / Esc" in text and "dry run" in text
        assert "Delete, x" in text  # Remove collection
