"""CockroachDB's rules for ENCRYPTION-INFO files, and rewrap's safety around them (issue 10
items 4-6, issue 15 items 1, 3, 9).

Looked up in cockroachdb/cockroach `pkg/backup/backupencryption/encryption.go`, mainline commit
200d56f7485c02271360970eeb9b4c0477d67e79:
- `GetEncryptionInfoFiles`: every listed name starting with ENCRYPTION-INFO, listing order;
- `ReadEncryptionOptions`: reads them last to first (lexically last name first); any file that
  cannot be read or unmarshalled fails the whole read;
- `GetEncryptionFromBaseStore`: the first file for which `ValidateKMSURIsAgainstFullBackup`
  finds every given URI's sha256(MasterKeyID) in that one map, else `one of the provided URIs was
  not used when encrypting the base BACKUP`; `GetEncryptionKey` decrypts the first URI's entry
  of that file, nothing else is tried;
- `WriteNewEncryptionInfoToBackup(..., numFiles)` writes `ENCRYPTION-INFO-<numFiles+1>` with a
  plain put (ALTER passes len(ReadEncryptionOptions())).
The independent reader (chain_reader.crdb_open_chain) applies those rules to what rewrap wrote.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

import chain_reader as cr
import crdb_fixtures as fx
import rewrap_support as rs
from engine.errors import RewrapError
from engine.rewrap.events import Event, Notice, Status
from engine.rewrap.run import run_rewrap
from engine.storage import ExternalStorage, StorageError

NOT_USED = "one of the provided URIs was not used when encrypting the base BACKUP"
CRDB_WILL_NOT = "rewrap opens the backup, CockroachDB will not with that key"


def latest_dir(coll_dir: Path) -> tuple[str, Path]:
    latest = cr.full_backups(coll_dir)[-1]
    return latest, coll_dir / latest.strip("/")


def entry(key_id: str, wrapped: bytes) -> dict[bytes, bytes]:
    return {hashlib.sha256(key_id.encode()).digest(): wrapped}


def show(keys: str) -> str:
    return f"SHOW BACKUP LATEST IN '{rs.COLL_URI}' WITH KMS = {keys}"


def crdb_next_name(backup_dir: Path) -> str:
    """The name CockroachDB's next ALTER BACKUP writes: ENCRYPTION-INFO-<listed count + 1>."""
    count = sum(1 for p in backup_dir.iterdir() if p.name.startswith("ENCRYPTION-INFO") and not p.is_dir())
    return f"ENCRYPTION-INFO-{count + 1}"


# -- 1. one file per statement (issue 10 item 4) ------------------------------------------------


def test_a_statement_writes_all_its_keys_into_one_file(io_dir: Path, coll_dir: Path) -> None:
    latest, d = latest_dir(coll_dir)
    rs.run_sql(io_dir, rs.alter_sql("'testkms:///k1'"))
    result = rs.run_sql(io_dir, rs.alter_sql("('testkms:///k1', 'testkms:///k2')"))
    assert result.rows[0][1:3] == ("added", "ENCRYPTION-INFO-3")
    assert len(cr.all_entries(d)["ENCRYPTION-INFO-3"]) == 2  # k1 (proven, copied) and k2
    # RESTORE ... WITH KMS = ('k1', 'k2') needs both in one file: CockroachDB's rule
    assert cr.crdb_open_chain(coll_dir, latest, "k1", "k2") == 4
    assert cr.crdb_open_chain(coll_dir, latest, "k2", "k1") == 4
    assert cr.crdb_open_chain(coll_dir, latest, "demo-key") == 4
    # now one file holds both (proven): nothing more to write
    again = rs.run_sql(io_dir, rs.alter_sql("('testkms:///k2', 'testkms:///k1')"))
    assert again.rows[0][1:3] == ("already present", None)
    assert sorted(cr.encryption_files(d)) == ["ENCRYPTION-INFO", "ENCRYPTION-INFO-2", "ENCRYPTION-INFO-3"]


def test_old_and_new_key_together_need_their_own_file(io_dir: Path, coll_dir: Path) -> None:
    """demo-key is in ENCRYPTION-INFO, k1 in -2: (demo-key, k1) is present in no single file."""
    latest, d = latest_dir(coll_dir)
    rs.run_sql(io_dir, rs.alter_sql("'testkms:///k1'"))
    result = rs.run_sql(io_dir, rs.alter_sql(f"('{rs.DEMO_KMS}', 'testkms:///k1')"))
    assert result.rows[0][1:3] == ("added", "ENCRYPTION-INFO-3")
    assert cr.crdb_open_chain(coll_dir, latest, "demo-key", "k1") == 4


