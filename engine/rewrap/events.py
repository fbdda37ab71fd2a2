"""Progress as data: the typed events the rewrap engine emits, and cooperative cancellation.

One stream, three consumers: the TUI progress pane, the shell's progress bar and batch mode's
stderr lines / JSON events. Every event is a frozen dataclass with a stable `kind` and `to_dict()`.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from engine.deadline import Cancelled as Cancelled  # defined there: SDK waits raise it too
  # noqa: F401 - defined there: SDK waits raise it too


class Step(enum.Enum):
    """The steps of one backup's rewrap, in order."""

    READING_KEYS = "reading keys"
    UNWRAPPING = "unwrapping"
    VERIFYING_MANIFEST = "verifying manifest"
    WRAPPING = "wrapping"
    VERIFYING_KEYS = "verifying new keys"
    WRITING = "writing"
    READING_BACK = "reading back"


class Status(enum.Enum):
    """Final state of one backup."""

    ADDED = "added"
    ALREADY_PRESENT = "already present"
    WOULD_ADD = "would add"  # --dry-run: everything checked, nothing written
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"event": self.kind}
        for k, v in asdict(self).items():
            d[k] = v.value if isinstance(v, enum.Enum) else (list(v) if isinstance(v, tuple) else v)
        return d


@dataclass(frozen=True)
class PlanReady(Event):
    """What will be done: the backups (in order) and the keys (redacted URIs)."""

    kind: ClassVar[str] = "plan"
    backups: tuple[str, ...]
    new_kms: tuple[str, ...]
    old_kms: tuple[str, ...]
    dry_run: bool
    concurrency: int


@dataclass(frozen=True)
class BackupStarted(Event):
    kind: ClassVar[str] = "backup_started"
    backup: str


@dataclass(frozen=True)
class StepStarted(Event):
    kind: ClassVar[str] = "step"
    backup: str
    step: Step


@dataclass(frozen=True)
class Notice(Event):
    """Something a person should know that did not stop the work (e.g. a skipped file)."""

    kind: ClassVar[str] = "warning"
    backup: str
    message: str


@dataclass(frozen=True)
class BackupFinished(Event):
    """One backup is done, whatever the outcome."""

    kind: ClassVar[str] = "backup_done"
    backup: str
    status: Status
    file: str | None = None
    error: str | None = None
    new_keys: tuple[str, ...] = ()  # fingerprints of keys written (or that would be)
    present_keys: tuple[str, ...] = ()  # fingerprints of requested keys already there
    elapsed: float = 0.0


@dataclass(frozen=True)
class Finished(Event):
    kind: ClassVar[str] = "finished"
    counts: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    cancelled: bool = False


@dataclass(frozen=True)
class CheckStarted(Event):
    """CHECK_FILES is about to read `files_total` data files of `bytes_total` stored bytes."""

    kind: ClassVar[str] = "check_started"
    backup: str
    files_total: int
    bytes_total: int


@dataclass(frozen=True)
class CheckProgress(Event):
    """CHECK_FILES so far (stored bytes and files; `elapsed` seconds since CheckStarted), sent
    at most every few tenths of a second and after every file: enough for a bar and an ETA."""

    kind: ClassVar[str] = "check_progress"
    backup: str
    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int
    file: str = ""
    elapsed: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        d["eta"] = self.eta
        return d

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far, or None before there is a rate."""
        if self.bytes_done <= 0 or self.elapsed <= 0:
            return None
        return max(0.0, (self.bytes_total - self.bytes_done) * self.elapsed / self.bytes_done)


@dataclass(frozen=True)
class CheckFinished(Event):
    """CHECK_FILES is over: `problems` bad files, or cancelled part way."""

    kind: ClassVar[str] = "check_done"
    backup: str
    files_done: int
    files_total: int
    bytes_done: int
    problems: int = 0
    elapsed: float = 0.0
    cancelled: bool = False


ProgressSink = Callable[[Event], None]


def ignore(_: Event) -> None:
    """A sink that drops events."""


class CancelToken:
    """Cooperative cancellation, honoured between steps (a write in flight always completes)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Stop queued backups from starting and running ones at their next step; also
        abandons KMS and cloud storage calls in flight (engine.deadline.interrupt)."""
        from engine.deadline import interrupt

        self._event.set()
        interrupt()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled")
