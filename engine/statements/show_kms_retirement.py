"""SHOW KMS RETIREMENT (rewrap extension): can the old key be disabled? One row per full backup.

The proof is engine/retirement.py's; this module turns it into rows, the statement's error (the
statement fails unless every backup is safe, so a CI job can gate disabling the key) and one
audit-journal record per backup checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syntax import ast

from engine.result import Result, show_statement, value
from engine.retirement import COLUMNS, RetirementReport, check_retirement

if TYPE_CHECKING:
    from engine.execute import Executor


def run(ex: Executor, stmt: ast.ShowKMSRetirement, *, cancel: object = None) -> Result:
    shown = show_statement(stmt)
    report = check_retirement(
        ex.open_storage,
        value(stmt.old_kms, "the key to retire"),
        [value(c, "collection") for c in stmt.collections],
        [value(k, "KMS") for k in stmt.kms],
        env=ex.kms_env,
        concurrency=ex.concurrency,
        statement=shown,
        cancel=cancel,
    )
    notices = journal(ex, report)
    after = [p for p in report.proofs if p.after_rotation]
    if after:
        notices.append(
            f"{len(after)} backup{'s' if len(after) != 1 else ''} written after the rotation with "
            f"the old key only ({', '.join(p.backup for p in after)}): a backup schedule still uses "
            f"'{report.old.uri}'; run ALTER BACKUP SCHEDULE <id> SET WITH kms = "
            f"'{report.remaining[0].uri}' on the cluster"
        )
    by_coll: dict[str, int] = {}
    for p in report.proofs:
        if p.verdict == "needs ALTER":
            by_coll[p.collection] = by_coll.get(p.collection, 0) + 1
    for coll, n in by_coll.items():
        if n > 1:
            notices.append(
                f"{n} backups of {coll} need a remaining key; add it to all of them at once: "
                f"ALTER BACKUP ALL IN '{coll}' ADD NEW_KMS = '{report.remaining[0].uri}' "
                f"WITH OLD_KMS = '{report.old.uri}' (fill in the redacted secrets)"
            )
    return Result(
        COLUMNS,
        [p.row() for p in report.proofs],
        notices,
        ok=report.retirable,
        error=report.error(),
        report=report,
    )


def journal(ex: Executor, report: RetirementReport) -> list[str]:
    """One audit record per backup checked; a journal that cannot be written is a notice (the
    check itself wrote nothing)."""
    if ex.journal is None:
        return []
    try:
        for p in report.proofs:
            ex.journal.append({
                "event": "kms-retirement-check",
                "statement": report.statement,
                "collection": p.collection,
                "backup": p.backup,
                "old_key": report.old.fingerprint,
                "remaining_keys": [k.fingerprint for k in report.remaining],
                "verdict": p.verdict,
                "opened_by": p.opened_by,
                "kms_calls": p.kms_calls,
                "manifests_proven": len(p.manifests_proven),
                "checked_at": p.checked_at,
            })
    except OSError as e:
        return [f"audit journal {ex.journal.path} not written: {e.strerror or e}"]
    return []
