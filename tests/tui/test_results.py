"""Results: `N rows · 0.12 s` first in the title, one result per statement of a run (each in
history), export of the shown result (csv / tsv / json lines, the batch writers) from Ctrl+S and
the palette, never over an existing file without a second Enter."""

from __future__ import annotations

import io
import json
import os
import re

from tui_support import DEMO_KMS, DEMO_URI, SIZE, Inbox

from tui.app.widgets.results import Result, seconds
from tui.batch.output import write_rows

SHOW_BACKUPS = f"SHOW BACKUPS IN '{DEMO_URI}'"
SHOW_BACKUP = f"SHOW BACKUP FROM LATEST IN '{DEMO_URI}' WITH KMS = '{DEMO_KMS}'"


def test_title_puts_count_and_time_first() -> None:
    assert Result("SHOW BACKUPS IN 'x'", ["path"], [("a",), ("b",)], elapsed=0.123).title == \
        "2 rows · 0.12 s · SHOW BACKUPS IN 'x'"
    assert Result("SHOW\n  BACKUPS", ["path"], [("a",)], elapsed=12.34).title == "1 row · 12.3 s · SHOW BACKUPS"
    assert Result("SHOW X", error="bad").title == "error · SHOW X"
    assert Result("SHOW X", error="bad", elapsed=0.5).title == "error · 0.50 s · SHOW X"
    assert seconds(125) == "2m 05s"


async def run(app, pilot, msgs: Inbox, text: str, *, count: int = 1) -> None:
    editor = app.query_one("#editor")
    editor.load_text(text)
    editor.move_cursor(editor.document.end)
    editor.focus()
    before = len(msgs.of("StatementExecuted")) + len(msgs.of("StatementFailed"))
    await pilot.press("f5")
    await msgs.until(pilot, lambda: len(msgs.of("StatementExecuted")) + len(msgs.of("StatementFailed"))
                     >= before + count and not app.running, f"{count} result(s)")
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_title_shows_rows_and_elapsed_before_the_statement(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=(80, 24), message_hook=(msgs := Inbox())) as pilot:
        await run(app, pilot, msgs, SHOW_BACKUPS + ";")
        title = str(app.query_one("#results-title").render())
        assert re.match(r"3 rows · \d+\.\d\d s · SHOW BACKUPS IN ", title), title
        (done,) = msgs.of("StatementExecuted")
        assert done.elapsed is not None and done.elapsed >= 0
        await run(app, pilot, msgs, f"SHOW BACKUP FROM LATEST IN '{DEMO_URI}' WITH KMS = 'testkms:///wrong';")
        (failed,) = msgs.of("StatementFailed")
        title = str(app.query_one("#results-title").render())
        assert failed.elapsed is not None and re.match(r"error · \d+\.\d\d s · SHOW BACKUP ", title), title


async def test_each_statement_keeps_its_result_and_history_entry(make_app, tui_env) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        await run(app, pilot, msgs, f"{SHOW_BACKUPS};\n{SHOW_BACKUP};\n", count=2)
        pane = app.query_one("#results")
        table = app.query_one("#results-table")
        assert len(pane.results) == 2 and pane.index == 1  # the last one shown
        assert pane.results[0].columns == ["path"] and len(pane.results[0].rows) == 3
        strip = str(app.query_one("#results-tabs").render())
        assert "1 SHOW BACKUPS (3)" in strip and "2 SHOW BACKUP" in strip
        assert app.query_one("#results-tabs").display
        shown_cols = table.headers
        table.focus()
        await pilot.press("left_square_bracket")
        assert pane.index == 0 and table.headers == ["path"] and table.row_count == 3
        await pilot.press("right_square_bracket")
        assert pane.index == 1 and table.headers == shown_cols
        entries = app.history.entries()
        assert entries[-2:] == [SHOW_BACKUPS, SHOW_BACKUP]
        # A new run replaces the old run's results.
        await run(app, pilot, msgs, SHOW_BACKUPS + ";")
        assert len(pane.results) == 1 and not app.query_one("#results-tabs").display


async def test_export_csv_refuses_to_overwrite_without_confirmation(make_app, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(demo=False)
    async with app.run_test(size=(80, 24), message_hook=(msgs := Inbox())) as pilot:
        await run(app, pilot, msgs, SHOW_BACKUP + ";")
        shown = app.query_one("#results").shown
        want = io.StringIO()
        write_rows(want, "csv", shown.columns, shown.rows)
        target = tmp_path / "out.csv"
        target.write_text("keep me\n")
        await pilot.press("ctrl+s")
        field = app.screen.query_one("#export-path")
        assert field.value == "result.csv"
        field.value = "out.csv"
        await pilot.press("enter")
        message = str(app.screen.query_one("#export-message").render())
        assert "out.csv exists" in message and target.read_text() == "keep me\n"
        await pilot.press("enter")  # the confirmation
        await pilot.pause()
        assert not app.screen.query("#export-path")  # the modal closed
        assert target.read_text() == want.getvalue() and len(want.getvalue().splitlines()) == len(shown.rows) + 1
        assert os.stat(target).st_mode & 0o777 == 0o600


async def test_export_from_the_palette_as_json_and_clean_errors(make_app, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(demo=False)
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        await run(app, pilot, msgs, SHOW_BACKUPS + ";")
        await pilot.press("ctrl+p")
        await pilot.press(*"Export result")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        field = app.screen.query_one("#export-path")
        for bad, said in (("out.xlsx", "name a .csv, .tsv or .json file"),
                          ("missing/out.json", "no such directory")):
            field.value = bad
            await pilot.press("enter")
            message = app.screen.query_one("#export-message")
            assert said in str(message.render()) and message.has_class("-problem")
        assert not (tmp_path / "out.xlsx").exists()
        field.value = "out.json"
        await pilot.press("enter")
        await pilot.pause()
        lines = (tmp_path / "out.json").read_text().splitlines()
        assert [json.loads(line)["path"] for line in lines] == [r[0] for r in app.query_one("#results").shown.rows]
        assert len(lines) == 3


async def test_export_with_nothing_shown_says_so(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not app.screen.query("#export-path")
        assert any("nothing to export" in str(n.message) for n in app._notifications)
