"""The typed AST of the statements rewrap understands.

`span` fields record where a node came from (character offsets into the script) and are excluded
from equality, so `parse(format_statement(ast)) == ast` compares meaning, not layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Placeholder:
    """A `$n` placeholder; batch mode has nothing to bind it to and says so."""

    index: int


Value = Union[str, Placeholder]
"""A string-or-placeholder: a quoted string, a bare non-reserved word (e.g. LATEST), or $n."""

Span = tuple[int, int]


@dataclass(frozen=True)
class KMSChange:
    """One `ADD NEW_KMS = ... WITH OLD_KMS = ...` clause."""

    new_kms: tuple[Value, ...]
    old_kms: tuple[Value, ...]
    span: Span = field(default=(0, 0), compare=False)


@dataclass(frozen=True)
class AlterBackup:
    """ALTER BACKUP in its three forms.

    - `ALTER BACKUP <subdir|LATEST> IN <collection> ...`: target=subdir, collection set;
    - `ALTER BACKUP <full backup uri> ...`: target=uri, collection None;
    - `ALTER BACKUP ALL IN <collection> ...` (rewrap extension): all_in True, target None.
    """

    target: Value | None
    collection: Value | None
    commands: tuple[KMSChange, ...]
    all_in: bool = False
    span: Span = field(default=(0, 0), compare=False)


@dataclass(frozen=True)
class ShowBackups:
    """SHOW BACKUPS IN <collection or (list)>."""

    collections: tuple[Value, ...]
    span: Span = field(default=(0, 0), compare=False)


@dataclass(frozen=True)
class ShowBackupOptions:
    """WITH options of SHOW BACKUP; None / False means not given."""

    as_json: bool = False
    check_files: bool = False
    skip_size: bool = False
    debug_ids: bool = False
    privileges: bool = False
    incremental_location: tuple[Value, ...] | None = None
    kms: tuple[Value, ...] | None = None
    encryption_passphrase: Value | None = None
    encryption_info_dir: Value | None = None


@dataclass(frozen=True)
class ShowBackup:
    """SHOW BACKUP [FROM | SCHEMAS FROM | FILES FROM | RANGES FROM | VALIDATE FROM] <subdir> IN ...

    details: None for the plain form, else "SCHEMAS", "FILES", "RANGES" or "VALIDATE".
    """

    subdir: Value
    collections: tuple[Value, ...]
    details: str | None = None
    options: ShowBackupOptions = ShowBackupOptions()
    span: Span = field(default=(0, 0), compare=False)
    explicit_from: bool = field(default=False, compare=False)
    """`FROM` was written (CockroachDB keeps it in its canonical form); layout, not meaning."""


@dataclass(frozen=True)
class ShowBackupKeys:
    """SHOW BACKUP KEYS FROM <subdir|LATEST> IN <collection> [WITH KMS = ...] (rewrap extension)."""

    subdir: Value
    collection: Value
    kms: tuple[Value, ...] | None = None
    span: Span = field(default=(0, 0), compare=False)


@dataclass(frozen=True)
class ShowKMSRetirement:
    """SHOW KMS RETIREMENT <old kms> IN <collection> [, ...] WITH KMS = <remaining> (rewrap
    extension): proves, backup by backup, whether the old key can be disabled."""

    old_kms: Value
    collections: tuple[Value, ...]
    kms: tuple[Value, ...]
    span: Span = field(default=(0, 0), compare=False)


@dataclass(frozen=True)
class ClusterStatement:
    """BACKUP / RESTORE: parsed so they highlight and explain that they need a cluster.

    kind: "BACKUP" or "RESTORE"; text: the statement as written.
    """

    kind: str
    text: str
    span: Span = field(default=(0, 0), compare=False)


Statement = Union[
    AlterBackup, ShowBackups, ShowBackup, ShowBackupKeys, ShowKMSRetirement, ClusterStatement
]
