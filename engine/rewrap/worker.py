"""The helper process of a split ALTER BACKUP ALL (engine/rewrap/split.py): `python -m
engine.rewrap.worker`, started by run_rewrap, never by hand.

Reads its Job and then ("jobs", [i, ...]) / ("end",) / ("cancel",) frames on stdin; writes
("event", e), ("result", i, outcome) and ("more", k) frames on stdout (file descriptor 1 is
pointed at stderr first, so a stray print cannot corrupt the stream). Ctrl-C is ignored here: the
main process decides and relays a cancel; stdin closing (the main process is gone) cancels too.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

from engine.collection import Collection, FullBackup
from engine.encryption import close_candidates, open_candidates
from engine.rewrap.backup import RewrapRequest, rewrap_backup
from engine.rewrap.events import CancelToken, Event
from engine.rewrap.journal import AuditJournal
from engine.rewrap.run import end_journal_batch, open_new_kms
from engine.rewrap.split import Job, read_frame, write_frame
from engine.settings import set_limits


class _Jobs:
    """Indices handed over by the main process; asks for more before running dry."""

    def __init__(self, first: tuple[int, ...], want: int, ask: Callable[[int], None]) -> None:
        self.todo = deque(first)
        self.want = want
        self.ask = ask
        self.asked = False
        self.ended = False
        self.cond = threading.Condition()

    def add(self, indices: list[int] | None) -> None:
        with self.cond:
            if indices is None:
                self.ended = True
            else:
                self.todo.extend(indices)
            self.asked = False
            self.cond.notify_all()

    def next(self) -> int | None:
        with self.cond:
            while True:
                if len(self.todo) <= self.want // 2 and not self.asked and not self.ended:
                    self.asked = True
                    self.ask(max(1, self.want - len(self.todo)))
                if self.todo:
                    return self.todo.popleft()
                if self.ended:
                    return None
                self.cond.wait()


class _Outbox:
    """Messages to the main process, written in batches: one frame every FLUSH_SECONDS (at
    once for an urgent one), so the main process, whose interpreter lock its own workers
    contend for, reads and unpickles a frame per batch instead of per event."""

    FLUSH_SECONDS = 0.02

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.items: list[object] = []
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._run, name="rewrap helper outbox", daemon=True)
        self.thread.start()

    def send(self, message: object, *, urgent: bool = False) -> None:
        with self.cond:
            self.items.append(message)
            if urgent:
                self.cond.notify()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify()
        self.thread.join()

    def _run(self) -> None:
        while True:
            with self.cond:
                if not self.items and not self.closed:
                    self.cond.wait(self.FLUSH_SECONDS)
                batch, self.items = self.items, []
                closed = self.closed
            if batch:
                try:
                    write_frame(self.out, batch)
                except (OSError, ValueError):
                    pass  # the main process is gone; its stdin closing cancels this run
            if closed:
                return
            if not batch:
                continue
            with self.cond:  # gather for a while unless something urgent comes
                if not self.closed:
                    self.cond.wait(self.FLUSH_SECONDS)


def main(inp: IO[bytes], out: IO[bytes]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job = read_frame(inp)
    if not isinstance(job, Job):
        return 2
    set_limits(job.limits)
    outbox = _Outbox(out)
    send = outbox.send

    cancel = CancelToken()
    jobs = _Jobs(job.first, job.concurrency, lambda k: send(("more", k), urgent=True))

    def control() -> None:
        while True:
            msg = read_frame(inp)
            if msg is None or msg[0] == "cancel":
                cancel.cancel()
                if msg is None:
                    jobs.add(None)
                    return
            elif msg[0] == "jobs":
                jobs.add(list(msg[1]))
            elif msg[0] == "end":
                jobs.add(None)

    threading.Thread(target=control, name="rewrap helper control", daemon=True).start()

    coll = Collection(job.storage)  # type: ignore[arg-type]

    new = open_new_kms(job.new_kms, env=job.env)
    old = open_candidates(list(job.old_kms), env=job.env)
    journal = AuditJournal(Path(job.journal)) if job.journal else None
    def emit(event: Event) -> None:
        send(("event", event))

    if journal is not None:
        journal.begin_batch()
    try:
        for kms in [*new, *(c.kms for c in old if c.kms is not None)]:
            kms.prepare()
        request = RewrapRequest(new, old, dry_run=job.dry_run, statement=job.statement)

        def work() -> None:
            while (i := jobs.next()) is not None:
                backup = FullBackup(coll, job.paths[i])
                outcome = rewrap_backup(backup, request, emit=emit, cancel=cancel, journal=journal)
                send(("result", i, outcome))

        with ThreadPoolExecutor(max_workers=max(1, job.concurrency)) as pool:
            for f in [pool.submit(work) for _ in range(max(1, job.concurrency))]:
                f.result()
    finally:
        for k in new:
            k.close()
        close_candidates(old)
        if journal is not None:
            end_journal_batch(journal, emit)
        for warning in coll.storage.take_warnings():
            send(("warning", warning))
        outbox.close()
    return 0


if __name__ == "__main__":
    stream = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # prints go to stderr, never into the frames
    code = main(sys.stdin.buffer, stream)
    stream.flush()
    sys.stderr.flush()
    # Not sys.exit: the control thread is blocked reading stdin, and interpreter shutdown with
    # a daemon thread inside a buffered read aborts (SIGABRT). Everything is written by now
    # (the journal's records fsynced by end_batch).
    os._exit(code)
