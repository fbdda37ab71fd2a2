"""After ALTER, every backup of the chain opens with the new key and still with the old one,
as judged by the independent reader (chain_reader, built on crdb_fixtures only)."""

from __future__ import annotations

from pathlib import Path

import chain_reader as cr
import rewrap_support as rs


def test_single_alter_chain_opens_with_both_keys(io_dir: Path, coll_dir: Path) -> None:
    latest = cr.full_backups(coll_dir)[-1]
    before = cr.snapshot(coll_dir)
    result = rs.run_sql(io_dir, rs.alter_sql("'testkms:///k-new'"))
    assert result.ok and result.rows == [(latest, "added", "ENCRYPTION-INFO-2", None)]
    assert cr.open_chain(coll_dir, latest, "k-new") == 4  # the full backup and 3 incrementals
    assert cr.open_chain(coll_dir, latest, "demo-key") == 4
    after = cr.snapshot(coll_dir)
    assert set(after) - set(before) == {latest.strip("/") + "/ENCRYPTION-INFO-2"}
    assert all(after[k] == v for k, v in before.items())  # nothing else touched
    entries = cr.all_entries(coll_dir / latest.strip("/"))
    assert len(entries["ENCRYPTION-INFO-2"]) == 1  # only the new key goes into the new file
    for other in cr.full_backups(coll_dir)[:-1]:
        assert cr.key_count(coll_dir / other.strip("/"), "k-new") == 0


def test_alter_all_covers_every_full_backup_and_chain(io_dir: Path, coll_dir: Path) -> None:
    result = rs.run_sql(
        io_dir,
        f"ALTER BACKUP ALL IN '{rs.COLL_URI}' ADD NEW_KMS = ('testkms:///a', 'testkms:///b') "
        f"WITH OLD_KMS = '{rs.DEMO_KMS}'",
    )
    subdirs = cr.full_backups(coll_dir)
    assert len(subdirs) == 3 and result.ok
    assert [r[:3] for r in result.rows] == [(s, "added", "ENCRYPTION-INFO-2") for s in subdirs]
    for s in subdirs:
        for key in ("a", "b", "demo-key"):
            assert cr.open_chain(coll_dir, s, key) == 4, (s, key)


def test_full_backup_uri_form(io_dir: Path, coll_dir: Path) -> None:
    first = cr.full_backups(coll_dir)[0]
    sql = (
        f"ALTER BACKUP '{rs.COLL_URI}{first}' ADD NEW_KMS = 'testkms:///via-uri' "
        f"WITH OLD_KMS = '{rs.DEMO_KMS}'"
    )
    result = rs.run_sql(io_dir, sql)
    assert result.rows == [(first, "added", "ENCRYPTION-INFO-2", None)]
    # the incrementals live in the collection's incrementals/ dir: they must open too
    assert cr.open_chain(coll_dir, first, "via-uri") == 4
    assert cr.open_chain(coll_dir, first, "demo-key") == 4


def test_second_alter_unlocks_with_a_key_added_by_the_first(io_dir: Path, coll_dir: Path) -> None:
    latest = cr.full_backups(coll_dir)[-1]
    rs.run_sql(io_dir, rs.alter_sql("'testkms:///k2'"))
    # old key given is the one from ENCRYPTION-INFO-2, not the original
    result = rs.run_sql(io_dir, rs.alter_sql("'testkms:///k3'", old="'testkms:///k2'"))
    assert result.rows == [(latest, "added", "ENCRYPTION-INFO-3", None)]
    for key in ("demo-key", "k2", "k3"):
        assert cr.open_chain(coll_dir, latest, key) == 4
