"""Run parsed statements against backup collections and return result rows.

One entry point, `Executor.run(statement)`, shared by batch mode, the shell and the TUI. Each
statement's implementation lives in engine/statements/ and is imported when first run, so a
quick `SHOW BACKUPS` never loads the ALTER engine or the manifest codecs. Result rows use
CockroachDB's column names so scripts written against `cockroach sql` keep working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, assert_never

from syntax import ast

from engine.errors import UnsupportedError
from engine.result import Result, show_statement, value
from engine.settings import DEFAULT_CONCURRENCY, EngineSettings
from engine.storage import ExternalStorage, StorageSettings, open_storage

if TYPE_CHECKING:
    from engine.kms import KMSEnv
    from engine.rewrap.events import CancelToken, ProgressSink
    from engine.rewrap.journal import AuditJournal

__all__ = ["DEFAULT_CONCURRENCY", "Executor", "Result", "show_statement", "value"]


class Executor:
    """Runs statements with one set of settings (engine.settings.EngineSettings) and KMS test
    endpoints (engine.kms.KMSEnv); both default to the built-in defaults, never the environment.

    `storage_settings`, `dry_run` and `concurrency` override the matching parts of `settings`
    (tests pass just the piece they need)."""

    def __init__(
        self,
        storage_settings: StorageSettings | None = None,
        kms_env: KMSEnv | None = None,
        *,
        settings: EngineSettings | None = None,
        dry_run: bool | None = None,
        concurrency: int | None = None,
        journal: AuditJournal | None = None,
    ) -> None:
        base = settings or EngineSettings()
        self.storage_settings = storage_settings or base.storage
        self._kms_env = kms_env
        self.dry_run = base.dry_run if dry_run is None else dry_run
        self.concurrency = base.concurrency if concurrency is None else concurrency
        self.journal = journal

    @property
    def kms_env(self) -> KMSEnv:
        if self._kms_env is None:
            from engine.kms import KMSEnv

            self._kms_env = KMSEnv()
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
        assert_never(statement)  # mypy proves every statement syntax/ parses has a case above
