"""Rules a statement's meaning must follow, beyond its grammar, shared by syntax/ and engine/ so
the editor, the shell and the engine say the same thing in the same words."""

from __future__ import annotations


def repeated_add_message(count: int) -> str:
    """ALTER BACKUP with `count` ADD clauses: refused (CockroachDB would apply only the last,
    silently dropping the keys of the others)."""
    return (
        f"ALTER BACKUP takes one ADD NEW_KMS = ... WITH OLD_KMS = ... clause; this one has "
        f"{count} (CockroachDB would silently apply only the last): list several keys in one "
        "clause instead, e.g. NEW_KMS = ('uri1', 'uri2')"
    )
