"""The `rewrap` command: batch mode, `rewrap demo`, and (when built) the TUI and shell.

Exit codes: 0 every statement succeeded; 1 a statement failed (its error is on stderr, and later
statements did not run; a syntax error anywhere in the script counts, and then nothing runs),
or results could not be written; 2 usage error (bad flags, unreadable or oversized -f FILE or
standard input); 130 interrupted (Ctrl-C). stdout carries results only; errors, warnings and
progress go to stderr. Warnings (a skipped ENCRYPTION-INFO file, an audit journal that could not
be written) are always written, one `WARNING: ` line each (a JSON `warning` event with --format
json). Progress lines are written only when stderr is a terminal or with --progress; with
--format json every event is a JSON line on stderr (scripts asked for it).

Ctrl-C: the first cancels cooperatively (queued backups do not start, running ones stop at their
next step, KMS and cloud calls in flight are abandoned) and exits 130; the second exits 130 at
once. Either way every backup stays readable: key files are written create-only, whole or not
at all. No input produces a Python traceback: an unexpected error is one `rewrap: internal
error` line, exit 1.

Startup cost matters for scripts: nothing beyond the standard library is imported before the SQL
is known, and textual / prompt_toolkit only by the TUI and the shell (tests/bench/bench_startup.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from syntax.uri import redact_text

if TYPE_CHECKING:
    from engine.rewrap.events import CancelToken, Event, ProgressSink

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MAX_SQL_BYTES = 16 * 1024 * 1024  # a script of statements, not a data file: refuse more
DEFAULT_CONCURRENCY = 8
FORMATS = ("table", "tsv", "csv", "json")  # tui/batch/output.py writes each
DEMO_DIR_NAME = "demo"


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options every way of running statements takes (batch, console, shell)."""
    parser.add_argument(
        "--external-io-dir",
        metavar="DIR",
        help="where nodelocal://self/... resolves (env REWRAP_EXTERNAL_IO_DIR; default: "
        "<data dir>/extern, e.g. ~/.local/share/rewrap/extern)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="ALTER BACKUP checks everything (KMS reachable, old key unwraps, manifest decrypts, "
        "new keys round-trip) and writes nothing",
    )
    from engine.settings import (
        DEFAULT_KMS_TIMEOUT,
        DEFAULT_STORAGE_TIMEOUT,
        KMS_TIMEOUT_ENV,
        MAX_CONCURRENCY,
        STORAGE_TIMEOUT_ENV,
    )

    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"backups rewrapped at once by ALTER BACKUP ALL (default {DEFAULT_CONCURRENCY}, "
        f"at most {MAX_CONCURRENCY})",
    )
    parser.add_argument(
        "--kms-timeout",
        metavar="SECONDS",
        help="deadline of one KMS call, retries included (env "
        f"{KMS_TIMEOUT_ENV}; default {DEFAULT_KMS_TIMEOUT:g})",
    )
    parser.add_argument(
        "--storage-timeout",
        metavar="SECONDS",
        help="deadline of one cloud storage call (s3, gs, azure-blob), retries included (env "
        f"{STORAGE_TIMEOUT_ENV}; default {DEFAULT_STORAGE_TIMEOUT:g})",
    )


