"""The `rewrap` command: batch mode, `rewrap demo`, and (when built) the TUI and shell.

Exit codes: 0 every statement succeeded; 1 a statement failed (its error is on stderr, and later
statements did not run; a syntax error anywhere in the script counts, and then nothing runs);
2 usage error (bad flags, unreadable -f FILE). stdout carries results only; errors, notices and
progress go to stderr. Progress lines are written only when stderr is a terminal or with
--progress; with --format json every event is a JSON line on stderr (scripts asked for it).

Startup cost matters for scripts: nothing beyond the standard library is imported before the SQL
is known, and textual / prompt_toolkit only by the TUI and the shell (tests/bench/bench_startup.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from syntax.uri import redact_text

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FORMATS = ("table", "tsv", "csv", "json")  # tui/output.py writes each
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
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        metavar="N",
        help="backups rewrapped at once by ALTER BACKUP ALL (default 8)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rewrap",
        description="A console for CockroachDB encrypted backup collections.",
        epilog="Subcommands: `rewrap shell` opens the line shell; `rewrap demo DIR|URI [--kms URI]` "
        "writes a demo collection. With no SQL given on a terminal, rewrap opens the console "
        "(on the demo collection when nothing is configured). Exit codes: 0 ok, 1 a statement "
        "failed, 2 usage error.",
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `rewrap` console script."""
    try:
        return _main(argv)
    except BrokenPipeError:  # e.g. `rewrap -e ... | head`: stop quietly, as cockroach sql does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:
        return demo_main(argv[1:])
    if argv[:1] == ["shell"]:
        return shell_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.external_io_dir:
        os.environ["REWRAP_EXTERNAL_IO_DIR"] = str(Path(args.external_io_dir).resolve())
    if args.execute:
        sql = ";\n".join(args.execute)
    elif args.file:
        try:
            sql = Path(args.file).read_bytes().decode("utf-8")
        except OSError as e:
            print(f"rewrap: cannot read {args.file}: {e.strerror}", file=sys.stderr)
            return EXIT_USAGE
        except UnicodeDecodeError as e:
            print(f"rewrap: {args.file} is not UTF-8 text (byte {e.start})", file=sys.stderr)
            return EXIT_USAGE
    elif not sys.stdin.isatty():
        sql = sys.stdin.read()
    else:
        return app_main(args)
    if args.concurrency < 1:
        print("rewrap: --concurrency must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    return run_batch(
        sql,
        fmt=args.format,
        out=sys.stdout,
        err=sys.stderr,
        dry_run=args.dry_run,
        concurrency=args.concurrency,
        progress=args.progress,
    )


def run_batch(
    sql: str,
    *,
    fmt: str,
    out: TextIO,
    err: TextIO,
    dry_run: bool = False,
    concurrency: int = 8,
    progress: bool = False,
) -> int:
    """Parse and run every statement; stop at the first failure. `progress` forces progress
    output on `err` even when it is not a terminal."""
    from engine.errors import RewrapError
    from engine.execute import Executor
    from engine.paths import audit_journal_path
    from engine.rewrap.journal import AuditJournal
    from syntax import SQLSyntaxError, parse

    from tui.output import write_rows
    from tui.progress import batch_progress

    try:
        statements = parse(sql)
    except SQLSyntaxError as e:
        print(f"ERROR: {redact_text(str(e))}", file=err)
        return EXIT_FAILED
    executor = Executor(
        dry_run=dry_run, concurrency=concurrency, journal=AuditJournal(audit_journal_path())
    )
    sink = batch_progress(fmt, err, forced=progress)
    for stmt in statements:
        try:
            result = executor.run(stmt, progress=sink)
        except RewrapError as e:
            print(f"ERROR: {redact_text(str(e))}", file=err)
            return EXIT_FAILED
        for notice in result.notices:
            print(f"NOTICE: {notice}", file=err)
        write_rows(out, fmt, result.columns, result.rows)
        if not result.ok:
            failed = [r for r in result.rows if r[1] == "failed"]
            for row in failed:
                print(f"ERROR: {row[0]}: {redact_text(str(row[3]))}", file=err)
            if len(result.rows) > 1:
                print(f"ERROR: {len(failed)} of {len(result.rows)} backups failed", file=err)
            return EXIT_FAILED
    return EXIT_OK


def app_main(args: argparse.Namespace) -> int:
    """The Textual app (imported only here); until it exists, the demo in batch mode."""
    try:
        from tui.app import run_app
    except ModuleNotFoundError as e:
        if e.name != "tui.app":
            raise
        return show_demo(args.format)
    return run_app(args)


def shell_main(argv: list[str]) -> int:
    """`rewrap shell`: the prompt-toolkit line shell (imported only here)."""
    try:
        from tui.shell import main as run_shell
    except ModuleNotFoundError as e:
        if e.name != "tui.shell":
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
