"""The `rewrap` command: batch mode (the default), `rewrap shell`, `rewrap demo`, the console.

With no subcommand, rewrap runs SQL: `-e SQL` (repeatable), `-f FILE`, or standard input; with
none of them on a terminal it opens the console (tui/app/, on the demo collection when nothing is
configured). The run options (`--external-io-dir`, `--dry-run`, `--concurrency`, the deadlines)
go before or after `shell`; `main` turns them, the `REWRAP_*` environment and config.toml
(tui/config_file.py) into one tui.settings.Settings and hands it down.

Exit codes: 0 every statement succeeded; 1 a statement failed (its error is on stderr, and later
statements did not run; a syntax error anywhere in the script counts, and then nothing runs),
or results could not be written; 2 usage error (bad flags, unreadable or oversized -f FILE or
standard input); 130 interrupted (Ctrl-C). stdout carries results only; errors, warnings and
progress go to stderr. Warnings (a skipped ENCRYPTION-INFO file, an audit journal that could not
be written) are always written, one `WARNING: ` line each (a JSON `warning` event with --format
json). Progress lines are written only when stderr is a terminal or with --progress; with
--format json every event is a JSON line on stderr (scripts asked for it). Ctrl-C: see
tui/batch/runner.py. No input produces a Python traceback: an unexpected error is one
`rewrap: internal error` line, exit 1.

Startup cost matters for scripts: little beyond the standard library is imported before the SQL
is known, and textual / prompt_toolkit only by the console and the shell
(tests/bench/bench_startup.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from syntax.redact import redact_text

from tui.batch.runner import OutputError, interrupted, run_batch, warn
from tui.shared import (
    DEFAULT_CONCURRENCY,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    FORMATS,
)

if TYPE_CHECKING:
    from tui.settings import Settings

__all__ = ["OutputError", "build_parser", "interrupted", "main", "run_batch", "warn"]

MAX_SQL_BYTES = 16 * 1024 * 1024  # a script of statements, not a data file: refuse more
COMMANDS = ("shell", "demo")


class _Version(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kw: object) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0,
                         help="print rewrap's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: object, values: object,
                 option_string: str | None = None) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            text = version("rewrap")
        except PackageNotFoundError:  # run from a source tree that was never installed
            text = "unknown (not installed)"
        sys.stdout.write(f"rewrap {text}\n")
        parser.exit()


def storage_options(*, under_command: bool = False) -> argparse.ArgumentParser:
    """Where nodelocal:// resolves and the call deadlines: every command takes them.
    `under_command`: the copy a subcommand gets, whose defaults must not overwrite the values
    given before the subcommand's name (argparse copies a subparser's whole namespace)."""
    from engine.settings import (
        DEFAULT_KMS_TIMEOUT,
        DEFAULT_STORAGE_TIMEOUT,
        KMS_TIMEOUT_ENV,
        STORAGE_TIMEOUT_ENV,
    )

    p = argparse.ArgumentParser(add_help=False, argument_default=_default_for(under_command))
    p.add_argument(
        "--external-io-dir",
        metavar="DIR",
        help="where nodelocal://self/... resolves (env REWRAP_EXTERNAL_IO_DIR; default: "
        "<data dir>/extern, e.g. ~/.local/share/rewrap/extern)",
    )
    p.add_argument(
        "--kms-timeout",
        metavar="SECONDS",
        help="deadline of one KMS call, retries included (env "
        f"{KMS_TIMEOUT_ENV}; default {DEFAULT_KMS_TIMEOUT:g})",
    )
    p.add_argument(
        "--storage-timeout",
        metavar="SECONDS",
        help="deadline of one cloud storage call (s3, gs, azure-blob), retries included (env "
        f"{STORAGE_TIMEOUT_ENV}; default {DEFAULT_STORAGE_TIMEOUT:g})",
    )
    return p


def _default_for(under_command: bool) -> str | None:
    return argparse.SUPPRESS if under_command else None


def run_options(*, under_command: bool = False) -> argparse.ArgumentParser:
    """The storage options plus those of running statements (batch, console, shell)."""
    from engine.settings import MAX_CONCURRENCY

    p = argparse.ArgumentParser(
        add_help=False,
        parents=[storage_options(under_command=under_command)],
        argument_default=_default_for(under_command),
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        default=argparse.SUPPRESS if under_command else False,
        help="ALTER BACKUP checks everything (KMS reachable, old key unwraps, manifest decrypts, "
        "new keys round-trip) and writes nothing",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help=f"backups rewrapped at once by ALTER BACKUP ALL (default {DEFAULT_CONCURRENCY}, "
        f"at most {MAX_CONCURRENCY})",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rewrap",
        usage="%(prog)s [options] [-e SQL ... | -f FILE]   (no SQL on a terminal: the console)\n"
        "       %(prog)s [options] shell\n"
        "       %(prog)s [options] demo DIR|URI [--kms URI] [--seed N] [--crdb-version X.Y]\n"
        "       %(prog)s --version",
        description="A console for CockroachDB encrypted backup collections. With no command, "
        "runs the SQL given with -e, -f or on standard input; with none on a terminal, opens the "
        "console (on the demo collection when nothing is configured).",
        epilog="`rewrap COMMAND --help` lists a command's options. Settings are also read "
        "from $XDG_CONFIG_HOME/rewrap/config.toml (default ~/.config/rewrap/config.toml: theme, "
        "external_io_dir, concurrency, kms_timeout, storage_timeout); REWRAP_* variables and "
        "flags override it. Exit codes: 0 ok, 1 a statement failed, 2 usage error, 130 interrupted.",
        parents=[run_options()],
    )
    p.add_argument("--version", action=_Version)
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
    commands = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    commands.add_parser(
        "shell",
        parents=[run_options(under_command=True)],
        help="the line shell: highlighting, completion, history (needs a terminal)",
        description="A line shell for rewrap's SQL: highlighting, completion, history.",
    )
    add_demo_arguments(
        commands.add_parser(
            "demo",
            parents=[storage_options(under_command=True)],
            help="write a demo collection: rewrap demo DIR|URI [--kms URI]",
            description="Write a demo backup collection in CockroachDB's layout and format.",
        )
    )
    return p


def add_demo_arguments(p: argparse.ArgumentParser) -> None:
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
    args = build_parser().parse_args(argv)
    prog = "rewrap shell" if args.command == "shell" else "rewrap"
    if args.command is not None and (args.execute or args.file):
        print(f"rewrap: -e and -f run SQL in batch mode; they do not go with `{args.command}`",
              file=sys.stderr)
        return EXIT_USAGE
    from engine.settings import set_limits

    from tui.settings import SettingsError, load_settings

    try:
        settings = load_settings(args, os.environ)  # the one reading of REWRAP_* settings
    except SettingsError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return EXIT_USAGE
    set_limits(settings.engine.limits)  # the KMS and cloud clients' deadlines, from the settings
    if args.command == "demo":
        return demo_main(args, settings)
    if args.command == "shell":
        return shell_main(settings)
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
            from tui.app.listing import EarlyStart

            # The first listings begin now, in threads, while Textual is imported and paints.
            early = EarlyStart(settings, settings.collections)
            from tui.app.main import run_app  # Textual is imported only here

            return run_app(settings, early)
    except _UsageError as e:
        print(str(e), file=sys.stderr)
        return EXIT_USAGE
    return run_batch(
        sql,
        fmt=args.format,
        out=sys.stdout,
        err=sys.stderr,
        settings=settings,
        progress=args.progress,
        report=args.report,
    )


def shell_main(settings: Settings) -> int:
    """`rewrap shell`: the prompt-toolkit line shell (imported only here)."""
    from tui.shell.main import run_shell

    return run_shell(settings)


def demo_main(args: argparse.Namespace, settings: Settings) -> int:
    from pathlib import Path

    from engine.demo import DEFAULT_DEMO_KMS, demo_release, write_demo, write_demo_collection
    from engine.errors import RewrapError
    from engine.kms import parse_kms_uri
    from engine.storage import open_storage

    kms_uri = args.kms or DEFAULT_DEMO_KMS
    try:
        parse_kms_uri(kms_uri)  # before anything is created
        crdb = demo_release(args.crdb_version).version  # likewise: a clear error, nothing written
        if "://" in args.dir:
            storage = open_storage(args.dir, settings.engine.storage)
            if next(iter(storage.list()), None) is not None:
                raise RewrapError(f"{storage.display_uri}: not empty; rewrap demo writes into a new location")
            summary = write_demo_collection(
                storage, kms_uri=kms_uri, seed=args.seed, kms_env=settings.kms_env, crdb_version=crdb
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


if __name__ == "__main__":
    sys.exit(main())