def apply_run_options(args: argparse.Namespace) -> str | None:
    """Check --concurrency and the deadlines and put the deadlines in force
    (engine.settings.set_limits). Returns a usage error message, or None. The shell and the
    console call this too, after parsing add_run_options' flags."""
    from engine.settings import Limits, check_concurrency, parse_seconds, set_limits

    try:
        check_concurrency(args.concurrency)
        base = Limits.from_env()
        kms = base.kms_timeout
        storage = base.storage_timeout
        if getattr(args, "kms_timeout", None) is not None:
            kms = parse_seconds(args.kms_timeout, "--kms-timeout")
        if getattr(args, "storage_timeout", None) is not None:
            storage = parse_seconds(args.storage_timeout, "--storage-timeout")
    except ValueError as e:
        return str(e).replace("concurrency must", "--concurrency must", 1)
    set_limits(Limits(kms_timeout=kms, storage_timeout=storage))
    return None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rewrap",
        description="A console for CockroachDB encrypted backup collections.",
        epilog="Subcommands: `rewrap shell` opens the line shell; `rewrap demo DIR|URI [--kms URI]` "
        "writes a demo collection. With no SQL given on a terminal, rewrap opens the console "
        "(on the demo collection when nothing is configured). Exit codes: 0 ok, 1 a statement "
        "failed, 2 usage error, 130 interrupted.",
    )
    add_run_options(p)
    p.add_argument(
        "--collection",
        metavar="URI",
        action="append",
        help="console: add a collection to the browser (repeatable; remembered without secrets)",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("-e", "--execute", metavar="SQL", action="append", help="run SQL (repeatable)")
    src.add_argument("-f", "--file", metavar="FILE", help="run the SQL in FILE")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="how result rows are written to stdout: aligned table (default), tsv, csv, or JSON lines",
    )
    p.add_argument(
        "--report",
        metavar="FILE",
        help="SHOW KMS RETIREMENT: also write the retirement report as FILE.md and FILE.json "
        "(every backup, its keys by fingerprint, what was proven and when; no secrets)",
    )
    p.add_argument(
        "--progress",
        action="store_true",
        help="write ALTER BACKUP progress lines to stderr even when it is not a terminal "
        "(with --format json, JSON events are always written)",
    )
    return p


def build_demo_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rewrap demo",
        description="Write a demo backup collection in CockroachDB's layout and format.",
    )
    p.add_argument(
        "dir",
        metavar="DIR|URI",
        help="empty local directory, or a storage URI (nodelocal://, s3://, gs://, azure-blob://)",
    )
    p.add_argument(
        "--kms",
        default=None,
        metavar="URI",
        help="KMS URI the data keys are wrapped with (default testkms:///demo-key)",
    )
    p.add_argument("--seed", type=int, default=None, help="make the output deterministic")
    p.add_argument(
        "--crdb-version",
        default=None,
        metavar="X.Y",
        help="write the layout of this CockroachDB release (23.2 ... 26.3; default: the newest "
        "release whose SST format rewrap can write)",
    )
    return p


