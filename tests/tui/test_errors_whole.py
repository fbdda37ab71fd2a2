"""Issue 12 item 1: errors whole. A wrong OLD_KMS names every URI's reason in the notice log, in
the result cell (Enter opens it in full) and in the progress row (Enter), at 80x24; notices have
no line cap (the HINT after `SELECT 1` is kept)."""

from __future__ import annotations

from tui_support import DEMO_URI, Inbox

SMALL = (80, 24)
WRONG = ("'testkms:///wrong', 'aws:///x?REGION=us-east-1'")
REASONS = ("'testkms:///wrong': key id 'wrong' not found in ENCRYPTION-INFO",
           "'aws:///x?REGION=us-east-1': AUTH is set to 'specified', but AWS_ACCESS_KEY_ID is not set")


def on_screen(app, widget) -> str:
    """The text the terminal shows inside `widget` (its lines joined, wrapping undone)."""
    region = widget.content_region
    strips = app.screen._compositor.render_strips()
    lines = [s.crop(region.x, region.right).text for s in strips[region.y:region.bottom]]
    return "".join("".join(lines).split())


def squeezed(text: str) -> str:
    return "".join(text.split())


async def test_every_old_kms_reason_is_visible_at_80x24(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SMALL, message_hook=(msgs := Inbox())) as pilot:
        app.query_one("#editor").load_text(
            f"ALTER BACKUP LATEST IN '{DEMO_URI}' ADD NEW_KMS = 'testkms:///new' WITH OLD_KMS = ({WRONG})")
        await pilot.press("f5")
        await msgs.worker(pilot, "execute")
        log = str(app.query_one("#results-notices").render())
        assert "no key in OLD_KMS matches" in log and all(r in log for r in REASONS), log

        table = app.query_one("#results-table")
        table.focus()
        table.move_cursor(row=0, column=table.headers.index("error"))
        await pilot.press("enter")
        assert type(app.screen).__name__ == "TextModal"
        shown = on_screen(app, app.screen.query_one("#text-body"))
        for reason in REASONS:
            assert squeezed(reason) in shown, shown
        await pilot.press("escape")

        progress = app.query_one("#progress-table")
        row = str(progress.get_row_at(0)[3])
        assert row.startswith("no key in OLD_KMS matches") and "+2 lines" in row
        progress.focus()
        await pilot.press("enter")
        assert type(app.screen).__name__ == "TextModal"
        shown = on_screen(app, app.screen.query_one("#text-body"))
        for reason in REASONS:
            assert squeezed(reason) in shown, shown


async def test_notices_are_not_capped(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SMALL, message_hook=(msgs := Inbox())) as pilot:
        app.query_one("#editor").load_text("SELECT 1")
        await pilot.press("f5")
        await msgs.worker(pilot, "execute")
        log = str(app.query_one("#results-notices").render())
        assert "HINT: rewrap runs ALTER BACKUP" in log, log
        app.query_one("#results-log").focus()
        await pilot.press("enter")
        assert type(app.screen).__name__ == "TextModal"
        assert "HINT" in on_screen(app, app.screen.query_one("#text-body"))
