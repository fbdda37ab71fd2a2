"""TUI benchmarks, measured in one run and printed as a table of ratios (never asserted).

- time to first frame (headless): rewrap's app vs an empty Textual app;
- keystroke to repaint with highlighting: a 2,000-line buffer vs a 10-line one, and vs a plain
  Textual TextArea with the same 2,000 lines (issue 14: <= 1.3x);
- completion latency with 10,000 subdirectories from the provider vs an empty provider.

Run: .venv/bin/python tests/bench/bench_tui.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

SIZE = (140, 42)
LINE = ("ALTER BACKUP LATEST IN 'nodelocal://self/demo' ADD NEW_KMS = 'testkms:///k2' "
        "WITH OLD_KMS = 'testkms:///demo-key';")


async def first_frame(make) -> float:
    start = time.perf_counter()
    async with make().run_test(size=SIZE) as pilot:
        await pilot.pause(0)
        return time.perf_counter() - start


async def keystroke(lines: int, presses: int = 30, bare: bool = False) -> float:
    """Median time of one typed character: the edit, the highlight map rebuilt from syntax's
    tokens, and every visible line rendered again (what the next frame paints)."""
    from textual.app import App
    from textual.widgets import TextArea

    from tui.app.main import RewrapApp

    if bare:
        class Bare(App):
            def compose(self):
                yield TextArea(id="editor")

        app: App = Bare()
    else:
        app = RewrapApp(demo=False, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one("#editor")
        editor.load_text("\n".join(f"{LINE} -- {i}" for i in range(lines)))
        editor.move_cursor((lines // 2, 6))
        await pilot.pause(0.2)
        height = editor.size.height
        times = []
        for _ in range(presses):
            t = time.perf_counter()
            editor.insert("x")  # what TextArea._on_key does with a printable key
            for y in range(height):
                editor.render_line(y)
            times.append(time.perf_counter() - t)
        return statistics.median(times)


async def completion(n: int, rounds: int = 20) -> float:
    from tui.app.main import RewrapApp

    subdirs = tuple(f"/2026/{m:02d}/{d:02d}-{i:06d}.00" for i in range(n // 100 + 1)
                    for m in range(1, 11) for d in range(1, 11))[:n]
    app = RewrapApp(demo=False, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        editor = app.query_one("#editor")
        editor.subdirs = lambda uri: subdirs
        editor.load_text("SHOW BACKUP '/2026/0")
        editor.move_cursor(editor.document.end)
        editor.insert("' IN 'nodelocal://self/demo'")
        editor.move_cursor((0, len("SHOW BACKUP '/2026/0")))
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            editor.open_completion()
            await pilot.pause(0)
            times.append(time.perf_counter() - t)
        shown = len(app.query_one("#dropdown").completions)
        editor.dropdown.close()
        return statistics.median(times), shown


def main() -> None:
    tmp = tempfile.mkdtemp()
    os.environ["REWRAP_DATA_DIR"] = tmp
    os.environ["REWRAP_EXTERNAL_IO_DIR"] = tmp
    from textual.app import App

    from tui.app.main import RewrapApp

    bare = asyncio.run(first_frame(App))
    ours = asyncio.run(first_frame(lambda: RewrapApp(demo=False, cursor_blink=False)))
    small = asyncio.run(keystroke(10))
    big = asyncio.run(keystroke(2000))
    plain = asyncio.run(keystroke(2000, bare=True))
    none, _ = asyncio.run(completion(0))
    many, shown = asyncio.run(completion(10_000))
    rows = [
        ("first frame (headless): rewrap vs empty App", ours, bare),
        ("keystroke→repaint: 2,000 lines vs 10 lines", big, small),
        ("keystroke→repaint, 2,000 lines: ours vs plain TextArea", big, plain),
        (f"completion: 10,000 subdirs vs none ({shown} shown)", many, none),
    ]
    print(f"{'benchmark':<56} {'measured':>10} {'baseline':>10} {'ratio':>7}")
    for name, value, base in rows:
        print(f"{name:<56} {value * 1000:>8.1f}ms {base * 1000:>8.1f}ms {value / base:>6.2f}x")


if __name__ == "__main__":
    main()
