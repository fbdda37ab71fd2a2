"""ALTER BACKUP (single backup, full-backup URI, and ALL IN): parse the target, run the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syntax import ast
from syntax.rules import repeated_add_message

from engine.collection import Collection, FullBackup, open_collection_target
from engine.errors import RewrapError
from engine.result import Result, show_statement, value
from engine.rewrap.events import CancelToken, Event, Notice, ProgressSink
from engine.rewrap.run import all_succeeded, run_rewrap

if TYPE_CHECKING:
    from engine.execute import Executor

COLUMNS = ["backup", "status", "file", "error"]


def run(
    ex: Executor, stmt: ast.AlterBackup, *, progress: ProgressSink, cancel: CancelToken | None
) -> Result:
    if len(stmt.commands) != 1:
        raise RewrapError(repeated_add_message(len(stmt.commands)))  # the editor says the same
    command = stmt.commands[0]
    new_kms = [value(v, "NEW_KMS") for v in command.new_kms]
    old_kms = [value(v, "OLD_KMS") for v in command.old_kms]
    if stmt.all_in:
        coll = Collection(ex.open_storage(value(stmt.collection, "collection")))
        # Each backup is checked by the engine in its own task: one unreadable backup fails alone.
        backups = [FullBackup(coll, p) for p in coll.every_full_backup()]
        if not backups:
            raise RewrapError(f"{coll.storage.display_uri}: no full backups in this collection")
    else:
        target = value(stmt.target, "backup")
        if not target.strip():
            raise RewrapError("invalid base backup specified")
        collection = value(stmt.collection, "collection") if stmt.collection is not None else None
        _, backup = open_collection_target(ex.open_storage, collection, target)
        backups = [backup]
    notices: list[str] = []

    def sink(event: Event) -> None:
        # Warnings (a file CockroachDB cannot read, a bad entry it would take) are part of the
        # result too, so they reach every front end, batch mode included.
        if isinstance(event, Notice):
            notices.append(f"{event.backup}: {event.message}")
        progress(event)

    outcomes = run_rewrap(
        backups,
        new_kms=new_kms,
        old_kms=old_kms,
        statement=show_statement(stmt),
        dry_run=ex.dry_run,
        concurrency=ex.concurrency,
        env=ex.kms_env,
        progress=sink,
        cancel=cancel,
        journal=ex.journal,
    )
    rows = [(o.backup, o.status.value, o.file, o.error) for o in outcomes]
    return Result(COLUMNS, rows, notices, ok=all_succeeded(outcomes))
