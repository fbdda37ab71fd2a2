"""SVG snapshots of the main screens (pytest-textual-snapshot). Update with --snapshot-update
after checking the new SVGs by eye. They also guard the private TextArea highlight hook: the
editor snapshot shows keyword/string/URI colours and a diagnostic underline."""

from __future__ import annotations

from tui_support import DEMO_KMS, DEMO_URI, SIZE, settled

from engine.rewrap.events import BackupFinished, BackupStarted, PlanReady, Status, Step, StepStarted

EDITOR_TEXT = (
    f"SHOW BACKUPS IN '{DEMO_URI}';\n"
    f"SHOW BACKUP FROM LATEST IN '{DEMO_URI}' WITH KMS = '{DEMO_KMS}';\n"
    "/* a comment, a placeholder $1 and a bad scheme: */\n"
    "ALTER BACKUP LATEST IN 'foo://bucket/x?AWS_SECRET_ACCESS_KEY=hidden' ADD NEW_KMS = 'x';\n"
)


async def _settle(pilot, ready=lambda: True) -> None:
    """Every worker done and its result shown; then `ready()` must hold (else the test fails)."""
    await settled(pilot)
    await pilot.wait_for_scheduled_animations()
    assert ready()


def test_editor_highlighting_and_dropdown(snap_compare, make_app) -> None:
    app = make_app(demo=False)

    async def before(pilot) -> None:
        editor = app.query_one("#editor")
        editor.load_text(EDITOR_TEXT + "SHOW BACKUPS IN ")
        editor.move_cursor(editor.document.end)
        editor.check_now()
        await pilot.press("ctrl+@")
        await _settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def _browser_with_details(app):
    async def before(pilot) -> None:
        browser = app.query_one("#browser")
        await _settle(pilot, lambda: browser.root.children and len(browser.root.children[0].children) == 3)
        browser.focus()
        browser.move_cursor(browser.root.children[0].children[0])
        panel = app.query_one("#details")
        await _settle(pilot, lambda: bool(panel.fields))

    return before


def test_browser_with_details(snap_compare, make_app) -> None:
    app = make_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=_browser_with_details(app))


def test_browser_with_details_80x24(snap_compare, make_app) -> None:
    """The narrow sidebar: each detail's value under its label, wrapped, never cut with "…"."""
    app = make_app()
    assert snap_compare(app, terminal_size=(80, 24), run_before=_browser_with_details(app))


def test_progress_pane(snap_compare, make_app) -> None:
    app = make_app(demo=False)
    events = [
        PlanReady(("/2026/11/24-020012.34", "/2026/11/25-021512.10", "/2026/11/26-020900.77"),
                  ("testkms:///new",), (DEMO_KMS,), False, 8),
        BackupStarted("/2026/11/24-020012.34"),
        StepStarted("/2026/11/24-020012.34", Step.WRITING),
        BackupFinished("/2026/11/24-020012.34", Status.ADDED, file="ENCRYPTION-INFO-2", elapsed=0.42),
        BackupFinished("/2026/11/25-021512.10", Status.ALREADY_PRESENT, elapsed=0.05),
        BackupStarted("/2026/11/26-020900.77"),
        StepStarted("/2026/11/26-020900.77", Step.UNWRAPPING),
    ]

    async def before(pilot) -> None:
        pane = app.query_one("#progress")
        pane.clock = lambda: 1000.0  # elapsed times and the summary's timing tick on this clock
        pane.remove_class("-hidden")
        for e in events:
            pane.consume(e)
        bar = pane.query_one("ProgressBar")
        bar.show_eta = False  # the ETA is wall-clock text
        await _settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


def test_results(snap_compare, make_app) -> None:
    app = make_app(demo=False)
    app.clock = lambda: 1000.0  # the title's elapsed time: 0.00 s

    async def before(pilot) -> None:
        editor = app.query_one("#editor")
        editor.load_text(f"SHOW BACKUP FROM LATEST IN '{DEMO_URI}' WITH KMS = '{DEMO_KMS}';")
        editor.move_cursor(editor.document.end)
        await pilot.press("f5")
        table = app.query_one("#results-table")
        await _settle(pilot, lambda: table.row_count > 0 and not app.running)
        table.focus()

    assert snap_compare(app, terminal_size=SIZE, run_before=before)
