"""Ctrl+Q with work in flight (issue 12, item 3): it says what it waits for, quits by itself once
that is done, and quits at once on a second press. The statement's KMS is a local listener that
accepts and never answers; the KMS deadline is set far above anything the test waits for."""

from __future__ import annotations

from tui_support import DEMO_KMS, DEMO_URI, SIZE, Inbox, settled
from engine.rewrap.events import Step, StepStarted
from engine.settings import Limits, set_limits
from tests.kms.hang_servers import HangServer

KMS_DEADLINE = 600.0


def hung_alter(server: HangServer) -> str:
    new = ("aws:///alias/new?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY=quitsecret"
           f"&REGION=us-east-1&AWS_ENDPOINT={server.http}")
    return f"ALTER BACKUP LATEST IN '{DEMO_URI}' ADD NEW_KMS = '{new}' WITH OLD_KMS = '{DEMO_KMS}'"


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


async def wrapping(pilot, msgs: Inbox) -> None:
    """Until the run's backup is in the wrap step (its call to the KMS that never answers)."""
    await msgs.until(pilot, lambda: any(isinstance(m.event, StepStarted) and m.event.step is Step.WRAPPING
                                        for m in msgs.of("ProgressEvent")), "the wrap step")


async def test_ctrl_q_with_nothing_in_flight_quits_at_once(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.return_code == 0
        assert not app.quit_now and not app.quit_asked


async def test_ctrl_q_twice_during_a_hung_kms_call(make_app) -> None:
    set_limits(Limits(kms_timeout=KMS_DEADLINE))
    try:
        with HangServer() as server:
            app = make_app()
            async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
                await settled(pilot)
                app.run_statements([hung_alter(server)])
                await wrapping(pilot, msgs)
                await pilot.press("ctrl+q")
                assert app.return_code is None  # still running: it waits, and says for what
                assert "waiting for 1 KMS call to finish; press Ctrl+Q again to quit now" in notices(app)
                token = app.cancel_token
                await pilot.press("ctrl+q")
                await pilot.pause()
                assert app.quit_now and app.return_code == 0
                assert token is not None and token.cancelled  # the hung call is abandoned
    finally:
        set_limits(None)


async def test_first_ctrl_q_quits_once_the_work_is_done(make_app) -> None:
    set_limits(Limits(kms_timeout=KMS_DEADLINE))
    try:
        with HangServer() as server:
            app = make_app()
            async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
                await settled(pilot)
                app.run_statements([hung_alter(server)])
                await wrapping(pilot, msgs)
                await pilot.press("ctrl+q")
                assert app.return_code is None and app.quit_asked
                await pilot.press("escape")  # the user cancels the run instead: it ends...
                await msgs.worker(pilot, "execute")
                await pilot.pause()
                assert app.return_code == 0 and not app.quit_now  # ...and the app quits by itself
    finally:
        set_limits(None)
