"""SHOW BACKUPS IN <collection>: the full backups, found exactly as CockroachDB finds them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syntax import ast

from engine.collection import Collection
from engine.result import Result, value

if TYPE_CHECKING:
    from engine.execute import Executor


def run(ex: Executor, stmt: ast.ShowBackups) -> Result:
    coll = Collection(ex.open_storage(value(stmt.collections[0], "collection")))
    paths = coll.full_backups()
    notices = coll.storage.take_warnings()  # e.g. entries a local listing had to skip
    if not paths and next(iter(coll.storage.list()), None) is None:
        # CockroachDB answers an empty listing with no rows; say why, since it is usually a typo.
        notices.append(f"{coll.storage.display_uri}: nothing is stored there (check the path)")
    for sub in coll.unlisted_slim:
        notices.append(
            f"{sub}: holds only BACKUP_METADATA and has no entry in metadata/index/, so CockroachDB "
            "does not list it (its listing matches BACKUP_MANIFEST, or the backup index)"
        )
    return Result(["path"], [(p,) for p in paths], notices)
