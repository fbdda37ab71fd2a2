"""The results pane: one result per statement of the last run (a tab each), its rows
(multi-line cells shown whole up to MAX_CELL_LINES, Enter opens any cell in full), a scrollable
log of its notices and errors, copy cell / row. The title puts `N rows · 0.12 s` before the
statement, so a narrow pane cuts the statement, never the count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Static

from tui.batch.output import cell_text

MAX_CELL_LINES = 6  # a taller cell shows its first lines and how to see the rest


def cell(value: str) -> Text:
    """A cell as shown: every line (up to MAX_CELL_LINES), the rest behind Enter."""
    lines = value.splitlines() or [""]
    if len(lines) > MAX_CELL_LINES:
        lines = [*lines[: MAX_CELL_LINES - 1], f"… {len(lines) - MAX_CELL_LINES + 1} more lines (Enter)"]
    return Text("\n".join(lines), no_wrap=True)


def seconds(elapsed: float) -> str:
    """Elapsed time as the title shows it: `0.12 s`, `12.3 s`, `2m 05s`."""
    if elapsed < 10:
        return f"{elapsed:.2f} s"
    if elapsed < 60:
        return f"{elapsed:.1f} s"
    minutes, secs = divmod(round(elapsed), 60)
    return f"{minutes}m {secs:02d}s"


@dataclass(frozen=True)
class Result:
    """One statement's outcome as shown (and exported): its values, not their text."""

    text: str  # the statement, redacted
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # the log's lines (`NOTICE: …`, `ERROR: …`)
    elapsed: float | None = None
    error: str | None = None  # the statement did not run (the log says why)

    @property
    def title(self) -> str:
        """`N rows · 0.12 s · statement` (or `error · …`): count and time first."""
        parts = ["error" if self.error is not None else f"{len(self.rows)} row{'' if len(self.rows) == 1 else 's'}"]
        if self.elapsed is not None:
            parts.append(seconds(self.elapsed))
        return " · ".join([*parts, " ".join(self.text.split())])

    @property
    def label(self) -> str:
        """The result's name in the strip: the statement's first words, its count or ✗."""
        words = " ".join(self.text.split()[:2])
        return f"{words} ✗" if self.error is not None else f"{words} ({len(self.rows)})"


def open_text(widget: Any, title: str, text: str) -> None:
    from tui.app.screens.text_modal import TextModal

    widget.app.push_screen(TextModal(title, text))


class ResultsTable(DataTable):
    BINDINGS = [
        Binding("c", "copy_cell", "Copy cell"),
        Binding("y", "copy_row", "Copy row"),
        Binding("enter", "show_cell", "Show cell", show=False),
        Binding("left_square_bracket", "pick(-1)", "Previous result", show=False),
        Binding("right_square_bracket", "pick(1)", "Next result", show=False),
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

    def action_pick(self, step: int) -> None:
        pane = next((a for a in self.ancestors if isinstance(a, ResultsPane)), None)
        if pane is not None:
            pane.pick(step)


class NoticeLog(VerticalScroll):
    """The statement's notices and errors, every line (scroll; Enter opens them in full)."""

    BINDINGS = [Binding("enter", "show", "Show all", show=False)]

    def compose(self) -> ComposeResult:
        yield Static("", id="results-notices")

    def action_show(self) -> None:
        text = str(self.query_one("#results-notices", Static).render())
        if text.strip():
            open_text(self, "notices", text)


class ResultStrip(Static):
    """One line naming each result of the run (the shown one highlighted); a click picks one."""

    def show_labels(self, labels: Sequence[str], current: int) -> None:
        parts = []
        for i, label in enumerate(labels):
            style = "reverse bold" if i == current else "underline"
            parts.append(Content.from_markup(f"[{style} @click=pick({i})]$label[/]", label=f" {i + 1} {label} "))
        self.update(Content(" ").join(parts))
        self.set_class(len(labels) < 2, "-single")

    def action_pick(self, index: int) -> None:
        pane = next((a for a in self.ancestors if isinstance(a, ResultsPane)), None)
        if pane is not None:
            pane.pick_index(index)


class ResultsPane(Vertical):
    """Every result of the last run, one shown at a time (`[` / `]` or the tabs pick another)."""

    DEFAULT_CSS = """
    ResultsPane { height: 1fr; }
    ResultsPane #results-tabs { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    ResultsPane #results-tabs.-single { display: none; }
    ResultsPane #results-title { height: 1; padding: 0 1; background: $boost; text-wrap: nowrap;
                                 text-overflow: ellipsis; }
    ResultsPane NoticeLog { height: auto; max-height: 40%; padding: 0 1; color: $warning; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results: list[Result] = []
        self.index = -1  # the result shown

    def compose(self) -> ComposeResult:
        yield ResultStrip("", id="results-tabs", classes="-single")
        yield Static("Results", id="results-title")
        yield NoticeLog(id="results-log")
        yield ResultsTable(id="results-table", cursor_type="cell", zebra_stripes=True)

    @property
    def table(self) -> ResultsTable:
        return self.query_one(ResultsTable)

    @property
    def shown(self) -> Result | None:
        """The result on screen (what export writes), None before the first."""
        return self.results[self.index] if 0 <= self.index < len(self.results) else None

    def clear_results(self) -> None:
        """A new run: its results replace the last run's."""
        self.results = []
        self.index = -1
        self.query_one(ResultStrip).show_labels([], -1)

    def add(self, result: Result) -> None:
        """One more statement's result, shown at once (a run shows each as it ends)."""
        self.results.append(result)
        self._show(len(self.results) - 1)

    def show(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]],
             notices: Sequence[str] = (), elapsed: float | None = None) -> None:
        """`notices`: the log's lines as they are to read (`NOTICE: …`, `ERROR: …`)."""
        self.add(Result(title, list(columns), [tuple(r) for r in rows], list(notices), elapsed))

    def show_error(self, title: str, error: str, elapsed: float | None = None) -> None:
        self.add(Result(title, notices=[f"ERROR: {error}"], elapsed=elapsed, error=error))

    def pick(self, step: int) -> None:
        """`[` / `]`: the previous / next result of the run (wrapping)."""
        if self.results:
            self._show((self.index + step) % len(self.results))

    def pick_index(self, index: int) -> None:
        if 0 <= index < len(self.results):
            self._show(index)

    def _show(self, index: int) -> None:
        self.index = index
        result = self.results[index]
        self.query_one(ResultStrip).show_labels([r.label for r in self.results], index)
        self.table.set_rows(result.columns, result.rows)
        self.query_one("#results-title", Static).update(Text(result.title, no_wrap=True, overflow="ellipsis"))
        self.query_one("#results-notices", Static).update(Text("\n".join(result.notices)))
        log = self.query_one(NoticeLog)
        log.display = bool(result.notices)  # no empty line above the rows
        log.scroll_home(animate=False)
