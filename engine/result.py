"""What a statement returns (`Result`) and the helpers every statement module shares.

Its own module so engine/statements/* and engine/execute.py (which dispatches to them) do not
import each other: the executor imports each statement module, the statements import this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.errors import RewrapError
from syntax import ast


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
