"""Run parsed statements against backup collections and return result rows.

One entry point, `Executor.run(statement)`, shared by batch mode, the shell and the TUI. Result
rows use CockroachDB's column names so scripts written against `cockroach sql` keep working.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from syntax import ast

from engine.collection import Collection, open_collection_target
from engine.encryption import read_encryption_files, unlocked_key
from engine.errors import RewrapError, UnsupportedError
from engine.formats.manifest import hlc_to_datetime, is_incremental
from engine.formats.objects import backup_objects, is_full_cluster
from engine.formats.encryption_info import fingerprint, key_id_hash
from engine.kms import KMSEnv, parse_kms_uri
from engine.rewrap.events import CancelToken, ProgressSink, ignore
from engine.rewrap.journal import AuditJournal
from engine.rewrap.run import DEFAULT_CONCURRENCY, all_succeeded, run_rewrap
from engine.reader import check_layer_files, read_contents
from engine.storage import ExternalStorage, StorageSettings, open_storage

SHOW_BACKUP_COLUMNS = [
    "database_name",
    "parent_schema_name",
    "object_name",
    "object_type",
    "backup_type",
    "start_time",
    "end_time",
    "size_bytes",
    "rows",
    "is_full_cluster",
]


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


ALTER_COLUMNS = ["backup", "status", "file", "error"]
KEYS_COLUMNS = ["file", "key_fingerprint", "unlocked_by", "note"]


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
        self.kms_env = kms_env or KMSEnv.from_env()
        self.dry_run = dry_run
        self.concurrency = concurrency
        self.journal = journal

    def open_storage(self, uri: str) -> ExternalStorage:
        return open_storage(uri, self.storage_settings)

    def run(
        self,
        statement: ast.Statement,
        *,
        progress: ProgressSink = ignore,
        cancel: CancelToken | None = None,
    ) -> Result:
        if isinstance(statement, ast.ShowBackups):
            return self.show_backups(statement)
        if isinstance(statement, ast.ShowBackup):
            return self.show_backup(statement)
        if isinstance(statement, ast.ShowBackupKeys):
            return self.show_backup_keys(statement)
        if isinstance(statement, ast.AlterBackup):
            return self.alter_backup(statement, progress=progress, cancel=cancel)
        if isinstance(statement, ast.ClusterStatement):
            raise UnsupportedError(
                f"{statement.kind} needs a CockroachDB cluster: rewrap reads and re-keys backup "
                f"files; run {statement.kind} in `cockroach sql`"
            )
        kind = type(statement).__name__
        raise UnsupportedError(f"{kind} is not available in this build yet")

    # -- SHOW BACKUPS ------------------------------------------------------------------------

    def show_backups(self, stmt: ast.ShowBackups) -> Result:
        coll = Collection(self.open_storage(value(stmt.collections[0], "collection")))
        return Result(["path"], [(p,) for p in coll.full_backups()])

    # -- ALTER BACKUP ------------------------------------------------------------------------

    def alter_backup(
        self, stmt: ast.AlterBackup, *, progress: ProgressSink, cancel: CancelToken | None
    ) -> Result:
        if len(stmt.commands) != 1:
            raise RewrapError(
                f"ALTER BACKUP takes one ADD NEW_KMS = ... WITH OLD_KMS = ... clause; this one has "
                f"{len(stmt.commands)} (CockroachDB would silently apply only the last): list "
                "several keys in one clause instead, e.g. NEW_KMS = ('uri1', 'uri2')"
            )
        command = stmt.commands[0]
        new_kms = [value(v, "NEW_KMS") for v in command.new_kms]
        old_kms = [value(v, "OLD_KMS") for v in command.old_kms]
        if stmt.all_in:
            coll = Collection(self.open_storage(value(stmt.collection, "collection")))
            backups = [coll.full_backup(p) for p in coll.full_backups()]
            if not backups:
                raise RewrapError(f"{coll.storage.display_uri}: no full backups in this collection")
        else:
            target = value(stmt.target, "backup")
            if not target.strip():
                raise RewrapError("invalid base backup specified")
            collection = value(stmt.collection, "collection") if stmt.collection is not None else None
            _, backup = open_collection_target(self.open_storage, collection, target)
            backups = [backup]
        outcomes = run_rewrap(
            backups,
            new_kms=new_kms,
            old_kms=old_kms,
            statement=show_statement(stmt),
            dry_run=self.dry_run,
            concurrency=self.concurrency,
            env=self.kms_env,
            progress=progress,
            cancel=cancel,
            journal=self.journal,
        )
        rows = [(o.backup, o.status.value, o.file, o.error) for o in outcomes]
        return Result(ALTER_COLUMNS, rows, ok=all_succeeded(outcomes))

    # -- SHOW BACKUP KEYS --------------------------------------------------------------------

    def show_backup_keys(self, stmt: ast.ShowBackupKeys) -> Result:
        _, backup = open_collection_target(
            self.open_storage, value(stmt.collection, "collection"), value(stmt.subdir, "subdirectory")
        )
        given = [parse_kms_uri(value(v, "KMS")) for v in stmt.kms or ()]
        by_hash: dict[bytes, str] = {}
        for k in given:
            for key_id in k.key_ids:
                by_hash.setdefault(key_id_hash(key_id), k.redacted_uri)
        files = read_encryption_files(backup.storage, backup.top_level_files)
        rows: list[tuple[Any, ...]] = []
        for f in files.files:
            if f.info is None:
                rows.append((f.name, None, None, f"unreadable: {f.error}"))
                continue
            if not f.info.encrypted_data_keys:
                note = "passphrase salt, no KMS keys" if f.info.salt else "no keys"
                rows.append((f.name, None, None, note))
            for id_hash in f.info.encrypted_data_keys:
                rows.append((f.name, fingerprint(id_hash), by_hash.get(id_hash), None))
        notices = [] if files.files else [f"{backup.display_uri}: no ENCRYPTION-INFO files (not encrypted)"]
        return Result(KEYS_COLUMNS, rows, notices)

    # -- SHOW BACKUP -------------------------------------------------------------------------

    def show_backup(self, stmt: ast.ShowBackup) -> Result:
        opts = stmt.options
        unsupported = [
            name
            for name, given in (
                ("SCHEMAS", stmt.details == "SCHEMAS"),
                ("VALIDATE", stmt.details == "VALIDATE"),
                ("PRIVILEGES", opts.privileges),
                ("DEBUG_IDS", opts.debug_ids),
                ("INCREMENTAL_LOCATION", opts.incremental_location is not None),
                ("ENCRYPTION_INFO_DIR", opts.encryption_info_dir is not None),
                ("AS_JSON", opts.as_json),
            )
            if given
        ]
        if unsupported:
            raise UnsupportedError(
                f"SHOW BACKUP: {', '.join(unsupported)} is not available in this build yet"
            )
        _, backup = open_collection_target(
            self.open_storage, value(stmt.collections[0], "collection"), value(stmt.subdir, "subdirectory")
        )
        chain = backup.chain()
        files = read_encryption_files(backup.storage, backup.top_level_files)
        notices = files.warnings()
        kms = [value(v, "KMS") for v in opts.kms] if opts.kms else None
        passphrase = (
            value(opts.encryption_passphrase, "ENCRYPTION_PASSPHRASE")
            if opts.encryption_passphrase is not None
            else None
        )
        result_rows: list[tuple[Any, ...]] = []
        with unlocked_key(
            files, kms_uris=kms, passphrase=passphrase, env=self.kms_env, where=backup.display_uri
        ) as key:
            contents = [read_contents(layer, key) for layer in chain]
            if opts.check_files:
                problems = [p for c in contents for p in check_layer_files(c, key)]
                if problems:
                    lines = "\n".join(f"  {p.path}: {p.problem}" for p in problems)
                    raise RewrapError(f"CHECK_FILES found {len(problems)} bad file(s):\n{lines}")
        notices += chain_notices(contents)
        if stmt.details == "FILES":
            return Result(FILES_COLUMNS, file_rows(contents), notices)
        if stmt.details == "RANGES":
            return Result(RANGES_COLUMNS, range_rows(contents), notices)
        columns = list(SHOW_BACKUP_COLUMNS)
        for c in contents:
            m = c.manifest
            backup_type = "incremental" if is_incremental(m) else "full"
            start = hlc_to_datetime(m.start_time)
            end = hlc_to_datetime(m.end_time)
            cluster = is_full_cluster(m)
            for obj in backup_objects(m, files=c.files, descriptors=c.descriptors):
                size, rows = (None, None) if opts.skip_size else (obj.size_bytes, obj.rows)
                row = (
                    obj.database_name,
                    obj.parent_schema_name,
                    obj.object_name,
                    obj.object_type,
                    backup_type,
                    start,
                    end,
                    size,
                    rows,
                    cluster,
                )
                result_rows.append(row)
        return Result(columns, result_rows, notices)


FILES_COLUMNS = ["path", "backup_type", "start_key", "end_key", "size_bytes", "rows"]
RANGES_COLUMNS = ["start_key", "end_key"]


def file_rows(contents: Sequence) -> list[tuple[Any, ...]]:
    rows = []
    for c in contents:
        kind = "incremental" if is_incremental(c.manifest) else "full"
        for f in c.files:
            rows.append(
                (
                    f.path,
                    kind,
                    f.span.key.hex(),
                    f.span.end_key.hex(),
                    f.entry_counts.data_size,
                    f.entry_counts.rows,
                )
            )
    return rows


def range_rows(contents: Sequence) -> list[tuple[Any, ...]]:
    return [(s.key.hex(), s.end_key.hex()) for c in contents for s in c.manifest.spans]


def chain_notices(contents: Sequence) -> list[str]:
    """Warn when a layer does not start where the previous one ended (a gap in the chain)."""
    notices = []
    for prev, cur in zip(contents, contents[1:]):
        if hlc_to_datetime(cur.manifest.start_time) != hlc_to_datetime(prev.manifest.end_time):
            notices.append(
                f"{cur.layer.display} starts at {fmt_time(hlc_to_datetime(cur.manifest.start_time))}, "
                f"but {prev.layer.display} ends at {fmt_time(hlc_to_datetime(prev.manifest.end_time))}"
            )
    return notices


def value(v: ast.Value | None, what: str) -> str:
    """The string of a string-or-placeholder; placeholders cannot be bound outside a cluster."""
    if isinstance(v, ast.Placeholder):
        raise RewrapError(f"{what}: placeholder ${v.index} has no value (rewrap takes literals)")
    if v is None:
        raise RewrapError(f"{what} missing")
    return v


def fmt_time(t: datetime | None) -> str:
    """CockroachDB/Postgres TIMESTAMP text: trailing zeros of the fraction trimmed."""
    if t is None:
        return "NULL"
    text = t.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".")
    return text


def show_statement(stmt: ast.Statement) -> str:
    """A statement as it may be shown or stored: secrets redacted."""
    from syntax import format_statement

    return format_statement(stmt, redact=True)

