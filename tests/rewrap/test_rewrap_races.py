"""Concurrent ALTERs all land: 12 real `rewrap` processes at once, and the lost-race path
(create-only write finds the name taken) driven deterministically through a storage wrapper."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import chain_reader as cr
import crdb_fixtures as fx
import rewrap_support as rs
from engine.rewrap.events import Status
from engine.rewrap.run import run_rewrap

N = 12


def test_twelve_processes_add_twelve_keys(io_dir: Path, coll_dir: Path) -> None:
    latest = cr.full_backups(coll_dir)[-1]
    env = rs.cli_env(io_dir)
    procs = [
        subprocess.Popen(
            [rs.REWRAP, "--format", "json", "-e", rs.alter_sql(f"'testkms:///k{i}'")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        for i in range(N)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * N, [e for _, e in outs]
    rows = [json.loads(o) for o, _ in outs]
    assert all(r["status"] == "added" for r in rows)
    files = sorted(r["file"] for r in rows)
    assert files == sorted(f"ENCRYPTION-INFO-{n}" for n in range(2, N + 2))  # all distinct
    entries = cr.all_entries(coll_dir / latest.strip("/"))
    assert sorted(entries) == sorted(["ENCRYPTION-INFO"] + files)
    for i in range(N):
        assert cr.key_count(coll_dir / latest.strip("/"), f"k{i}") == 1
        assert cr.open_chain(coll_dir, latest, f"k{i}") == 4
    assert cr.open_chain(coll_dir, latest, "demo-key") == 4
    journal = (io_dir.parent / "data" / "audit.jsonl").read_text().splitlines()
    assert len(journal) == N and len({json.loads(line)["file"] for line in journal}) == N


def _competitor(key_id: str) -> bytes:
    """An ENCRYPTION-INFO file another process could have written (built by hand)."""
    h = hashlib.sha256(key_id.encode()).digest()
    return fx.encryption_info(kms={h: fx.testkms_wrap(key_id, b"\x00" * 32)})


def test_lost_race_takes_the_next_number(io_dir: Path, coll_dir: Path) -> None:
    latest = cr.full_backups(coll_dir)[-1]
    faults = rs.Faults("race_other", competitor=_competitor("someone-else"))
    storage = rs.FaultyStorage(rs.local_storage(io_dir), faults)
    (out,) = run_rewrap(rs.backups(storage, "LATEST"), new_kms=["testkms:///mine"], old_kms=[rs.DEMO_KMS])
    assert out.status is Status.ADDED and out.file == "ENCRYPTION-INFO-3", out
    assert faults.fired == 1
    assert (coll_dir / latest.strip("/") / "ENCRYPTION-INFO-2").read_bytes() == faults.competitor
    assert cr.open_chain(coll_dir, latest, "mine") == 4


def test_lost_race_to_the_same_key_id_writes_our_own_proven_file(io_dir: Path, coll_dir: Path) -> None:
    """A racer's entry under our key's id is not trusted unproven (this one wraps a wrong key):
    rewrap writes its own, verified file under the next free number."""
    latest = cr.full_backups(coll_dir)[-1]
    faults = rs.Faults("race_same", competitor=_competitor("mine"))
    storage = rs.FaultyStorage(rs.local_storage(io_dir), faults)
    (out,) = run_rewrap(rs.backups(storage, "LATEST"), new_kms=["testkms:///mine"], old_kms=[rs.DEMO_KMS])
    assert (out.status, out.file) == (Status.ADDED, "ENCRYPTION-INFO-3")
    # CockroachDB reads ENCRYPTION-INFO-3 first (lexically last) and finds the good entry
    assert cr.crdb_open_chain(coll_dir, latest, "mine") == 4
