"""Batch mode's consumer of the engine's event stream: plain lines, or JSON lines, on stderr.

Plain progress lines are written only when someone can see them (stderr is a terminal) or they
were asked for (`--progress`), so a script's stderr holds only errors and notices. `--format json`
is a script asking for machine-readable output: its JSON events always go to stderr, where every
line then is one JSON object (tests/rewrap/test_rewrap_cli.py relies on that).
"""

from __future__ import annotations

import json
import time
from typing import TextIO

from engine.rewrap.events import (
    BackupFinished,
    CheckFinished,
    CheckProgress,
    CheckStarted,
    Event,
    Finished,
    Notice,
    PlanReady,
    ProgressSink,
    ignore,
)

from tui.shared import isatty, status_detail


def batch_progress(fmt: str, err: TextIO, *, forced: bool = False) -> ProgressSink:
    """The sink batch mode uses: JSON events with --format json; else plain lines when stderr
    is a terminal or --progress was given; else none."""
    if fmt == "json":
        return JSONProgress(err)
    return LineProgress(err) if forced or isatty(err) else ignore


CHECK_LINE_EVERY = 2.0  # seconds between CHECK_FILES progress lines


def mib(n: int) -> str:
    return f"{n / (1 << 20):.1f}"


def check_line(event: CheckProgress) -> str:
    """`12/32 files, 384.0/1024.0 MiB (37%), ETA 3s`: what every front end shows of CHECK_FILES."""
    pct = 100 * event.bytes_done // event.bytes_total if event.bytes_total else 100
    eta = event.eta
    tail = f", ETA {eta:.0f}s" if eta is not None and event.bytes_done < event.bytes_total else ""
    return (
        f"{event.files_done}/{event.files_total} files, {mib(event.bytes_done)}/"
        f"{mib(event.bytes_total)} MiB ({pct}%){tail}"
    )


class LineProgress:
    """One line per plan, per finished backup, and a summary (warnings are printed once, from
    the statement's result); CHECK_FILES: a start line, a progress line every few seconds, and
    a summary."""

    def __init__(self, out: TextIO, *, every: float = CHECK_LINE_EVERY) -> None:
        self.out = out
        self.total = 0
        self.done = 0
        self.every = every
        self.last_line = 0.0

    def __call__(self, event: Event) -> None:
        if isinstance(event, CheckStarted):
            self.last_line = time.monotonic()
            self.write(f"CHECK_FILES: {event.files_total} data file(s), {mib(event.bytes_total)} MiB")
        elif isinstance(event, CheckProgress):
            now = time.monotonic()
            if now - self.last_line >= self.every:
                self.last_line = now
                self.write(f"CHECK_FILES: {check_line(event)}")
        elif isinstance(event, CheckFinished):
            if event.cancelled:
                what = f"cancelled after {event.files_done}/{event.files_total} files"
            else:
                bad = f", {event.problems} bad" if event.problems else ", all good"
                what = f"{event.files_done} file(s) checked{bad}"
            self.write(f"CHECK_FILES: {what}, {mib(event.bytes_done)} MiB in {event.elapsed:.2f}s")
        elif isinstance(event, PlanReady):
            self.total = len(event.backups)
            what = "checking (dry run)" if event.dry_run else "adding"
            keys = ", ".join(event.new_kms)
            self.write(f"ALTER BACKUP: {self.total} backup(s), {what} {keys}")
        elif isinstance(event, BackupFinished):
            self.done += 1
            detail = status_detail(event.status, file=event.file or "", error=event.error or "")
            self.write(f"[{self.done}/{self.total}] {event.backup}: {detail} ({event.elapsed:.2f}s)")
        elif isinstance(event, Finished):
            counts = ", ".join(f"{n} {status}" for status, n in sorted(event.counts.items()))
            tail = " (cancelled)" if event.cancelled else ""
            self.write(f"ALTER BACKUP: {counts or 'nothing to do'} in {event.elapsed:.2f}s{tail}")

    def write(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()


class JSONProgress:
    """Every event as one JSON object per line."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, event: Event) -> None:
        if isinstance(event, Notice):
            return  # a warning is printed once, from the statement's result (tui.batch.runner.warn)
        self.out.write(json.dumps(event.to_dict()) + "\n")
        self.out.flush()
