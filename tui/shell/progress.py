"""The line shell's consumer of the engine's event stream: one progress bar redrawn in place.

The bar shows backups done out of the plan and what the latest backup is doing; anything a person
must read later (a failed or cancelled backup, a warning) is printed as a line of its own above
it. The results table follows once the statement returns, so nothing else is repeated here.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from typing import TextIO

from engine.rewrap.events import (
    BackupFinished,
    BackupStarted,
    CheckFinished,
    CheckProgress,
    CheckStarted,
    Event,
    Finished,
    PlanReady,
    Status,
    StepStarted,
)

from tui.batch.progress import check_line
from tui.shared import status_detail

BAR_WIDTH = 24
CLEAR_LINE = "\r\x1b[K"


class ShellProgress:
    """Draws `ALTER BACKUP [#####.....] 2/5  <backup>: <step>` on a terminal stream, or, while
    CHECK_FILES runs, `CHECK_FILES [###.....] 3/32 files, 96.0/1024.0 MiB (9%), ETA 20s`."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.total = 0
        self.done = 0
        self.current = ""
        self.note = ""
        self.drawn = False
        self.started = time.monotonic()
        self.check: CheckProgress | None = None  # set while CHECK_FILES runs
        self._lock = threading.Lock()  # events come from worker threads; Ctrl+C from the main one
        self._printer: Callable[[str], None] | None = None  # set once detached

    def __call__(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, CheckStarted):
                self.check = CheckProgress(event.backup, 0, event.bytes_total, 0, event.files_total)
                self.started = time.monotonic()
            elif isinstance(event, CheckProgress):
                self.check = event
            elif isinstance(event, CheckFinished):
                self.check = None
                self._clear()
                return
            elif isinstance(event, PlanReady):
                self.total = len(event.backups)
                self.note = "checking (dry run)" if event.dry_run else "planned"
            elif isinstance(event, BackupStarted):
                self.current, self.note = event.backup, "starting"
            elif isinstance(event, StepStarted):
                self.current, self.note = event.backup, event.step.value
            elif isinstance(event, BackupFinished):
                self.done += 1
                if event.status in (Status.FAILED, Status.CANCELLED):
                    self._line(f"{event.backup}: {status_detail(event.status, error=event.error or '')}")
                self.current, self.note = event.backup, event.status.value
            elif isinstance(event, Finished):
                self._clear()
                return
            self._draw()

    def message(self, text: str) -> None:
        """A line from the shell itself (e.g. `cancelling ...`), above the bar."""
        with self._lock:
            self._line(text)
            self._draw()

    def close(self) -> None:
        with self._lock:
            self._clear()

    def detach(self, printer: Callable[[str], None]) -> None:
        """The shell went back to the prompt while the statement still runs: draw no more, and
        hand each later line (a failed or cancelled backup) to `printer` instead."""
        with self._lock:
            self._clear()
            self._printer = printer

    def _draw(self) -> None:
        if self._printer is not None:
            return
        elapsed = time.monotonic() - self.started
        if self.check is not None:
            c = self.check
            filled = BAR_WIDTH * c.bytes_done // c.bytes_total if c.bytes_total else 0
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            text = f"CHECK_FILES [{bar}] {check_line(c)} {elapsed:4.1f}s  {c.file}"
        else:
            filled = BAR_WIDTH * self.done // self.total if self.total else 0
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            text = f"ALTER BACKUP [{bar}] {self.done}/{self.total} {elapsed:4.1f}s  {self.current}: {self.note}"
        width = shutil.get_terminal_size((80, 24)).columns - 1
        self.out.write(CLEAR_LINE + text[:width])
        self.out.flush()
        self.drawn = True

    def _line(self, text: str) -> None:
        if self._printer is not None:
            self._printer(text)
            return
        self._clear()
        self.out.write(text + "\n")
        self.out.flush()

    def _clear(self) -> None:
        if self.drawn:
            self.out.write(CLEAR_LINE)
            self.out.flush()
            self.drawn = False