def test_one_file_per_statement_through_the_command(io_dir: Path, coll_dir: Path) -> None:
    latest, _ = latest_dir(coll_dir)
    assert rs.rewrap_cli(io_dir, "-e", rs.alter_sql("'testkms:///c1'")).returncode == 0
    done = rs.rewrap_cli(io_dir, "--format", "json", "-e", rs.alter_sql("('testkms:///c1', 'testkms:///c2')"))
    assert done.returncode == 0, done.stderr
    assert '"ENCRYPTION-INFO-3"' in done.stdout
    ok = rs.rewrap_cli(io_dir, "-e", show("('testkms:///c1', 'testkms:///c2')"))
    assert ok.returncode == 0, ok.stderr
    assert cr.crdb_open_chain(coll_dir, latest, "c1", "c2") == 4


# -- 2. lowest free number (issue 10 item 5) ------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "expected"),
    [((3,), "ENCRYPTION-INFO-2"), ((2, 4), "ENCRYPTION-INFO-3"), ((9, 10), "ENCRYPTION-INFO-2")],
)
def test_gaps_are_filled_so_cockroachdb_never_lands_on_our_file(
    io_dir: Path, coll_dir: Path, existing: tuple[int, ...], expected: str
) -> None:
    latest, d = latest_dir(coll_dir)
    data_key = cr.data_key(coll_dir, latest, "demo-key")
    for n in existing:
        (d / f"ENCRYPTION-INFO-{n}").write_bytes(fx.encryption_info(kms=entry(f"old{n}", fx.testkms_wrap(f"old{n}", data_key))))
    ours = []
    for i in range(3):  # three ALTERs, then CockroachDB's next name must be free
        result = rs.run_sql(io_dir, rs.alter_sql(f"'testkms:///g{i}'"))
        assert result.rows[0][1] == "added"
        ours.append(result.rows[0][2])
        assert cr.crdb_open_chain(coll_dir, latest, f"g{i}") == 4
        assert crdb_next_name(d) not in ours
        assert not (d / crdb_next_name(d)).exists() or crdb_next_name(d) not in ours
    assert ours[0] == expected


def test_unreadable_and_odd_names_count_for_cockroachdb(io_dir: Path, coll_dir: Path) -> None:
    """CockroachDB counts every listed ENCRYPTION-INFO* name: a garbage -3 and an -old copy too."""
    latest, d = latest_dir(coll_dir)
    (d / "ENCRYPTION-INFO-3").write_bytes(b"\xff\xff garbage")
    (d / "ENCRYPTION-INFO-old").write_bytes((d / "ENCRYPTION-INFO").read_bytes())
    result = rs.run_sql(io_dir, rs.alter_sql("'testkms:///n'"))
    assert result.rows[0][1:3] == ("added", "ENCRYPTION-INFO-2")
    assert crdb_next_name(d) == "ENCRYPTION-INFO-5"


def test_missing_original_file_is_refused(io_dir: Path, coll_dir: Path) -> None:
    """Without the plain ENCRYPTION-INFO, CockroachDB's count + 1 is the very name rewrap would
    take next, and its plain put would overwrite it: refuse, write nothing."""
    latest, d = latest_dir(coll_dir)
    (d / "ENCRYPTION-INFO").rename(d / "ENCRYPTION-INFO-2")
    before = cr.snapshot(coll_dir)
    result = rs.run_sql(io_dir, rs.alter_sql("'testkms:///n'"))
    ((_, status, file, error),) = result.rows
    assert (status, file) == ("failed", None)
    assert "ENCRYPTION-INFO (the backup's original key file) is missing" in error
    assert "Nothing was written" in error
    assert cr.snapshot(coll_dir) == before


# -- 3. CockroachDB's rule when reading (issue 10 item 6) ------------------------------------------


