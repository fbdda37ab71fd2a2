"""SHOW BACKUP's location options: incremental_location and encryption_info_dir.

CockroachDB semantics (spec backup-format.md §1.3, `ResolveIncrementalsBackupLocation` in
pkg/backup/backupdest/incrementals.go): with a user-chosen `incremental_location = '<uri>'` the
chain's incrementals are `<uri>/<full subdir>/<YYYYMMDD>/<HHMMSS.hh>/`, and only there;
`encryption_info_dir = '<uri>'` names the directory whose ENCRYPTION-INFO files open the backup
(show.go reads the encryption info from that store instead of the backup's).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REWRAP = str(Path(sys.executable).with_name("rewrap"))
KMS = "testkms:///demo-key"


def rewrap(io_dir: Path, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REWRAP, "--external-io-dir", str(io_dir), "--format", "tsv", "-e", sql],
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def moved(tmp_path: Path) -> tuple[Path, str]:
    """A 24.3-layout demo collection whose LATEST chain's incrementals were moved to inc/."""
    io = tmp_path
    subprocess.run([REWRAP, "demo", str(io / "coll"), "--crdb-version", "24.3"], check=True,
                   capture_output=True)
    latest = rewrap(io, "SHOW BACKUPS IN 'nodelocal://self/coll'").stdout.split()[-1]
    src = io / "coll" / "incrementals" / latest.strip("/")
    dst = io / "inc" / latest.strip("/")
    dst.parent.mkdir(parents=True)
    shutil.move(src, dst)
    return io, latest


def layers(out: str) -> list[str]:
    """backup_type of each layer of the chain (one per distinct start time), full first."""
    rows = [line.split("\t") for line in out.splitlines()[1:]]
    return sorted({(r[4] != "full", r[5], r[4]) for r in rows})


def test_incremental_location_finds_the_moved_incrementals(moved: tuple[Path, str]) -> None:
    io, latest = moved
    plain = rewrap(io, f"SHOW BACKUP '{latest}' IN 'nodelocal://self/coll' WITH KMS = '{KMS}'")
    assert plain.returncode == 0, plain.stderr
    assert [t for *_, t in layers(plain.stdout)] == ["full"]
    p = rewrap(io, f"SHOW BACKUP '{latest}' IN 'nodelocal://self/coll' WITH KMS = '{KMS}', "
                   "incremental_location = 'nodelocal://self/inc', CHECK_FILES")
    assert p.returncode == 0, p.stderr
    assert [t for *_, t in layers(p.stdout)] == ["full"] + ["incremental"] * 3


def test_encryption_info_dir_reads_the_key_files_there(moved: tuple[Path, str], tmp_path: Path) -> None:
    io, latest = moved
    keys = io / "keys"
    keys.mkdir()
    backup = io / "coll" / latest.strip("/")
    shutil.move(backup / "ENCRYPTION-INFO", keys / "ENCRYPTION-INFO")
    without = rewrap(io, f"SHOW BACKUP '{latest}' IN 'nodelocal://self/coll' WITH KMS = '{KMS}'")
    assert without.returncode == 1 and "ERROR:" in without.stderr
    p = rewrap(io, f"SHOW BACKUP '{latest}' IN 'nodelocal://self/coll' WITH KMS = '{KMS}', "
                   "encryption_info_dir = 'nodelocal://self/keys'")
    assert p.returncode == 0, p.stderr
    empty = rewrap(io, f"SHOW BACKUP '{latest}' IN 'nodelocal://self/coll' WITH KMS = '{KMS}', "
                       "encryption_info_dir = 'nodelocal://self/inc'")
    assert empty.returncode == 1 and "no ENCRYPTION-INFO file there" in empty.stderr, empty.stderr


def test_bytes_columns_print_as_cockroach_sql_does(moved: tuple[Path, str]) -> None:
    """BYTES (start_key / end_key) print as `\\x<hex>`, as `cockroach sql` prints them."""
    io, latest = moved
    p = rewrap(io, f"SHOW BACKUP RANGES FROM '{latest}' IN 'nodelocal://self/coll' WITH KMS = '{KMS}'")
    assert p.returncode == 0, p.stderr
    first = p.stdout.splitlines()[1].split("\t")
    assert first[2].startswith("\\x") and bytes.fromhex(first[2][2:])
