"""The app's engine side: listings, details, the KMS URIs seen this session (no Textual).

To be replaced by the engine's inspection service (issue 11).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.errors import RewrapError
from syntax import ast
from syntax.uri import contains_secret, redact_uri
from tui.app.messages import NodeRef

if TYPE_CHECKING:  # the engine's listing and crypto modules load in workers, after the first frame
    from engine.collection import Collection, FullBackup

MAX_SIZED_FILES = 5000


@dataclass
class Session:
    """The KMS URIs this session has seen (memory only) and a cache of collection listings."""

    kms_uris: list[str] = field(default_factory=list)
    subdir_cache: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Cleared while a KMS URI is on its way (the demo's key, remembered just after its tree is
    # shown); `unlockers` waits for it so details never miss a key the session is about to know.
    kms_settled: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.kms_settled.set()

    def remember_kms(self, uri: str) -> None:
        if uri not in self.kms_uris:
            self.kms_uris.append(uri)

    def remember_statement(self, stmt: ast.Statement) -> None:
        values: Sequence[Any] = ()
        if isinstance(stmt, ast.ShowBackup):
            values = stmt.options.kms or ()
        elif isinstance(stmt, ast.ShowBackupKeys):
            values = stmt.kms or ()
        elif isinstance(stmt, ast.AlterBackup):
            values = [v for c in stmt.commands for v in (*c.new_kms, *c.old_kms)]
        for v in values:
            if isinstance(v, str):
                self.remember_kms(v)

    def completion_kms(self) -> list[str]:
        """KMS URIs completion may insert into the editor: only those without secrets."""
        return [u for u in self.kms_uris if not contains_secret(u)]

    # -- listings --------------------------------------------------------------------------

    def collection(self, uri: str) -> Collection:
        from engine.collection import Collection
        from engine.storage import StorageSettings, open_storage

        return Collection(open_storage(uri, StorageSettings.from_env()))

    def list_children(self, node: NodeRef) -> list[NodeRef]:
        coll = self.collection(node.collection)
        if node.kind == "collection":
            fulls = coll.full_backups()
            self.subdir_cache[node.collection] = tuple(fulls)
            try:
                latest = coll.latest()
            except RewrapError:
                latest = None
            return [NodeRef("full", node.collection, s, s.strip("/"), s == latest) for s in reversed(fulls)]
        if node.kind == "full":
            backup = coll.full_backup(node.subdir)
            return [
                NodeRef("incremental", node.collection, node.subdir, layer.path)
                for layer in backup.incrementals()
            ]
        return []

    def subdirs(self, uri: str) -> tuple[str, ...]:
        coll = self.collection(uri)
        fulls = tuple(coll.full_backups())
        self.subdir_cache[uri] = fulls
        return fulls

    # -- details ---------------------------------------------------------------------------

    def unlockers(self, backup: FullBackup) -> tuple[list[tuple[str, str, str]], list[str], str]:
        """(file, fingerprint, note) rows, the session KMS URIs that unlock it, and its mode."""
        from engine.encryption import read_encryption_files
        from engine.formats.encryption_info import fingerprint, key_id_hash
        from engine.kms import parse_kms_uri

        self.kms_settled.wait(10)
        files = read_encryption_files(backup.storage, backup.top_level_files)
        rows = []
        present: set[bytes] = set()
        for f in files.files:
            if f.info is None:
                rows.append((f.name, "", f"unreadable: {f.error}"))
                continue
            for id_hash in f.info.encrypted_data_keys:
                present.add(id_hash)
                rows.append((f.name, fingerprint(id_hash), ""))
            if not f.info.encrypted_data_keys:
                rows.append((f.name, "", "passphrase salt" if f.info.salt else "no keys"))
        unlocking = []
        for uri in self.kms_uris:
            try:
                ids = parse_kms_uri(uri).key_ids
            except RewrapError:
                continue
            if any(key_id_hash(i) in present for i in ids):
                unlocking.append(uri)
        return rows, unlocking, files.mode.value

    def details(self, node: NodeRef) -> list[tuple[str, str]]:
        coll = self.collection(node.collection)
        if node.kind == "collection":
            fulls = coll.full_backups()
            self.subdir_cache[node.collection] = tuple(fulls)
            try:
                latest = coll.latest()
            except RewrapError as e:
                latest = f"({e})"
            return [
                ("collection", redact_uri(node.collection)),
                ("full backups", str(len(fulls))),
                ("LATEST", latest),
            ]
        backup = coll.full_backup(node.subdir)
        out = [("collection", redact_uri(node.collection))]
        if node.kind == "full":
            out += [("full backup", node.subdir + ("  (LATEST)" if node.latest else "")),
                    ("end time", end_time_from_path(node.subdir))]
            storage = backup.storage
        else:
            out += [("incremental", "/" + node.path), ("of full backup", node.subdir),
                    ("end time", end_time_from_path(node.path))]
            storage = coll.storage.child(node.path)
        count, size = sized_listing(storage)
        out += [("files", str(count)), ("size", size)]
        rows, unlocking, mode = self.unlockers(backup)
        out.append(("encryption", mode + ("" if node.kind == "full" else " (the full backup's key)")))
        for name, fp, note in rows:
            out.append((name, f"key {fp}" if fp else note))
        out.append(("unlocked by", ", ".join(redact_uri(u) for u in unlocking) or
                    "no KMS URI known to this session (run a statement WITH KMS = ...)"))
        return out


def end_time_from_path(path: str) -> str:
    """A backup's end time as its directory names it (CockroachDB names directories by it)."""
    import re

    m = re.search(r"(\d{4})/(\d{2})/(\d{2})-(\d{2})(\d{2})(\d{2})\.(\d{2})/?$", path)
    if m:
        y, mo, d, h, mi, s, hs = m.groups()
        return f"{y}-{mo}-{d} {h}:{mi}:{s}.{hs} UTC"
    m = re.search(r"/(\d{4})(\d{2})(\d{2})/(\d{2})(\d{2})(\d{2})\.(\d{2})[^/]*/?$", path)
    if m:
        y, mo, d, h, mi, s, hs = m.groups()
        return f"{y}-{mo}-{d} {h}:{mi}:{s}.{hs} UTC"
    return "unknown"


def sized_listing(storage: Any) -> tuple[int, str]:
    """Number of files under `storage` and their total size (skipped past MAX_SIZED_FILES)."""
    keys = [k for k in storage.list("", "") if not k.endswith("/")]
    if len(keys) > MAX_SIZED_FILES:
        return len(keys), f"not summed (more than {MAX_SIZED_FILES} files)"
    total = sum(storage.size(k) for k in keys)
    return len(keys), human_size(total)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit} ({n} bytes)"
        size /= 1024
    return f"{n} B"