def test_show_backup_refuses_keys_that_live_in_different_files(io_dir: Path, coll_dir: Path) -> None:
    rs.run_sql(io_dir, rs.alter_sql("'testkms:///k1'"))
    rs.run_sql(io_dir, rs.alter_sql("'testkms:///k2'"))
    with pytest.raises(RewrapError) as e:
        rs.run_sql(io_dir, show("('testkms:///k1', 'testkms:///k2')"))
    lines = str(e.value).splitlines()
    assert lines[0] == NOT_USED
    assert lines[1] == "  'testkms:///k1': key id 'k1' is in ENCRYPTION-INFO-2"
    assert lines[2] == "  'testkms:///k2': key id 'k2' is in ENCRYPTION-INFO-3"
    assert "no single ENCRYPTION-INFO file holds all 2 keys" in lines[3]
    # the independent reader agrees: CockroachDB cannot open it with both
    with pytest.raises(AssertionError, match=NOT_USED):
        cr.crdb_data_key(latest_dir(coll_dir)[1], "k1", "k2")
    # each alone is fine, and rewrap's fix (one statement with both) makes the pair work
    assert rs.run_sql(io_dir, show("'testkms:///k1'")).rows
    rs.run_sql(io_dir, rs.alter_sql("('testkms:///k1', 'testkms:///k2')", old="'testkms:///k1'"))
    assert rs.run_sql(io_dir, show("('testkms:///k1', 'testkms:///k2')")).rows


def test_show_backup_refuses_split_keys_through_the_command(io_dir: Path) -> None:
    rs.run_sql(io_dir, rs.alter_sql("'testkms:///k1'"))
    out = rs.rewrap_cli(io_dir, "-e", show(f"('{rs.DEMO_KMS}', 'testkms:///k1')"))
    assert out.returncode == 1
    assert NOT_USED in out.stderr and "key id 'k1' is in ENCRYPTION-INFO-2" in out.stderr


def test_unparseable_extra_file_is_reported_everywhere(io_dir: Path, coll_dir: Path) -> None:
    latest, d = latest_dir(coll_dir)
    (d / "ENCRYPTION-INFO-2").write_bytes(b"\xff\xff\xff garbage")
    shown = rs.run_sql(io_dir, show(f"'{rs.DEMO_KMS}'"))
    assert shown.rows and any("CockroachDB cannot read this backup at all" in n for n in shown.notices)
    keys = rs.run_sql(io_dir, f"SHOW BACKUP KEYS FROM LATEST IN '{rs.COLL_URI}'")
    (bad,) = [r for r in keys.rows if r[0] == "ENCRYPTION-INFO-2"]
    assert "CockroachDB cannot read this backup at all" in bad[3] and "move it out" in bad[3]
    altered = rs.run_sql(io_dir, rs.alter_sql("'testkms:///n'"))
    assert altered.rows[0][1:3] == ("added", "ENCRYPTION-INFO-3")
    assert any("CockroachDB cannot read this backup at all while ENCRYPTION-INFO-2" in n for n in altered.notices)
    cli = rs.rewrap_cli(io_dir, "-e", rs.alter_sql("'testkms:///m'"))
    assert cli.returncode == 0 and "CockroachDB cannot read this backup at all" in cli.stderr
    with pytest.raises(AssertionError, match="ENCRYPTION-INFO-2: "):
        cr.crdb_data_key(d, "n")  # the independent reader refuses it as CockroachDB does


def test_show_backup_keys_notes_split_keys(io_dir: Path) -> None:
    rs.run_sql(io_dir, rs.alter_sql("'testkms:///k1'"))
    keys = rs.run_sql(io_dir, f"SHOW BACKUP KEYS FROM LATEST IN '{rs.COLL_URI}' WITH KMS = ('{rs.DEMO_KMS}', 'testkms:///k1')")
    assert any(NOT_USED in n and "no single ENCRYPTION-INFO file" in n for n in keys.notices)


# -- 4. presence is proven (issue 15 item 1) ----------------------------------------------------------


def test_same_id_different_key_is_a_collision_error(io_dir: Path, coll_dir: Path) -> None:
    """An entry under id 'shared' wrapped by another key: testkms:///shared cannot decrypt it."""
    latest, d = latest_dir(coll_dir)
    data_key = cr.data_key(coll_dir, latest, "demo-key")
    (d / "ENCRYPTION-INFO-2").write_bytes(fx.encryption_info(kms=entry("shared", fx.testkms_wrap("other", data_key))))
    before = cr.snapshot(coll_dir)
    result = rs.run_sql(io_dir, rs.alter_sql("'testkms:///shared'"))
    ((_, status, _, error),) = result.rows
    assert status == "failed" and not result.ok
    assert "its key id 'shared' is already in ENCRYPTION-INFO-2" in error
    assert "CockroachDB keys ENCRYPTION-INFO entries by the URI path alone" in error
    assert "Nothing was written" in error
    assert cr.snapshot(coll_dir) == before


