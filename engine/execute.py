"""Run parsed statements against backup collections and return result rows.

One entry point, `Executor.run(statement)`, shared by batch mode, the shell and the TUI. Each
statement's implementation lives in engine/statements/ and is imported when first run, so a
quick `SHOW BACKUPS` never loads the ALTER engine or the manifest codecs. Result rows use
CockroachDB's column names so scripts written against `cockroach sql` keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from syntax import ast

from engine.errors import RewrapError, UnsupportedError
from engine.storage import ExternalStorage, StorageSettings, open_storage

if TYPE_CHECKING:
    from engine.kms import KMSEnv
    from engine.rewrap.events import CancelToken, ProgressSink
    from engine.rewrap.journal import AuditJournal

DEFAULT_CONCURRENCY = 8


@dataclass
class Result:
    """Rows of one statement plus notices (warnings a person should see, e.g. a skipped file).

    `ok` is False when the statement ran but part of it failed (a bulk ALTER with a failed
    backup): batch mode exits 1 then, after printing every row.
    """

    columns: list[str]
    rows: list[tuple[Any, ...]]
    notices: list[str] = field(default_factory=list)
    ok: bool = True
    error: str | None = None
    """When set (with ok False), the statement's own error, printed after the rows."""
    report: Any = None
    """A statement's structured findings (SHOW KMS RETIREMENT's RetirementReport), for reports."""


class Executor:
    """Runs statements; holds what a URI cannot say (external-IO dir, test injection)."""

    def __init__(
        self,
        storage_settings: StorageSettings | None = None,
        kms_env: KMSEnv | None = None,
        *,
        dry_run: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY,
        journal: AuditJournal | None = None,
    ) -> None:
        self.storage_settings = storage_settings or StorageSettings.from_env()
        self._kms_env = kms_env
        self.dry_run = dry_run
        self.concurrency = concurrency
        self.journal = journal

    @property
    def kms_env(self) -> KMSEnv:
        if self._kms_env is None:
            from engine.kms import KMSEnv

            self._kms_env = KMSEnv.from_env()
        return self._kms_env

    def open_storage(self, uri: str) -> ExternalStorage:
        return open_storage(uri, self.storage_settings)

    def run(
        self,
        statement: ast.Statement,
        *,
        progress: ProgressSink | None = None,
        cancel: CancelToken | None = None,
    ) -> Result:
        from engine.deadline import clear_interrupt

        if cancel is None or not cancel.cancelled:
            clear_interrupt()  # each statement starts afresh after an earlier Ctrl-C
        if isinstance(statement, ast.ShowBackups):
            from engine.statements import show_backups

            return show_backups.run(self, statement)
        if isinstance(statement, ast.ShowBackup):
            from engine.statements import show_backup

            return show_backup.run(self, statement, progress=progress, cancel=cancel)
        if isinstance(statement, ast.ShowBackupKeys):
            from engine.statements import show_backup_keys

            return show_backup_keys.run(self, statement)
        if isinstance(statement, ast.ShowKMSRetirement):
            from engine.statements import show_kms_retirement

            return show_kms_retirement.run(self, statement, cancel=cancel)
        if isinstance(statement, ast.AlterBackup):
            from engine.rewrap.events import ignore
            from engine.statements import alter_backup

            return alter_backup.run(self, statement, progress=progress or ignore, cancel=cancel)
        if isinstance(statement, ast.ClusterStatement):
            raise UnsupportedError(
                f"{statement.kind} needs a CockroachDB cluster: rewrap reads and re-keys backup "
                f"files; run {statement.kind} in `cockroach sql`"
            )
        kind = type(statement).__name__
        raise UnsupportedError(f"{kind} is not available in this build yet")


def value(v: ast.Value | None, what: str) -> str:
    """The string of a string-or-placeholder; placeholders cannot be bound outside a cluster."""
    if isinstance(v, ast.Placeholder):
        raise RewrapError(f"{what}: placeholder ${v.index} has no value (rewrap takes literals)")
    if v is None:
        raise RewrapError(f"{what} missing")
    return v


def show_statement(stmt: ast.Statement) -> str:
    """A statement as it may be shown or stored: secrets redacted."""
    from syntax import format_statement

    return format_statement(stmt, redact=True)

