"""Behaviour pinned after review: journal failures, OLD_KMS checked before "already present",
write ids for idempotence, a lost create response, and odd URIs."""

from __future__ import annotations

from pathlib import Path

import pytest

import chain_reader as cr
import rewrap_support as rs
from engine.errors import RewrapError
from engine.rewrap.events import Event, Notice, Status
from engine.rewrap.journal import AuditJournal
from engine.rewrap.run import run_rewrap
from engine.storage import AlreadyExists, StorageError, StorageSettings, open_storage

NEW = "testkms:///k-new"


def alter(storage, *, new: str = NEW, old: str = rs.DEMO_KMS, **kw):  # type: ignore[no-untyped-def]
    (out,) = run_rewrap(rs.backups(storage, "LATEST"), new_kms=[new], old_kms=[old], **kw)
    return out


def test_unwritable_audit_journal_is_a_warning_not_a_traceback(io_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    events: list[Event] = []
    out = alter(rs.local_storage(io_dir), journal=AuditJournal(blocker / "audit.jsonl"), progress=events.append)
    assert (out.status, out.file) == (Status.ADDED, "ENCRYPTION-INFO-2")
    assert any(isinstance(e, Notice) and "audit journal" in e.message for e in events)


def test_wrong_old_kms_is_an_error_even_when_the_new_key_is_present(io_dir: Path) -> None:
    assert alter(rs.local_storage(io_dir)).status is Status.ADDED
    out = alter(rs.local_storage(io_dir), old="testkms:///bogus")
    assert out.status is Status.FAILED
    assert out.error.startswith("no key in OLD_KMS matches a key that was previously used to encrypt the backup")
    assert "'bogus' not found" in out.error


def test_a_matching_replica_id_does_not_make_a_new_key_present(io_dir: Path, coll_dir: Path) -> None:
    """CockroachDB's mainline reader looks up sha256(MasterKeyID) only: that entry must exist."""
    out = alter(rs.local_storage(io_dir), new="testkms:///brandnew?TEST_REPLICA_IDS=demo-key")
    assert (out.status, out.file) == (Status.ADDED, "ENCRYPTION-INFO-2")
    latest = cr.full_backups(coll_dir)[-1]
    assert cr.open_chain(coll_dir, latest, "brandnew") == 4


class LostResponseStorage(rs.FaultyStorage):
    """The create succeeds, but its response is lost and the SDK's retry sees the object."""

    def child(self, path: str) -> LostResponseStorage:
        return LostResponseStorage(self.inner.child(path), self.faults, self._full(path))

    def write_new(self, key: str, data: bytes) -> None:
        self.inner.write_new(key, data)
        if key.rsplit("/", 1)[-1].startswith("ENCRYPTION-INFO-"):
            raise AlreadyExists(f"{self.display_uri}/{key}: already exists")


def test_a_lost_create_response_is_recognised_as_our_own_write(io_dir: Path, coll_dir: Path) -> None:
    out = alter(LostResponseStorage(rs.local_storage(io_dir), rs.Faults("none")))
    assert (out.status, out.file) == (Status.ADDED, "ENCRYPTION-INFO-2")
    latest = cr.full_backups(coll_dir)[-1]
    assert cr.key_count(coll_dir / latest.strip("/"), "k-new") == 1


@pytest.mark.parametrize("uri", ["nodelocal://[self/x", "file://[x/y"])
def test_malformed_uris_are_storage_errors(uri: str, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="not a valid URI"):
        open_storage(uri, StorageSettings(external_io_dir=tmp_path))


def test_malformed_full_backup_uri_in_alter_is_a_clear_error(io_dir: Path) -> None:
    with pytest.raises(RewrapError, match="not a valid URI"):
        rs.run_sql(io_dir, "ALTER BACKUP 's3://[b/2023/11/09-174726.48' ADD NEW_KMS = 'testkms:///a' WITH OLD_KMS = 'testkms:///b'")