def test_unreachable_new_kms_with_a_stored_id_is_never_present(io_dir: Path, coll_dir: Path, kms_calls: list) -> None:
    """refusekms:///demo-key matches the stored id, but its KMS refuses: an error, not present."""
    before = cr.snapshot(coll_dir)
    result = rs.run_sql(io_dir, rs.alter_sql("'refusekms:///demo-key'"))
    ((_, status, _, error),) = result.rows
    assert status == "failed" and "AccessDeniedException" in error
    assert ("decrypt", "refusekms", "demo-key") in kms_calls
    assert cr.snapshot(coll_dir) == before


def test_collision_through_the_command(io_dir: Path, coll_dir: Path) -> None:
    latest, d = latest_dir(coll_dir)
    data_key = cr.data_key(coll_dir, latest, "demo-key")
    (d / "ENCRYPTION-INFO-2").write_bytes(fx.encryption_info(kms=entry("shared", fx.testkms_wrap("other", data_key))))
    out = rs.rewrap_cli(io_dir, "-e", rs.alter_sql("'testkms:///shared'"))
    assert out.returncode != 0
    assert "already in ENCRYPTION-INFO-2" in out.stdout + out.stderr


# -- 5. a wrong extra entry does not stop rewrap (issue 15 item 3) --------------------------------


def _bad_second_entry(coll_dir: Path) -> Path:
    latest, d = latest_dir(coll_dir)
    (d / "ENCRYPTION-INFO-2").write_bytes(fx.encryption_info(kms=entry("demo-key", fx.testkms_wrap("demo-key", b"\x01" * 32))))
    return d


def test_wrong_entry_in_a_later_file_does_not_stop_alter(io_dir: Path, coll_dir: Path) -> None:
    _bad_second_entry(coll_dir)
    events: list[Event] = []
    result = rs.run_sql(io_dir, rs.alter_sql("'testkms:///n'"), progress=events.append)
    assert result.rows[0][1:3] == ("added", "ENCRYPTION-INFO-3")
    warnings = [e.message for e in events if isinstance(e, Notice)]
    assert any(CRDB_WILL_NOT in w and "ENCRYPTION-INFO-2's entry" in w for w in warnings)
    assert any(CRDB_WILL_NOT in n for n in result.notices)
    latest = cr.full_backups(coll_dir)[-1]
    assert cr.crdb_open_chain(coll_dir, latest, "n") == 4


def test_wrong_entry_in_a_later_file_does_not_stop_show_backup(io_dir: Path, coll_dir: Path) -> None:
    _bad_second_entry(coll_dir)
    shown = rs.run_sql(io_dir, show(f"'{rs.DEMO_KMS}'"))
    assert shown.rows
    assert any(CRDB_WILL_NOT in n for n in shown.notices)
    cli = rs.rewrap_cli(io_dir, "-e", show(f"'{rs.DEMO_KMS}'"))
    assert cli.returncode == 0 and CRDB_WILL_NOT in cli.stderr


def test_good_entry_first_in_cockroachdb_order_gives_no_warning(io_dir: Path, coll_dir: Path) -> None:
    """ENCRYPTION-INFO-2 sorts after ENCRYPTION-INFO: a bad entry in the plain file is tried
    second by CockroachDB, after the good one in -2, so there is nothing to warn about."""
    latest, d = latest_dir(coll_dir)
    good = (d / "ENCRYPTION-INFO").read_bytes()
    (d / "ENCRYPTION-INFO-2").write_bytes(good)
    (d / "ENCRYPTION-INFO").write_bytes(fx.encryption_info(kms=entry("demo-key", fx.testkms_wrap("demo-key", b"\x01" * 32))))
    shown = rs.run_sql(io_dir, show(f"'{rs.DEMO_KMS}'"))
    assert shown.rows and not any(CRDB_WILL_NOT in n for n in shown.notices)


# -- 6. clear errors for odd ENCRYPTION-INFO entries (issue 15 item 9) -----------------------------


def _alter_error(io_dir: Path) -> str:
    result = rs.run_sql(io_dir, rs.alter_sql("'testkms:///n'"))
    ((_, status, _, error),) = result.rows
    assert status == "failed"
    return error


def test_empty_encryption_info(io_dir: Path, coll_dir: Path) -> None:
    _, d = latest_dir(coll_dir)
    (d / "ENCRYPTION-INFO").write_bytes(b"")
    error = _alter_error(io_dir)
    assert "not encrypted" not in error
    assert "ENCRYPTION-INFO is empty" in error
    with pytest.raises(RewrapError, match="ENCRYPTION-INFO is empty"):
        rs.run_sql(io_dir, show(f"'{rs.DEMO_KMS}'"))


