"""SHOW BACKUPS IN <collection>: the full backups, found exactly as CockroachDB finds them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syntax import ast

from engine.collection import Collection
from engine.execute import Result, value

if TYPE_CHECKING:
    from engine.execute import Executor


def run(ex: Executor, stmt: ast.ShowBackups) -> Result:
    coll = Collection(ex.open_storage(value(stmt.collections[0], "collection")))
    return Result(["path"], [(p,) for p in coll.full_backups()])
