"""What the faces (batch, shell, console) share: exit codes, output formats, status words, the
KMS URI checker and the one error cleaner.

Nothing heavy is imported at module level (engine.settings and engine.rewrap.events are
constants and dataclasses): batch mode imports this first (tests/bench/bench_startup.py).
"""

from __future__ import annotations

from typing import TextIO

from engine.rewrap.events import Status
from engine.settings import DEFAULT_CONCURRENCY as DEFAULT_CONCURRENCY

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
FORMATS = ("table", "tsv", "csv", "json")
"""Result formats of batch mode (tui/batch/output.py writes each), as `cockroach sql --format`."""

STATUS_WORDS = {
    Status.ADDED: "added",
    Status.ALREADY_PRESENT: "already present",
    Status.WOULD_ADD: "would add (dry run)",
    Status.FAILED: "failed",
    Status.CANCELLED: "cancelled",
}
"""What every face calls a backup's final state."""


def status_detail(status: Status, *, file: str = "", error: str = "") -> str:
    """`added <file>`, `failed: <error>`, else the status word: one finished backup, as the
    batch progress lines and the shell print it."""
    word = STATUS_WORDS[status]
    if status is Status.ADDED and file:
        return f"{word} {file}"
    if status is Status.FAILED:
        return f"{word}: {error}"
    return word


def isatty(stream: TextIO | None) -> bool:
    """Whether `stream` is a terminal; False for a closed stream or one that is not a file."""
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):
        return False


def check_kms_uri(uri: str) -> str | None:
    """CockroachDB's complaint about a KMS URI (scheme, params), or None: the diagnostics'
    checker in the console and the shell. Opens nothing (engine.kms.parse_kms_uri)."""
    from engine.errors import RewrapError
    from engine.kms import parse_kms_uri

    try:
        parse_kms_uri(uri)
    except RewrapError as e:
        return str(e)
    return None


def safe_error(e: BaseException) -> str:
    """A message fit for the screen: our errors say what and where (redacted); anything else
    only its type (a library's text may quote a URI with its secret)."""
    from engine.errors import RewrapError
    from syntax import SQLSyntaxError
    from syntax.redact import redact_text

    if isinstance(e, (RewrapError, SQLSyntaxError)):
        return redact_text(str(e))
    return f"internal error ({type(e).__name__})"