class OutputError(Exception):
    """Results could not be written to stdout (a full disk, a closed pipe or file)."""

    def __init__(self, e: OSError) -> None:
        super().__init__(e.strerror or str(e))
        self.error = e


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rewrap` console script. Never lets a traceback out."""
    stdout_closed = _reserve_standard_fds()
    try:
        if stdout_closed:
            _say("rewrap: standard output is closed: there is nowhere to write results")
            return EXIT_FAILED
        code = _main(argv)
        _flush_stdout()
        return code
    except OutputError as e:
        _silence_stdout()
        _say(f"rewrap: cannot write results to standard output: {e}")
        return EXIT_FAILED
    except BrokenPipeError:  # e.g. `rewrap -e ... | head`: stop quietly, as cockroach sql does
        _silence_stdout()
        return EXIT_FAILED
    except KeyboardInterrupt:
        _silence_stdout()
        _say("rewrap: interrupted")
        return EXIT_INTERRUPTED
    except SystemExit as e:  # argparse: --help (0) and usage errors (2)
        _flush_quietly()
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    except MemoryError:
        _silence_stdout()
        _say("rewrap: out of memory")
        return EXIT_FAILED
    except Exception as e:  # noqa: BLE001 - the last resort: one line, never a traceback
        _silence_stdout()
        _say(f"rewrap: internal error ({type(e).__name__}): {redact_text(str(e))[:500]}")
        return EXIT_FAILED


def _reserve_standard_fds() -> bool:
    """Put /dev/null on any closed fd 0-2, so no file rewrap opens can land on it (a journal on
    fd 1 would receive results). True when stdout was closed."""
    closed = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.append(fd)
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stderr is None or 2 in closed:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    if sys.stdout is not None:
        try:  # non-UTF-8 names read from disk are written back as the bytes they were
            sys.stdout.reconfigure(errors="surrogateescape")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass
    return sys.stdout is None or 1 in closed


def _say(line: str) -> None:
    """One line on stderr; if even that fails there is no one left to tell."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def _flush_stdout() -> None:
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as e:
        raise OutputError(e) from None


def _flush_quietly() -> None:
    try:
        _flush_stdout()
    except (OutputError, OSError):
        _silence_stdout()


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's last flush at exit cannot fail loudly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass


class _UsageError(Exception):
    pass


def _read_sql(data: object, what: str) -> str:
    """At most MAX_SQL_BYTES from a binary stream, as UTF-8 text (_UsageError otherwise)."""
    try:
        raw = data.read(MAX_SQL_BYTES + 1)  # type: ignore[attr-defined]
    except OSError as e:
        raise _UsageError(f"rewrap: cannot read {what}: {e.strerror or e}") from None
    except MemoryError:
        raise _UsageError(f"rewrap: {what}: too large to read") from None
    if len(raw) > MAX_SQL_BYTES:
        raise _UsageError(
            f"rewrap: {what} is larger than {MAX_SQL_BYTES // (1024 * 1024)} MiB: not a SQL script"
        )
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError as e:
        raise _UsageError(f"rewrap: {what} is not UTF-8 text (byte {e.start})") from None


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:
        return demo_main(argv[1:])
    if argv[:1] == ["shell"]:
        return shell_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.external_io_dir:
        if "\0" in args.external_io_dir:
            print("rewrap: --external-io-dir: a path cannot hold a NUL byte", file=sys.stderr)
            return EXIT_USAGE
        try:
            io_dir = str(Path(args.external_io_dir).resolve())
        except (OSError, RuntimeError):  # e.g. a symlink loop: let storage name the problem
            io_dir = os.path.abspath(args.external_io_dir)
        os.environ["REWRAP_EXTERNAL_IO_DIR"] = io_dir
    problem = apply_run_options(args)
    if problem:
        print(f"rewrap: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.execute:
            sql = ";\n".join(args.execute)
        elif args.file:
            try:
                with open(args.file, "rb") as f:
                    sql = _read_sql(f, args.file)
            except OSError as e:
                raise _UsageError(f"rewrap: cannot read {args.file}: {e.strerror or e}") from None
            except ValueError as e:  # e.g. a NUL byte in the name
                raise _UsageError(f"rewrap: cannot read {args.file!r}: {e}") from None
        elif sys.stdin is None:  # closed: nothing to run
            sql = ""
        elif not sys.stdin.isatty():
            sql = _read_sql(sys.stdin.buffer, "standard input")
        else:
            return app_main(args)
    except _UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_USAGE
    return run_batch(
        sql,
        fmt=args.format,
        out=sys.stdout,
        err=sys.stderr,
        dry_run=args.dry_run,
        concurrency=args.concurrency,
        progress=args.progress,
        report=args.report,
    )


def run_batch(
    sql: str,
    *,
    fmt: str,
    out: TextIO,
    err: TextIO,
    dry_run: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = False,
    report: str | None = None,
) -> int:
    """Parse and run every statement; stop at the first failure. `progress` forces progress
    output on `err` even when it is not a terminal; warnings are always written. `report`:
    where SHOW KMS RETIREMENT writes its report (FILE.md + FILE.json), verdict good or bad."""
    from engine.errors import RewrapError
    from engine.execute import Executor
    from engine.paths import audit_journal_path
    from engine.rewrap.events import CancelToken
    from engine.rewrap.journal import AuditJournal
    from syntax import SQLSyntaxError, parse

    from tui.batch.output import write_rows
    from tui.batch.progress import batch_progress

    try:
        statements = parse(sql)
    except SQLSyntaxError as e:
        print(f"ERROR: {redact_text(str(e))}", file=err)
        return EXIT_FAILED
    executor = Executor(
        dry_run=dry_run, concurrency=concurrency, journal=AuditJournal(audit_journal_path())
    )
    sink = batch_progress(fmt, err, forced=progress)
    from syntax import ast

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


def app_main(args: argparse.Namespace) -> int:
    """The Textual app (imported only here); until it exists, the demo in batch mode."""
    try:
        from tui.app.main import run_app
    except ModuleNotFoundError as e:
        if e.name != "tui.app.main":
            raise
        return show_demo(args.format)
    return run_app(args)


def shell_main(argv: list[str]) -> int:
    """`rewrap shell`: the prompt-toolkit line shell (imported only here)."""
    try:
        from tui.shell.main import main as run_shell
    except ModuleNotFoundError as e:
        if e.name != "tui.shell.main":
            raise
        print("rewrap shell is not available in this build yet", file=sys.stderr)
        return EXIT_USAGE
    return run_shell(argv)


def demo_main(argv: list[str]) -> int:
    args = build_demo_parser().parse_args(argv)
    from engine.demo import DEFAULT_DEMO_KMS, demo_release, write_demo, write_demo_collection
    from engine.errors import RewrapError
    from engine.kms import KMSEnv, parse_kms_uri
    from engine.storage import StorageSettings, open_storage

    kms_uri = args.kms or DEFAULT_DEMO_KMS
    try:
        parse_kms_uri(kms_uri)  # before anything is created
        crdb = demo_release(args.crdb_version).version  # likewise: a clear error, nothing written
        if "://" in args.dir:
            storage = open_storage(args.dir, StorageSettings.from_env())
            if next(iter(storage.list()), None) is not None:
                raise RewrapError(f"{storage.display_uri}: not empty; rewrap demo writes into a new location")
            summary = write_demo_collection(
                storage, kms_uri=kms_uri, seed=args.seed, kms_env=KMSEnv.from_env(), crdb_version=crdb
            )
        else:
            summary = write_demo(Path(args.dir), kms_uri=kms_uri, seed=args.seed, crdb_version=crdb)
    except RewrapError as e:
        print(f"ERROR: {redact_text(str(e))}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as e:  # e.g. DIR is an existing file, or under /proc
        where = e.filename if e.filename is not None else args.dir
        print(f"ERROR: cannot write the demo collection to {redact_text(str(where))}: "
              f"{e.strerror or e}", file=sys.stderr)
        return EXIT_FAILED
    print(summary)
    return EXIT_OK


def demo_collection_dir() -> Path:
    from engine.storage import StorageSettings

    return StorageSettings.default_external_io_dir() / DEMO_DIR_NAME


def ensure_demo_collection() -> Path:
    """The demo collection under the external-IO dir, written on first use."""
    from engine.demo import DEFAULT_DEMO_KMS, write_demo

    path = demo_collection_dir()
    if not (path / "metadata").exists() and not (path / "LATEST").exists():
        write_demo(path, kms_uri=DEFAULT_DEMO_KMS)
    return path


def show_demo(fmt: str) -> int:
    """Until the TUI lands: show the demo collection in batch mode, with what to try next."""
    from engine.demo import DEFAULT_DEMO_KMS

    path = ensure_demo_collection()
    coll = f"nodelocal://self/{DEMO_DIR_NAME}"
    print(f"-- demo collection {coll} (files in {path})", file=sys.stderr)
    sql = (
        f"SHOW BACKUPS IN '{coll}';\n"
        f"SHOW BACKUP FROM LATEST IN '{coll}' WITH KMS = '{DEFAULT_DEMO_KMS}';"
    )
    for line in sql.splitlines():
        print(f"-- {line}", file=sys.stderr)
    return run_batch(sql, fmt=fmt, out=sys.stdout, err=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
