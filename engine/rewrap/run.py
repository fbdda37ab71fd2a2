"""Rewrap many backups: plan, bounded concurrency, one event stream, a summary at the end.

`ALTER BACKUP ALL IN <collection>` is the same engine as a single ALTER over a list of one. One
backup failing never stops the others; cancellation stops queued backups from starting and lets
running ones stop at their next step boundary.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from engine.collection import FullBackup
from engine.deadline import clear_interrupt
from engine.encryption import KMSCandidate, close_candidates, open_candidates
from engine.errors import RewrapError
from engine.kms import KMS, KMSEnv, open_kms
from engine.rewrap.backup import RewrapRequest, rewrap_backup
from engine.rewrap.events import (
    BackupFinished,
    CancelToken,
    Event,
    Finished,
    Notice,
    PlanReady,
    ProgressSink,
    Status,
    ignore,
)
from engine.rewrap.journal import AuditJournal
from engine.rewrap.split import Helper, run_split, split_job
from engine.settings import check_concurrency

DEFAULT_CONCURRENCY = 8  # at most engine.settings.MAX_CONCURRENCY (one thread per backup)


def open_new_kms(uris: Sequence[str], *, env: KMSEnv | None = None) -> list[KMS]:
    """Open every NEW_KMS URI up front: a bad one fails the statement before any work."""
    opened: list[KMS] = []
    try:
        for uri in uris:
            opened.append(open_kms(uri, env=env))
    except RewrapError as e:
        for k in opened:
            k.close()
        raise RewrapError(f"NEW_KMS: {e}") from None
    return opened


def run_rewrap(
    backups: Sequence[FullBackup],
    *,
    new_kms: Sequence[str],
    old_kms: Sequence[str],
    statement: str = "",
    dry_run: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    env: KMSEnv | None = None,
    progress: ProgressSink = ignore,
    cancel: CancelToken | None = None,
    journal: AuditJournal | None = None,
    processes: int | None = None,
) -> list[BackupFinished]:
    """Rewrap every backup; returns one outcome per backup, in the order given. `processes`:
    1 runs here alone, 2 spreads the backups over this process and a helper process when the
    run allows it (engine/rewrap/split.py), None (the default) splits large runs with many
    workers."""
    try:
        check_concurrency(concurrency)
    except ValueError as e:
        raise RewrapError(str(e)) from None
    cancel = cancel or CancelToken()
    if not cancel.cancelled:
        clear_interrupt()  # a new run: an earlier Ctrl-C (shell, console) is over
    lock = threading.Lock()

    def emit(event: Event) -> None:
        with lock:  # one event at a time, whatever the consumer
            progress(event)

    new = open_new_kms(new_kms, env=env)
    old: list[KMSCandidate] = open_candidates(old_kms, env=env)
    started = time.monotonic()
    helper: Helper | None = None
    if journal is not None:
        journal.begin_batch()
    try:
        emit(
            PlanReady(
                backups=tuple(b.subdir for b in backups),
                new_kms=tuple(k.redacted_uri for k in new),
                old_kms=tuple(c.uri for c in old),
                dry_run=dry_run,
                concurrency=concurrency,
            )
        )
        job = split_job(
            backups, new_kms=new_kms, old_kms=old_kms, statement=statement, dry_run=dry_run,
            concurrency=concurrency, env=env, journal=journal, processes=processes,
        )
        if job is not None:  # started first: its start-up overlaps the client builds here
            helper = Helper(job, len(backups), emit, cancel)
            helper.start()
        if backups:
            # Clients first (one per URI, shared by every worker): otherwise all workers wait on
            # the first one's SDK import and client build.
            for kms in [*new, *(c.kms for c in old if c.kms is not None)]:
                kms.prepare()
        request = RewrapRequest(new, old, dry_run=dry_run, statement=statement)
        one: Callable[[FullBackup], BackupFinished] = lambda b: rewrap_backup(  # noqa: E731
            b, request, emit=emit, cancel=cancel, journal=journal
        )
        if helper is not None:
            outcomes = run_split(backups, helper, one, concurrency)
            helper = None
        elif len(backups) <= 1 or concurrency == 1:
            outcomes = [one(b) for b in backups]
        else:
            with ThreadPoolExecutor(max_workers=min(concurrency, len(backups))) as pool:
                outcomes = list(pool.map(one, backups))
    finally:
        if helper is not None:  # the run ended before it began
            helper.stop()
        for k in new:
            k.close()
        close_candidates(old)
        if journal is not None:
            end_journal_batch(journal, emit)
    counts = Counter(o.status.value for o in outcomes)
    emit(Finished(counts=dict(counts), elapsed=time.monotonic() - started, cancelled=cancel.cancelled))
    return outcomes


def all_succeeded(outcomes: Sequence[BackupFinished]) -> bool:
    ok = {Status.ADDED, Status.ALREADY_PRESENT, Status.WOULD_ADD}
    return all(o.status in ok for o in outcomes)


def end_journal_batch(journal: AuditJournal, emit: Callable[[Event], None]) -> None:
    """Make the run's journal records durable before the statement returns (one fsync for the
    batch); a failure is a notice naming how many records may not be on disk."""
    failed = journal.end_batch()
    if failed is not None:
        count, err = failed
        emit(Notice("audit journal", f"{journal.path}: {count} record(s) may not be on "
                    f"disk: {err.strerror or err}"))
