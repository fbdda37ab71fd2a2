"""Issue 15, finding 9 (state files): rewrap's own files are 0600 and its directories 0700
whatever the umask, and tightened when found looser. An existing 0644 audit.jsonl used to stay
0644; under umask 000 the data dir was made 0777."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine.paths import ensure_private_dir, open_private, write_private
from engine.rewrap.journal import AuditJournal


def _records(journal: AuditJournal) -> list[dict[str, object]]:
    """The journal as written: one JSON object a line."""
    return [json.loads(line) for line in journal.path.read_text().splitlines() if line.strip()]


def mode(p: Path) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


@pytest.fixture
def umask_000():  # type: ignore[no-untyped-def]
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_journal_under_umask_000_creates_private_dir_and_file(tmp_path: Path, umask_000) -> None:
    data = tmp_path / "a" / "data"
    j = AuditJournal(data / "audit.jsonl")
    j.append({"backup": "b"})
    assert mode(data / "audit.jsonl") == 0o600
    assert mode(data) == 0o700 and mode(tmp_path / "a") == 0o700
    assert [r["backup"] for r in _records(j)] == ["b"]


def test_existing_loose_journal_and_data_dir_are_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o777)
    log = data / "audit.jsonl"
    log.write_text('{"old": 1}\n')
    os.chmod(log, 0o644)
    monkeypatch.setenv("REWRAP_DATA_DIR", str(data))
    AuditJournal(log).append({"backup": "b"})
    assert mode(log) == 0o600 and mode(data) == 0o700
    assert log.read_text().splitlines()[0] == '{"old": 1}'  # appended, not replaced


def test_a_moved_journal_does_not_chmod_a_directory_rewrap_does_not_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, 0o755)
    monkeypatch.setenv("REWRAP_DATA_DIR", str(tmp_path / "data"))
    AuditJournal(home / "audit.jsonl").append({"backup": "b"})
    assert mode(home) == 0o755 and mode(home / "audit.jsonl") == 0o600


def test_state_file_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.write_text("")
    os.symlink(target, tmp_path / "history")
    with pytest.raises(OSError):
        os.close(open_private(tmp_path / "history"))
    assert target.read_text() == ""


def test_write_private_replaces_atomically_and_privately(tmp_path: Path, umask_000) -> None:
    p = tmp_path / "d" / "collections.json"
    write_private(p, b"[1]")
    p.chmod(0o666)
    write_private(p, b"[2]")
    assert p.read_bytes() == b"[2]" and mode(p) == 0o600 and mode(p.parent) == 0o700
    assert os.listdir(p.parent) == ["collections.json"]
    assert ensure_private_dir(p.parent) == p.parent


def test_nodelocal_default_external_io_dir_is_created_private(tmp_path: Path) -> None:
    """The first write to nodelocal:// makes <data>/extern, and <data>, 0700 (umask 000)."""
    code = (
        "import os; os.umask(0)\n"
        "from engine.storage import open_storage\n"
        "open_storage('nodelocal://self/c').write_new('f', b'x')\n"
    )
    env = {**os.environ, "REWRAP_DATA_DIR": str(tmp_path / "data")}
    env.pop("REWRAP_EXTERNAL_IO_DIR", None)
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=Path(__file__).parents[2])
    assert mode(tmp_path / "data") == 0o700 and mode(tmp_path / "data" / "extern") == 0o700
    assert (tmp_path / "data" / "extern" / "c" / "f").read_bytes() == b"x"


def test_journal_appends_from_threads_are_whole_lines(tmp_path: Path) -> None:
    j = AuditJournal(tmp_path / "audit.jsonl")

    def work(n: int) -> None:
        for i in range(25):
            j.append({"backup": f"{n}-{i}", "pad": "x" * 500})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["backup"] for r in _records(j)) == sorted(
        f"{n}-{i}" for n in range(8) for i in range(25)
    )
