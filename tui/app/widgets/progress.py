"""The progress pane: one consumer of the engine's event stream (engine/rewrap/events.py).

CHECK_FILES: the same bar over stored bytes (with ETA) and files done, one row.
ALTER: an overall bar with ETA, one row per backup (queued, unwrapping, wrapping, verifying, added,
already present, failed with its reason) and elapsed time, ticking while a backup runs, with
the run's elapsed time and ETA in the summary. Esc / Ctrl+C ask to cancel; the engine honours it
between steps, so every backup stays readable: queued rows read `cancelled` at once, running
ones `cancelling…` until their step ends.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Label, ProgressBar

from engine.rewrap.events import (
    BackupFinished,
    BackupStarted,
    CheckFinished,
    CheckProgress,
    CheckStarted,
    Event,
    Finished,
    Notice,
    PlanReady,
    Status,
    Step,
    StepStarted,
)
from tui.batch.progress import check_line, mib
from tui.shared import STATUS_WORDS

STEP_WORDS = {
    Step.READING_KEYS: "reading keys",
    Step.UNWRAPPING: "unwrapping",
    Step.VERIFYING_MANIFEST: "verifying",
    Step.WRAPPING: "wrapping",
    Step.VERIFYING_KEYS: "verifying",
    Step.WRITING: "writing",
    Step.READING_BACK: "verifying",
}
COLUMNS = ("backup", "state", "elapsed", "detail")
FINAL = {*STATUS_WORDS.values(), "checked"}
TICK = 0.5  # seconds between elapsed / ETA updates while running


def one_line(detail: str) -> str:
    """A detail in its row: the first line, and how many more Enter shows."""
    lines = detail.splitlines() or [""]
    more = len(lines) - 1
    return lines[0] + (f"  (+{more} line{'s' if more > 1 else ''}: Enter)" if more else "")


class ProgressPane(Vertical):
    class CancelRequested(Message):
        """Esc / Ctrl+C in the pane: cancel the running statement."""

        def __init__(self, pane: ProgressPane) -> None:
            super().__init__()
            self.pane = pane

        @property
        def control(self) -> ProgressPane:
            return self.pane

    DEFAULT_CSS = """
    ProgressPane { height: auto; max-height: 14; }
    ProgressPane > Horizontal { height: 1; }
    ProgressPane #progress-summary { width: 1fr; padding: 0 1; }
    ProgressPane DataTable { height: auto; max-height: 11; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", priority=False),
        Binding("ctrl+c", "cancel", "Cancel", show=False),
    ]
    can_focus = True

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.total = 0
        self.done = 0
        self.states: dict[str, str] = {}
        self.details: dict[str, str] = {}  # each row's whole detail (a failure's every reason)
        self.started: dict[str, float] = {}  # when each running backup started (self.clock)
        self.running = False
        self.cancelling = False
        self.run_started = 0.0
        self.what = ""
        self.summary = ""

    def on_mount(self) -> None:
        self.set_interval(TICK, self.tick)

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield ProgressBar(total=None, show_eta=True, id="progress-bar")
            yield Label("", id="progress-summary")
        table: DataTable[str] = DataTable(id="progress-table", cursor_type="row", zebra_stripes=True)
        for c in COLUMNS:
            table.add_column(c, key=c)
        yield table

    @property
    def table(self) -> DataTable:
        return self.query_one("#progress-table", DataTable)

    def consume(self, event: Event) -> None:
        table = self.table
        bar = self.query_one(ProgressBar)
        if isinstance(event, (CheckStarted, CheckProgress, CheckFinished)):
            self._check(event, table, bar)
        elif isinstance(event, PlanReady):
            self._begin()
            self.total, self.done = len(event.backups), 0
            table.clear()
            self.states.clear()
            self.details.clear()
            for b in event.backups:
                self.states[b] = "queued"
                table.add_row(b, "queued", "", "", key=b)
            bar.update(total=max(1, self.total), progress=0)
            what = "dry run: checking" if event.dry_run else "adding"
            self._summary(f"{what} {', '.join(event.new_kms)}")
        elif isinstance(event, BackupStarted):
            self.started[event.backup] = self.clock()
            self._set(event.backup, "cancelling…" if self.cancelling else "started", elapsed="0.0s")
        elif isinstance(event, StepStarted):
            if not self.cancelling:
                self._set(event.backup, STEP_WORDS.get(event.step, event.step.value))
        elif isinstance(event, Notice):
            self._set(event.backup, None, detail=f"warning: {event.message}")
        elif isinstance(event, BackupFinished):
            self.done += 1
            self.started.pop(event.backup, None)
            detail = event.file or event.error or ""
            state = STATUS_WORDS[event.status]
            if self.cancelling and event.status is Status.FAILED:
                state = "cancelled"  # stopped by the cancel (a KMS call abandoned): nothing written
            self._set(event.backup, state, detail=detail, elapsed=f"{event.elapsed:.2f}s")
            bar.update(progress=self.done)
            self._summary(self.what)
        elif isinstance(event, Finished):
            self.running = False
            self.started.clear()
            shown = Counter(self.states.values()) if self.cancelling else event.counts
            counts = ", ".join(f"{n} {s}" for s, n in sorted(shown.items()))
            tail = " (cancelled)" if event.cancelled else ""
            self._summary(f"{counts or 'nothing to do'} in {event.elapsed:.2f}s{tail}")

    def _check(self, event: Event, table: DataTable, bar: ProgressBar) -> None:
        """CHECK_FILES: the bar counts stored bytes (its ETA follows), one row for the backup."""
        row = "CHECK_FILES"
        if isinstance(event, CheckStarted):
            self._begin()
            self.total, self.done = event.files_total, 0
            table.clear()
            self.states.clear()
            self.details.clear()
            bar.update(total=max(1, event.bytes_total), progress=0)
            self.started[row] = self.clock()
            self._set(row, "checking", detail=event.backup)
            self._summary(f"CHECK_FILES {event.backup}: {mib(event.bytes_total)} MiB")
        elif isinstance(event, CheckProgress):
            self.done = event.files_done
            bar.update(progress=event.bytes_done)
            self._set(row, "checking", detail=event.file, elapsed=f"{event.elapsed:.1f}s")
            self._summary(f"CHECK_FILES {check_line(event)}")
        elif isinstance(event, CheckFinished):
            self.running = False
            self.started.clear()
            self.done = event.files_done
            state = "cancelled" if event.cancelled else ("failed" if event.problems else "checked")
            detail = f"{event.problems} bad file(s)" if event.problems else ""
            self._set(row, state, detail=detail, elapsed=f"{event.elapsed:.2f}s")
            self._summary(f"CHECK_FILES {state}: {mib(event.bytes_done)} MiB in {event.elapsed:.2f}s")

    def _set(self, backup: str, state: str | None, *, detail: str | None = None,
             elapsed: str | None = None) -> None:
        table = self.table
        if backup not in self.states:
            self.states[backup] = "queued"
            table.add_row(backup, "queued", "", "", key=backup)
        if state is not None:
            self.states[backup] = state
            table.update_cell(backup, "state", state, update_width=True)
        if detail is not None:
            self.details[backup] = detail
            table.update_cell(backup, "detail", one_line(detail), update_width=True)
        if elapsed is not None:
            table.update_cell(backup, "elapsed", elapsed, update_width=True)

    def _begin(self) -> None:
        self.running = True
        self.cancelling = False
        self.started.clear()
        self.run_started = self.clock()

    def _summary(self, text: str) -> None:
        self.what = text
        timing = ""
        if self.running:  # first: a long text (the new KMS URIs) is cut at the pane's edge
            elapsed = self.clock() - self.run_started
            timing = f"  {elapsed:.0f}s"
            if 0 < self.done < self.total:
                timing += f", ETA {elapsed / self.done * (self.total - self.done):.0f}s"
        self.summary = f"{self.done}/{self.total}{timing}  {text}"
        self.query_one("#progress-summary", Label).update(Text(self.summary, no_wrap=True, overflow="ellipsis"))

    def tick(self) -> None:
        """While running: each running backup's elapsed time, the run's elapsed time and ETA."""
        if not self.running:
            return
        now = self.clock()
        for backup, since in self.started.items():
            if self.states.get(backup) not in FINAL:
                self.table.update_cell(backup, "elapsed", f"{now - since:.1f}s", update_width=True)
        self._summary(self.what)

    def cancel_requested(self) -> None:
        """The person cancelled: queued rows will never start, running ones stop at their step."""
        if not self.running:
            return
        self.cancelling = True
        for backup, state in list(self.states.items()):
            if state == "queued":
                self._set(backup, "cancelled", detail="not started")
            elif state not in FINAL:
                self._set(backup, "cancelling…")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a row: its whole detail (every OLD_KMS URI's reason) in a modal."""
        backup = str(event.row_key.value)
        text = self.details.get(backup, "")
        if text:
            from tui.app.widgets.results import open_text

            open_text(self, f"{backup}: {self.states.get(backup, '')}", text)

    def action_cancel(self) -> None:
        if self.running:
            self.post_message(self.CancelRequested(self))
