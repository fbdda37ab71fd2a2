"""Issue 14: the editor's colours per keystroke cost work bounded by the visible rows, and the
incremental highlighter paints exactly what a full pass over the buffer paints (quotes opened
and closed, passphrases across lines, undo/redo, lines joined and split), secrets as bullets."""

from __future__ import annotations

from tui_support import SIZE
from tui.app.widgets.highlight import SECRET_STYLE, LineHighlighter

LINE = ("ALTER BACKUP LATEST IN 'nodelocal://self/demo' ADD NEW_KMS = 'testkms:///k2' "
        "WITH OLD_KMS = 'testkms:///demo-key';")


def painted(editor, row: int) -> list[tuple[int, int | None, str]]:
    """A row's spans as painted: an end at the line's end is the same as "to the end"."""
    size = len(editor.document.lines[row].encode())
    return sorted((s, None if e == size else e, n) for s, e, n in editor._highlights[row])


def full_pass(lines: list[str]) -> dict[int, list[tuple[int, int | None, str]]]:
    spans = LineHighlighter().spans(lines)
    return {r: sorted((s, None if e == len(lines[r].encode()) else e, n) for s, e, n in spans.get(r, []))
            for r in range(len(lines))}


def assert_same_as_full_pass(editor) -> None:
    lines = list(editor.document.lines)
    expected = full_pass(lines)
    for row in range(len(lines)):  # top to bottom, as a reader scrolling down asks
        assert painted(editor, row) == expected[row], (row, lines[row])


async def test_a_keystroke_computes_only_rows_near_the_viewport(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one("#editor")
        editor.load_text("\n".join(f"{LINE} -- {i}" for i in range(2000)))
        editor.move_cursor((1000, 6))
        await pilot.pause()
        height = editor.size.height
        for y in range(height):
            editor.render_line(y)
        hl = editor._highlighter
        for ch in "x'y":  # a quote left open: everything after it is one string
            before = hl.rows_computed
            editor.insert(ch)
            for y in range(height):
                editor.render_line(y)
            work = hl.rows_computed - before
            assert 0 < work <= height + 2 * LineHighlighter.WINDOW, (ch, work)
        assert editor._highlights[editor.scroll_offset.y + height - 1][-1][2] == "string"
        assert_same_as_full_pass(editor)


async def test_edits_undo_and_redo_paint_what_a_full_pass_paints(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one("#editor")
        text = "\n".join([
            "SHOW BACKUP LATEST IN 'x' WITH encryption_passphrase =",
            "  'hunter2';",
            *(f"{LINE} -- {i}" for i in range(200)),
            "SHOW BACKUPS IN 's3://b?AWS_SECRET_ACCESS_KEY=one",
            "two';",
            *(f"{LINE} /* {i} */" for i in range(100)),
        ])
        editor.load_text(text)
        await pilot.pause(0)
        assert_same_as_full_pass(editor)
        steps = [
            lambda: editor.insert("'", (5, 3)),          # opens a string to the end
            lambda: editor.insert("/*", (150, 0)),        # and a comment inside it
            lambda: editor.insert("'", (300, 0)),         # closes the string
            lambda: editor.insert("\n", (1, 4)),          # splits the passphrase's line
            lambda: editor.delete((0, 10), (2, 0)),       # joins lines
            lambda: editor.action_undo(),
            lambda: editor.action_undo(),
            lambda: editor.action_redo(),
            lambda: editor.replace("SELECT", (10, 0), (10, 5)),
        ]
        for step in steps:
            step()
            # paint the viewport first (as a frame does), then check every row
            for y in range(editor.size.height):
                editor.render_line(y)
            assert_same_as_full_pass(editor)


async def test_secrets_stay_bullets_after_edits_far_down(make_app) -> None:
    app = make_app(demo=False)
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one("#editor")
        secret_row = "SHOW BACKUPS IN 's3://b/p?AWS_SECRET_ACCESS_KEY=TOPSECRET&AWS_REGION=x';"
        editor.load_text("\n".join([*(f"{LINE} -- {i}" for i in range(1500)), secret_row]))
        editor.move_cursor((1500, 0))
        await pilot.pause(0)
        for y in range(editor.size.height):
            editor.render_line(y)
        editor.insert("-- ", (1499, 0))  # an edit just above: the secret row is recomputed
        painted_line = editor.get_line(1500).plain
        assert "TOPSECRET" not in painted_line and "•••••••••" in painted_line
        assert any(n == SECRET_STYLE for _, _, n in editor._highlights[1500])
        rendered = "".join(seg.text for y in range(editor.size.height) for seg in editor.render_line(y))
        assert "TOPSECRET" not in rendered and "•••••••••" in rendered
