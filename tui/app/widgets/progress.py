"""The progress pane: one consumer of the engine's event stream (engine/rewrap/events.py).

CHECK_FILES: the same bar over stored bytes (with ETA) and files done, one row.
ALTER: an overall bar with ETA, one row per backup (queued, unwrapping, wrapping, verifying, added,
already present, failed with its reason) and elapsed time. Esc / Ctrl+C ask to cancel; the
engine honours it between steps, so every backup stays readable.
"""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
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
from tui.app.messages import CancelRequested
from tui.batch.progress import check_line, mib

STEP_WORDS = {
    Step.READING_KEYS: "reading keys",
    Step.UNWRAPPING: "unwrapping",
    Step.VERIFYING_MANIFEST: "verifying",
    Step.WRAPPING: "wrapping",
    Step.VERIFYING_KEYS: "verifying",
    Step.WRITING: "writing",
    Step.READING_BACK: "verifying",
}
STATUS_WORDS = {
    Status.ADDED: "added",
    Status.ALREADY_PRESENT: "already present",
    Status.WOULD_ADD: "would add (dry run)",
    Status.FAILED: "failed",
    Status.CANCELLED: "cancelled",
}
COLUMNS = ("backup", "state", "elapsed", "detail")


class ProgressPane(Vertical):
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

    def __init__(self, *, clock: object = time.monotonic, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.clock = clock
        self.total = 0
        self.done = 0
        self.states: dict[str, str] = {}
        self.started: dict[str, float] = {}
        self.running = False
        self.summary = ""

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield ProgressBar(total=None, show_eta=True, id="progress-bar")
            yield Label("", id="progress-summary")
        table = DataTable(id="progress-table", cursor_type="row", zebra_stripes=True)
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
            self.running = True
            self.total, self.done = len(event.backups), 0
            table.clear()
            self.states.clear()
            for b in event.backups:
                self.states[b] = "queued"
                table.add_row(b, "queued", "", "", key=b)
            bar.update(total=max(1, self.total), progress=0)
            what = "dry run: checking" if event.dry_run else "adding"
            self._summary(f"{what} {', '.join(event.new_kms)}")
        elif isinstance(event, BackupStarted):
            self._set(event.backup, "started")
        elif isinstance(event, StepStarted):
            self._set(event.backup, STEP_WORDS.get(event.step, event.step.value))
        elif isinstance(event, Notice):
            self._set(event.backup, None, detail=f"warning: {event.message}")
        elif isinstance(event, BackupFinished):
            self.done += 1
            detail = event.file or event.error or ""
            self._set(event.backup, STATUS_WORDS[event.status], detail=detail,
                      elapsed=f"{event.elapsed:.2f}s")
            bar.update(progress=self.done)
            self._summary(self.summary.split("  ", 1)[-1])
        elif isinstance(event, Finished):
            self.running = False
            counts = ", ".join(f"{n} {s}" for s, n in sorted(event.counts.items()))
            tail = " (cancelled)" if event.cancelled else ""
            self._summary(f"{counts or 'nothing to do'} in {event.elapsed:.2f}s{tail}")

    def _check(self, event: Event, table: DataTable, bar: ProgressBar) -> None:
        """CHECK_FILES: the bar counts stored bytes (its ETA follows), one row for the backup."""
        row = "CHECK_FILES"
        if isinstance(event, CheckStarted):
            self.running = True
            self.total, self.done = event.files_total, 0
            table.clear()
            self.states.clear()
            bar.update(total=max(1, event.bytes_total), progress=0)
            self._set(row, "checking", detail=event.backup)
            self._summary(f"CHECK_FILES {event.backup}: {mib(event.bytes_total)} MiB")
        elif isinstance(event, CheckProgress):
            self.done = event.files_done
            bar.update(progress=event.bytes_done)
            self._set(row, "checking", detail=event.file, elapsed=f"{event.elapsed:.1f}s")
            self._summary(f"CHECK_FILES {check_line(event)}")
        elif isinstance(event, CheckFinished):
            self.running = False
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
            table.update_cell(backup, "detail", detail, update_width=True)
        if elapsed is not None:
            table.update_cell(backup, "elapsed", elapsed, update_width=True)

    def _summary(self, text: str) -> None:
        self.summary = f"{self.done}/{self.total}  {text}"
        self.query_one("#progress-summary", Label).update(self.summary)

    def action_cancel(self) -> None:
        if self.running:
            self.post_message(CancelRequested())
