"""The KMS URIs a session has seen (memory only, never written anywhere).

They are what the details panel and the rotation dialog match against a backup's key files
(by key id hash, without a KMS call) and what completion may offer again.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from syntax import ast
from syntax.uri import contains_secret


def statement_kms_uris(stmt: ast.Statement) -> list[str]:
    """The KMS URIs a statement names (placeholders and other non-strings left out)."""
    values: Sequence[object] = ()
    if isinstance(stmt, ast.ShowBackup):
        values = stmt.options.kms or ()
    elif isinstance(stmt, ast.ShowBackupKeys):
        values = stmt.kms or ()
    elif isinstance(stmt, ast.AlterBackup):
        values = [v for c in stmt.commands for v in (*c.new_kms, *c.old_kms)]
    elif isinstance(stmt, ast.ShowKMSRetirement):
        values = [stmt.old_kms, *stmt.kms]
    return [v for v in values if isinstance(v, str)]


class KMSMemory:
    """KMS URIs in the order first seen. Thread-safe: workers remember, the UI reads.

    `settled` is cleared while a URI is on its way (the app's demo key, remembered just after
    its tree is shown); `uris(wait=...)` waits for it so a lookup never misses a key the
    session is about to know.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._uris: list[str] = []
        self.settled = threading.Event()
        self.settled.set()

    def remember(self, uri: str) -> None:
        with self._lock:
            if uri not in self._uris:
                self._uris.append(uri)

    def remember_statement(self, stmt: ast.Statement) -> None:
        for uri in statement_kms_uris(stmt):
            self.remember(uri)

    def uris(self, *, wait: float = 0.0) -> list[str]:
        """Every URI seen (secrets included: for matching and unlocking, never for display)."""
        if wait:
            self.settled.wait(wait)
        with self._lock:
            return list(self._uris)

    def completion(self) -> list[str]:
        """The URIs completion may insert into the editor: only those without secrets."""
        return [u for u in self.uris() if not contains_secret(u)]
