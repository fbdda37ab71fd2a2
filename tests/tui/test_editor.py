"""The SQL editor: typed text stays as typed, completion dropdown keys, diagnostics, F5 rules,
history (redacted, 0600)."""

from __future__ import annotations

import os

from tui_support import DEMO_URI, SIZE, Inbox
from tui.app.widgets.editor import statements_to_run


def test_statements_to_run_rules() -> None:
    a, b = "SHOW BACKUPS IN 'a'", "SHOW BACKUPS IN 'b'"
    text = f"{a};\n{b};\n"
    assert statements_to_run(text, 3) == [a]
    assert statements_to_run(text, text.index(";") + 1) == [a]  # just after its `;`
    assert statements_to_run(text, text.index(b) + 2) == [b]
    assert statements_to_run(text, len(text)) == [a, b]  # past the last `;`: everything
    assert statements_to_run(f"{a}; {b}", len(a) + 4) == [b]  # no trailing `;`: the one there
    assert statements_to_run(text, 0, (0, len(a))) == [a]  # the selection wins
    assert statements_to_run("  \n", 1) == []
    assert statements_to_run("SELECT ';'; x", 3) == ["SELECT ';'"]  # `;` inside a string


async def test_typed_text_is_kept_and_completion_accepts(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one("#editor")
        dropdown = app.query_one("#dropdown")
        await pilot.press(*"SHOW BACKUPS IN '(")
        assert editor.text == "SHOW BACKUPS IN '("  # no closing quote or bracket added
        assert not dropdown.is_open
        editor.load_text("SHOW BACKUPS IN ")
        editor.move_cursor(editor.document.end)
        await pilot.press("ctrl+@")  # Ctrl+Space
        assert dropdown.is_open and dropdown.completions[0].text == "'nodelocal://self/"
        await pilot.press("down", "up", "enter")
        assert editor.text == "SHOW BACKUPS IN 'nodelocal://self/"
        assert not dropdown.is_open
        await pilot.press(*"demo'")
        assert editor.text == f"SHOW BACKUPS IN '{DEMO_URI}'"


async def test_escape_closes_dropdown_and_does_nothing_else(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one("#editor")
        await pilot.press(*"SHOW ")
        await pilot.press("tab")  # Tab opens it too
        dropdown = app.query_one("#dropdown")
        assert dropdown.is_open
        await pilot.press("escape")
        assert not dropdown.is_open
        assert editor.text == "SHOW " and app.focused is editor
        await pilot.press("down")  # closed: the key moves the editor cursor, not the list
        assert editor.text == "SHOW "


async def test_diagnostics_mark_and_status_line(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        await pilot.press(*"SHOW BACKUPS IN 'foo://x'")
        editor = app.query_one("#editor")
        line = app.query_one("#status")
        await msgs.until(pilot, lambda: "scheme" in str(line.render()), "the status line's diagnostic")
        assert msgs.of("DiagnosticsUpdated")[-1].count == 1
        status = str(line.render())
        assert "1:18: unsupported storage scheme: \"foo\"" in status
        marked = [s for s in editor._highlights[0] if s[2].startswith("rewrap.diag")]
        assert marked and marked[0][0] == len("SHOW BACKUPS IN '")


async def test_unfinished_statements_are_marked_not_crashed_on(make_app) -> None:
    """A problem at the very end of the text ("at or near EOF") must mark the last character."""
    app = make_app(demo=False)
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one("#editor")
        for text in ("SHOW BACKUPS IN", "SHOW BACKUP ", "ALTER BACKUP LATEST IN 'x' ADD NEW_KMS = ", "S"):
            editor.load_text("")
            await pilot.press(*text)
            editor.check_now()
            await pilot.pause()
            assert app.is_running
            assert editor.diagnostics, text
        assert editor.text == "S"


async def test_f5_runs_and_history_is_redacted_0600(make_app, tui_env) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        await pilot.press(*f"SHOW BACKUPS IN '{DEMO_URI}';")
        await pilot.press("f5")
        (done,) = await msgs.message(pilot, "StatementExecuted")
        assert done.columns == ["path"] and len(done.rows) == 3
        assert app.query_one("#results-table").row_count == 3
        editor = app.query_one("#editor")
        editor.load_text("SHOW BACKUPS IN 's3://b/p?AWS_SECRET_ACCESS_KEY=hunter2&AUTH=specified'")
        await pilot.press("ctrl+j")
        await msgs.worker(pilot, "execute", count=2)
        path = tui_env / "data" / "history"
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert "hunter2" not in path.read_text()
        screen_text = str(app.query_one("#results").query_one("#results-notices").render())
        assert "hunter2" not in screen_text and "ERROR" in screen_text
        editor.load_text("draft")
        await pilot.press("ctrl+up")
        assert "redacted" in editor.text and "hunter2" not in editor.text
        await pilot.press("ctrl+up")
        assert editor.text == f"SHOW BACKUPS IN '{DEMO_URI}'"
        await pilot.press("ctrl+down")
        assert "redacted" in editor.text
        await pilot.press("ctrl+down")
        assert editor.text == "draft"


async def test_secret_values_are_painted_as_bullets(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"SHOW BACKUPS IN 's3://b/p?AWS_SECRET_ACCESS_KEY=TOPSECRET&AWS_REGION=x'")
        await pilot.pause()
        editor = app.query_one("#editor")
        assert "TOPSECRET" in editor.text  # the document keeps what was typed
        painted = editor.get_line(0).plain
        assert "TOPSECRET" not in painted and "AWS_SECRET_ACCESS_KEY=•••••••••&AWS_REGION=x" in painted


def test_passphrase_and_multi_line_secrets_are_secret_across_lines() -> None:
    """Issue 15 #2: the line-by-line painter reads a passphrase whose value is on the next line,
    and a URI value that runs on past a line end, in context (both become the secret style)."""
    from tui.app.widgets.highlight import SECRET_STYLE, LineHighlighter

    lines = [
        "SHOW BACKUP LATEST IN 'x' WITH encryption_passphrase =",
        "  'hunter2' , kms = 's3://b?AWS_SECRET_ACCESS_KEY=one",
        "two three'",
    ]
    spans = LineHighlighter().spans(lines)
    secret = {(row, s, e) for row, items in spans.items() for s, e, name in items if name == SECRET_STYLE}
    assert (1, 3, 10) in secret  # hunter2
    assert any(row == 1 and lines[1][s:] == "one" for row, s, _ in secret)
    assert any(row == 2 and s == 0 and e == len("two three") for row, s, e in secret)


async def test_passphrase_and_doubled_quote_secret_never_reach_results_or_history(make_app, tui_env) -> None:
    """Issue 15 #2: F5 on a statement with an ENCRYPTION_PASSPHRASE and a secret holding a
    doubled quote: the editor, the results pane (title and error) and the history file hide both."""
    app = make_app(demo=False)
    async with app.run_test(size=SIZE, message_hook=(msgs := Inbox())) as pilot:
        editor = app.query_one("#editor")
        editor.load_text(
            f"SHOW BACKUP LATEST IN '{DEMO_URI}' WITH KMS = 'aws:///k?AWS_SECRET_ACCESS_KEY=ZQX''UOTE17"
            "&REGION=r', encryption_passphrase = 'Pzq''phrase9'"
        )
        await pilot.press("ctrl+j")
        await msgs.worker(pilot, "execute")
        results = app.query_one("#results")
        shown = "".join(str(results.query_one(f"#results-{w}").render()) for w in ("title", "notices"))
        painted = editor.get_line(0).plain
        stored = (tui_env / "data" / "history").read_text()
        for text in (shown, painted, stored):
            for secret in ("ZQX", "UOTE17", "Pzq", "phrase9"):
                assert secret not in text, text
        assert "encryption_passphrase = '*****'" in stored and "AWS_SECRET_ACCESS_KEY=redacted" in stored