def test_directory_named_encryption_info(io_dir: Path, coll_dir: Path) -> None:
    _, d = latest_dir(coll_dir)
    (d / "ENCRYPTION-INFO").unlink()
    (d / "ENCRYPTION-INFO").mkdir()
    error = _alter_error(io_dir)
    assert "not encrypted" not in error and "ENCRYPTION-INFO is a directory, not a file" in error
    with pytest.raises(RewrapError, match="ENCRYPTION-INFO is a directory"):
        rs.run_sql(io_dir, show(f"'{rs.DEMO_KMS}'"))


def test_symlink_out_of_the_external_io_dir(io_dir: Path, coll_dir: Path, tmp_path: Path) -> None:
    _, d = latest_dir(coll_dir)
    outside = tmp_path / "outside-info"
    outside.write_bytes((d / "ENCRYPTION-INFO").read_bytes())
    (d / "ENCRYPTION-INFO").unlink()
    (d / "ENCRYPTION-INFO").symlink_to(outside)
    error = _alter_error(io_dir)
    assert "not encrypted" not in error
    assert "ENCRYPTION-INFO: cannot be read" in error and "outside the external IO directory" in error


class DenyingStorage(rs.FaultyStorage):
    """A real LocalStorage whose reads of one name fail as a permission error does (the tests
    run as root, where chmod 000 does not deny)."""

    def __init__(self, inner: ExternalStorage, deny: str, path: str = "") -> None:
        super().__init__(inner, rs.Faults("none"), path)
        self.deny = deny

    def child(self, path: str) -> DenyingStorage:
        return DenyingStorage(self.inner.child(path), self.deny, self._full(path))

    def read(self, key: str) -> bytes:
        if key.rsplit("/", 1)[-1] == self.deny:
            raise StorageError(f"{self.display_uri}/{key}: cannot read: Permission denied")
        return super().read(key)


def test_permission_denied_encryption_info(io_dir: Path) -> None:
    storage = DenyingStorage(rs.local_storage(io_dir), "ENCRYPTION-INFO")
    (out,) = run_rewrap(rs.backups(storage, "LATEST"), new_kms=["testkms:///n"], old_kms=[rs.DEMO_KMS])
    assert out.status is Status.FAILED
    assert "no readable ENCRYPTION-INFO file" not in out.error
    assert "ENCRYPTION-INFO: cannot be read" in out.error and "Permission denied" in out.error


def test_fifo_named_encryption_info_2_is_skipped_and_counted(io_dir: Path, coll_dir: Path) -> None:
    """A FIFO must not hang the run: the storage refuses it (or, without a writer, it reads as
    empty); either way it is named in a warning and its number is taken."""
    latest, d = latest_dir(coll_dir)
    fifo = d / "ENCRYPTION-INFO-2"
    os.mkfifo(fifo)
    stop = threading.Event()

    unblocked: list[int] = []

    def unblock() -> None:  # if a read blocks on the FIFO, give it an EOF (every 3 s) and count it
        while not stop.wait(3):
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                unblocked.append(1)
            except OSError:  # no reader waiting
                pass

    t = threading.Thread(target=unblock, daemon=True)
    t.start()
    events: list[Event] = []
    try:
        result = rs.run_sql(io_dir, rs.alter_sql("'testkms:///n'"), progress=events.append)
    finally:
        stop.set()
    assert result.rows[0][1:3] == ("added", "ENCRYPTION-INFO-3")
    assert not unblocked  # no read ever waited on the FIFO (no wall-clock bound needed)
    assert any("ENCRYPTION-INFO-2" in e.message for e in events if isinstance(e, Notice))
    assert cr.open_chain(coll_dir, latest, "n", skip=("ENCRYPTION-INFO-2",)) == 4


def test_show_backup_keys_says_which_copy_of_a_key_id_cockroachdb_uses(io_dir: Path, coll_dir: Path) -> None:
    _bad_second_entry(coll_dir)
    keys = rs.run_sql(io_dir, f"SHOW BACKUP KEYS FROM LATEST IN '{rs.COLL_URI}' WITH KMS = '{rs.DEMO_KMS}'")
    notes = {r[0]: r[3] for r in keys.rows}
    assert notes["ENCRYPTION-INFO-2"] == "key id also in ENCRYPTION-INFO; CockroachDB uses this entry (first in its order)"
    assert notes["ENCRYPTION-INFO"] == "key id also in ENCRYPTION-INFO-2; CockroachDB uses the entry in ENCRYPTION-INFO-2, not this one"
