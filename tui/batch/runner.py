"""Batch mode: run a script of statements, results on stdout, errors and progress on stderr.

`run_batch` stops at the first failure (exit 1). Ctrl-C: the first cancels cooperatively
(queued backups do not start, running ones stop at their next step, KMS and cloud calls in
flight are abandoned) and exits 130; the second exits 130 at once. Either way every backup stays
readable: key files are written create-only, whole or not at all.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from syntax.redact import redact_text

from tui.shared import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK

if TYPE_CHECKING:
    from engine.rewrap.events import CancelToken
    from tui.settings import Settings


class OutputError(Exception):
    """Results could not be written to stdout (a full disk, a closed pipe or file)."""

    def __init__(self, e: OSError) -> None:
        super().__init__(e.strerror or str(e))
        self.error = e


def run_batch(
    sql: str,
    *,
    fmt: str,
    out: TextIO,
    err: TextIO,
    settings: Settings | None = None,
    progress: bool = False,
    report: str | None = None,
) -> int:
    """Parse and run every statement; stop at the first failure. `progress` forces progress
    output on `err` even when it is not a terminal; warnings are always written. `report`:
    where SHOW KMS RETIREMENT writes its report (FILE.md + FILE.json), verdict good or bad.
    `settings`: tui.cli.main's; when None, tui.settings.load_settings() (the environment)."""
    from engine.errors import RewrapError
    from engine.execute import Executor
    from engine.rewrap.events import CancelToken
    from engine.rewrap.journal import AuditJournal
    from syntax import SQLSyntaxError, ast, parse

    from tui.batch.output import write_rows
    from tui.batch.progress import batch_progress

    if settings is None:
        from tui.settings import load_settings

        settings = load_settings()
    try:
        statements = parse(sql)
    except SQLSyntaxError as e:
        print(f"ERROR: {redact_text(str(e))}", file=err)
        return EXIT_FAILED
    executor = Executor(
        kms_env=settings.kms_env,
        settings=settings.engine,
        journal=AuditJournal(settings.audit_log),
    )
    sink = batch_progress(fmt, err, forced=progress)
    cancel = CancelToken()
    writing = threading.Event()  # set while a statement that may write runs (ALTER BACKUP)
    restore = install_sigint(cancel, writing)
    try:
        for stmt in statements:
            if cancel.cancelled:
                return interrupted(err)
            if isinstance(stmt, ast.AlterBackup):
                writing.set()
            else:
                writing.clear()
            try:
                result = executor.run(stmt, progress=sink, cancel=cancel)
            except KeyboardInterrupt:  # a read-only statement stopped where it was
                return interrupted(err)
            except RewrapError as e:
                if cancel.cancelled:
                    return interrupted(err)
                print(f"ERROR: {redact_text(str(e))}", file=err)
                return EXIT_FAILED
            for notice in result.notices:
                warn(err, fmt, notice)
            try:
                write_rows(out, fmt, result.columns, result.rows)
                out.flush()
            except BrokenPipeError:
                raise
            except OSError as e:
                raise OutputError(e) from None
            if cancel.cancelled:
                return interrupted(err)
            if report and isinstance(stmt, ast.ShowKMSRetirement) and result.report is not None:
                from engine.retirement import write_report

                try:
                    md, js = write_report(result.report, report)
                except OSError as e:
                    print(f"ERROR: cannot write the report {redact_text(report)}: {e.strerror or e}", file=err)
                    return EXIT_FAILED
                if fmt != "json":
                    print(f"NOTICE: retirement report written to {md} and {js}", file=err)
            if result.error is not None:
                print(f"ERROR: {redact_text(result.error)}", file=err)
                return EXIT_FAILED
            if isinstance(stmt, ast.ShowKMSRetirement) and result.report is not None and fmt != "json":
                print(f"NOTICE: '{result.report.old.uri}' can be retired: every backup opens with a "
                      "remaining key", file=err)
            if not result.ok:
                failed = [r for r in result.rows if r[1] == "failed"]
                for row in failed:
                    print(f"ERROR: {row[0]}: {redact_text(str(row[3]))}", file=err)
                if len(result.rows) > 1:
                    print(f"ERROR: {len(failed)} of {len(result.rows)} backups failed", file=err)
                return EXIT_FAILED
        return EXIT_OK
    finally:
        restore()


def warn(err: TextIO, fmt: str, message: str, backup: str = "") -> None:
    """One warning on stderr: `WARNING: ...`, or a JSON `warning` event with --format json."""
    if fmt == "json":
        import json

        from engine.rewrap.events import Notice

        err.write(json.dumps(Notice(backup, redact_text(message)).to_dict()) + "\n")
    else:
        where = f"{backup}: " if backup else ""
        one_line = " ".join(redact_text(message).splitlines())
        err.write(f"WARNING: {where}{one_line}\n")
    err.flush()


def interrupted(err: TextIO) -> int:
    print("rewrap: interrupted: stopped before finishing (exit 130); every backup is readable", file=err)
    return EXIT_INTERRUPTED


def install_sigint(cancel: CancelToken, writing: threading.Event) -> Callable[[], None]:
    """Ctrl-C while statements run: the first cancels (`cancel`), the second exits 130 at once.

    A read-only statement (`writing` not set) has nothing to finish: the first Ctrl-C also
    stops it where it is (KeyboardInterrupt). An ALTER stops cooperatively, at the next step.
    Returns a function that puts the previous handler back. Only the main thread can set
    signal handlers; elsewhere (tests calling run_batch from a thread) nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_sigint(signum: int, frame: object) -> None:
        # os.write, not print: the main thread may be inside a write to stderr right now
        if cancel.cancelled:
            _write_fd(2, "rewrap: interrupted again: exiting now (exit 130); every backup stays "
                         "readable, key files are written create-only\n")
            os._exit(EXIT_INTERRUPTED)
        cancel.cancel()
        if not writing.is_set():
            raise KeyboardInterrupt
        _write_fd(2, "rewrap: interrupted: stopping; running backups stop at their next step "
                     "(press Ctrl-C again to quit at once)\n")

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:
        return lambda: None

    def restore() -> None:
        signal.signal(signal.SIGINT, previous)

    return restore


def _write_fd(fd: int, text: str) -> None:
    try:
        os.write(fd, text.encode("utf-8", "replace"))
    except OSError:
        pass
