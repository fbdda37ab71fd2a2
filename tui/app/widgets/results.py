"""The results pane: a DataTable of the last statement's rows, its notices, copy cell / row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from tui.app.messages import Copied
from tui.batch.output import cell_text


class ResultsTable(DataTable):
    BINDINGS = [
        Binding("c", "copy_cell", "Copy cell"),
        Binding("y", "copy_row", "Copy row"),
    ]

    def action_copy_cell(self) -> None:
        if not self.row_count:
            return
        value = str(self.get_cell_at(self.cursor_coordinate))
        self.app.copy_to_clipboard(value)
        self.post_message(Copied("cell", value))
        self.notify("cell copied", timeout=1.5)

    def action_copy_row(self) -> None:
        if not self.row_count:
            return
        value = "\t".join(str(v) for v in self.get_row_at(self.cursor_row))
        self.app.copy_to_clipboard(value)
        self.post_message(Copied("row", value))
        self.notify("row copied", timeout=1.5)


class ResultsPane(Vertical):
    DEFAULT_CSS = """
    ResultsPane { height: 1fr; }
    ResultsPane #results-title { height: 1; padding: 0 1; background: $boost; }
    ResultsPane #results-notices { height: auto; max-height: 4; padding: 0 1; color: $warning; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Results", id="results-title")
        yield Static("", id="results-notices")
        yield ResultsTable(id="results-table", cursor_type="cell", zebra_stripes=True)

    @property
    def table(self) -> ResultsTable:
        return self.query_one(ResultsTable)

    def show(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
             notices: Sequence[str] = ()) -> None:
        table = self.table
        table.clear(columns=True)
        table.add_columns(*columns)
        table.add_rows([[cell_text(v) for v in row] for row in rows])
        n = len(rows)
        self.query_one("#results-title", Static).update(f"{title}  ({n} row{'s' if n != 1 else ''})")
        self.query_one("#results-notices", Static).update("\n".join(f"NOTICE: {x}" for x in notices))

    def show_error(self, title: str, error: str) -> None:
        self.table.clear(columns=True)
        self.query_one("#results-title", Static).update(title)
        self.query_one("#results-notices", Static).update(f"ERROR: {error}")
