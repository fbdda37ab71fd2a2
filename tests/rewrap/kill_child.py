"""Child process of the SIGKILL tests: run one ALTER on LATEST and SIGKILL itself at a point.

argv: <external-io dir> <point> <new KMS URI>. <point> is a Step name (the progress sink kills
the process when that StepStarted arrives) or LINK (a storage wrapper lets LocalStorage write
and fsync its temp file, then kills the process where link(2) would publish the name).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import rewrap_support as rs  # noqa: E402
from engine.rewrap.events import Event, StepStarted  # noqa: E402
from engine.rewrap.run import run_rewrap  # noqa: E402


def die(*_: object, **__: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class KillBeforeLink(rs.FaultyStorage):
    def write_new(self, key: str, data: bytes) -> None:
        if key.rsplit("/", 1)[-1].startswith("ENCRYPTION-INFO"):
            os.link = die  # type: ignore[assignment]  # the process never returns from here
        self.inner.write_new(key, data)

    def child(self, path: str) -> KillBeforeLink:
        return KillBeforeLink(self.inner.child(path), self.faults, self._full(path))


def main() -> None:
    io_dir, point, new = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    storage = rs.local_storage(io_dir)
    if point == "LINK":
        storage = KillBeforeLink(storage, rs.Faults("none"))

    def sink(event: Event) -> None:
        if isinstance(event, StepStarted) and event.step.name == point:
            die()

    outcomes = run_rewrap(rs.backups(storage, "LATEST"), new_kms=[new], old_kms=[rs.DEMO_KMS], progress=sink)
    print(f"not killed: {outcomes}")  # reaching this is a test failure (exit 0, not -9)


if __name__ == "__main__":
    main()
