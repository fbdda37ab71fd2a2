"""The results pane: the last statement's rows (multi-line cells shown whole up to MAX_CELL_LINES,
Enter opens any cell in full), a scrollable log of its notices and errors, copy cell / row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from tui.batch.output import cell_text

MAX_CELL_LINES = 6  # a taller cell shows its first lines and how to see the rest


def cell(value: str) -> Text:
    """A cell as shown: every line (up to MAX_CELL_LINES), the rest behind Enter."""
    lines = value.splitlines() or [""]
    if len(lines) > MAX_CELL_LINES:
        lines = [*lines[: MAX_CELL_LINES - 1], f"… {len(lines) - MAX_CELL_LINES + 1} more lines (Enter)"]
    return Text("\n".join(lines), no_wrap=True)


def open_text(widget: Any, title: str, text: str) -> None:
    from tui.app.screens.text_modal import TextModal

    widget.app.push_screen(TextModal(title, text))


class ResultsTable(DataTable):
    BINDINGS = [
        Binding("c", "copy_cell", "Copy cell"),
        Binding("y", "copy_row", "Copy row"),
        Binding("enter", "show_cell", "Show cell", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.values: list[list[str]] = []  # each cell's whole text
        self.headers: list[str] = []

    def set_rows(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self.clear(columns=True)
        self.headers = list(columns)
        self.add_columns(*columns)
        self.values = [[cell_text(v) for v in row] for row in rows]
        for values in self.values:
            self.add_row(*(cell(v) for v in values), height=None)

    def value(self) -> str:
        row, col = self.cursor_coordinate
        return self.values[row][col]

    def action_copy_cell(self) -> None:
        if not self.row_count:
            return
        self.app.copy_to_clipboard(self.value())
        self.notify("cell copied", timeout=1.5)

    def action_copy_row(self) -> None:
        if not self.row_count:
            return
        self.app.copy_to_clipboard("\t".join(self.values[self.cursor_row]))
        self.notify("row copied", timeout=1.5)

    def action_show_cell(self) -> None:
        """Enter: the cell's whole text in a modal (a long error, every OLD_KMS reason)."""
        if not self.row_count:
            return
        row, col = self.cursor_coordinate
        open_text(self, f"row {row + 1}, {self.headers[col]}", self.value())


class NoticeLog(VerticalScroll):
    """The statement's notices and errors, every line (scroll; Enter opens them in full)."""

    BINDINGS = [Binding("enter", "show", "Show all", show=False)]

    def compose(self) -> ComposeResult:
        yield Static("", id="results-notices")

    def action_show(self) -> None:
        text = str(self.query_one("#results-notices", Static).render())
        if text.strip():
            open_text(self, "notices", text)


class ResultsPane(Vertical):
    DEFAULT_CSS = """
    ResultsPane { height: 1fr; }
    ResultsPane #results-title { height: 1; padding: 0 1; background: $boost; }
    ResultsPane NoticeLog { height: auto; max-height: 40%; padding: 0 1; color: $warning; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Results", id="results-title")
        yield NoticeLog(id="results-log")
        yield ResultsTable(id="results-table", cursor_type="cell", zebra_stripes=True)

    @property
    def table(self) -> ResultsTable:
        return self.query_one(ResultsTable)

    def _log(self, lines: Sequence[str]) -> None:
        self.query_one("#results-notices", Static).update(Text("\n".join(lines)))
        log = self.query_one(NoticeLog)
        log.scroll_home(animate=False)

    def show(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
             notices: Sequence[str] = ()) -> None:
        """`notices`: the log's lines as they are to read (`NOTICE: …`, `ERROR: …`)."""
        self.table.set_rows(columns, rows)
        n = len(rows)
        self.query_one("#results-title", Static).update(Text(f"{title}  ({n} row{'s' if n != 1 else ''})"))
        self._log(notices)

    def show_error(self, title: str, error: str) -> None:
        self.table.set_rows([], [])
        self.query_one("#results-title", Static).update(Text(title))
        self._log([f"ERROR: {error}"])
