"""Test doubles that implement our interfaces (never replace our classes): a fault-injecting
ExternalStorage delegating to LocalStorage, and KMS schemes registered with
`register_kms_scheme` that behave like testkms but count calls, refuse, or lie.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from engine.collection import Collection, FullBackup
from engine.kms import KMSError, register_kms_scheme
from engine.kms.base import KMS, KMSEnv, KMSURI
from engine.kms import testkms
from engine.cloud.gourl import GoURL
from engine.storage import ExternalStorage, StorageError, StorageSettings, open_storage

DEMO_KMS = "testkms:///demo-key"
COLL_URI = "nodelocal://self/coll"
REWRAP = str(Path(sys.executable).parent / "rewrap")

# -- KMS schemes ------------------------------------------------------------------------------

CALLS: list[tuple[str, str, str]] = []  # (op, scheme, master key id); list.append is atomic


class CountingKMS(testkms.TestKMS):
    """testkms bytes, every call recorded in CALLS."""

    def encrypt(self, plaintext: bytes) -> bytes:
        CALLS.append(("encrypt", self.scheme, self.master_key_id))
        return super().encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        CALLS.append(("decrypt", self.scheme, self.master_key_id))
        return super().decrypt(ciphertext)


class RefusingKMS(CountingKMS):
    """Matches by id like testkms, but the KMS refuses every decrypt (revoked key)."""

    def decrypt(self, ciphertext: bytes) -> bytes:
        CALLS.append(("decrypt", self.scheme, self.master_key_id))
        raise KMSError("AccessDeniedException: key is disabled", self.redacted_uri)


class LyingKMS(CountingKMS):
    """Round trip hands back a different key: the new wrapped key must never be written."""

    def decrypt(self, ciphertext: bytes) -> bytes:
        plain = bytearray(super().decrypt(ciphertext))
        plain[0] ^= 0xFF
        return bytes(plain)


class BrokenEncryptKMS(CountingKMS):
    def encrypt(self, plaintext: bytes) -> bytes:
        CALLS.append(("encrypt", self.scheme, self.master_key_id))
        raise KMSError("KMS unreachable: connection refused", self.redacted_uri)


@dataclass(frozen=True)
class _Provider:
    cls: type[KMS]

    def parse(self, uri: str, url: GoURL) -> KMSURI:
        return testkms.parse(uri, url)

    def open_kms(self, parsed: KMSURI, env: KMSEnv) -> KMS:
        return self.cls(parsed)


for _scheme, _cls in {
    "countkms": CountingKMS,
    "refusekms": RefusingKMS,
    "lyingkms": LyingKMS,
    "brokenkms": BrokenEncryptKMS,
}.items():
    register_kms_scheme(_scheme, _Provider(_cls))


# -- storage ----------------------------------------------------------------------------------


class InjectedFault(StorageError):
    """The error a faulty storage raises (a StorageError, as a real backend would)."""


@dataclass
class Faults:
    """What to break, shared by a storage and all its children.

    kind: fail_before_write | fail_after_write | partial_temp | fail_read_back |
    corrupt_read_back | corrupt_write | truncate_write | race_same | race_other.
    Faults fire on names starting with `match`, `times` times.
    """

    kind: str
    match: str = "ENCRYPTION-INFO-"
    times: int = 1
    fired: int = 0
    written: set[str] = field(default_factory=set)
    competitor: bytes = b""  # for race_*: what "another process" writes first
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, kind: str, name: str) -> bool:
        with self.lock:
            if self.kind != kind or not name.startswith(self.match) or self.fired >= self.times:
                return False
            self.fired += 1
            return True


class FaultyStorage(ExternalStorage):
    """Delegates to a real storage (LocalStorage) and breaks what `faults` says."""

    def __init__(self, inner: ExternalStorage, faults: Faults, path: str = "") -> None:
        self.inner = inner
        self.faults = faults
        self.path = path
        self.display_uri = inner.display_uri
        self.list_calls: list[tuple[str, str]] = []

    def _full(self, key: str) -> str:
        return f"{self.path}/{key}".strip("/")

    def list(self, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        self.list_calls.append((prefix, delimiter))
        return self.inner.list(prefix, delimiter)

    def read(self, key: str) -> bytes:
        name = key.rsplit("/", 1)[-1]
        data = self.inner.read(key)
        if self._full(key) in self.faults.written:
            if self.faults.take("fail_read_back", name):
                raise InjectedFault(f"{self.display_uri}/{key}: injected read failure")
            if self.faults.take("corrupt_read_back", name):
                return data[:-1] + bytes([data[-1] ^ 0x01])
        return data

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        return self.inner.read_range(key, offset, length)

    def size(self, key: str) -> int:
        return self.inner.size(key)

    def write_new(self, key: str, data: bytes) -> None:
        name = key.rsplit("/", 1)[-1]
        f = self.faults
        if f.take("fail_before_write", name):
            raise InjectedFault(f"{self.display_uri}/{key}: injected failure before the write")
        if f.take("partial_temp", name):
            # What a crashed LocalStorage.write_new leaves: a partial temp file, never `key`.
            tmp = f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
            parent = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
            self.inner.write_new(parent + tmp, data[: len(data) // 2])
            raise InjectedFault(f"{self.display_uri}/{key}: injected crash during the write")
        if f.take("race_same", name) or f.take("race_other", name):
            self.inner.write_new(key, f.competitor)  # another process won this name
        if f.take("corrupt_write", name):  # persists wrong bytes that still parse
            data = data[:-1] + bytes([data[-1] ^ 0x01])
        if f.take("truncate_write", name):  # persists a file one byte short
            data = data[:-1]
        self.inner.write_new(key, data)
        f.written.add(self._full(key))
        if f.take("fail_after_write", name):
            raise InjectedFault(f"{self.display_uri}/{key}: injected failure after the write")

    def child(self, path: str) -> FaultyStorage:
        return FaultyStorage(self.inner.child(path), self.faults, self._full(path))


def local_storage(io_dir: Path, uri: str = COLL_URI) -> ExternalStorage:
    return open_storage(uri, StorageSettings(external_io_dir=io_dir))


def backups(storage: ExternalStorage, *subdirs: str) -> list[FullBackup]:
    coll = Collection(storage)
    return [coll.full_backup(s) for s in (subdirs or coll.full_backups())]


# -- the installed command ----------------------------------------------------------------------


def cli_env(io_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for the `rewrap` command: everything it writes stays under the test's dirs."""
    return {
        **os.environ,
        "REWRAP_EXTERNAL_IO_DIR": str(io_dir),
        "REWRAP_DATA_DIR": str(io_dir.parent / "data"),
        **extra,
    }


def rewrap_cli(io_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [REWRAP, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env or cli_env(io_dir),
        timeout=60,
    )


def alter_sql(new: str, *, old: str = f"'{DEMO_KMS}'", target: str = "LATEST", coll: str = COLL_URI) -> str:
    return f"ALTER BACKUP {target} IN '{coll}' ADD NEW_KMS = {new} WITH OLD_KMS = {old}"


Sink = Callable[[object], None]


def run_sql(io_dir: Path, sql: str, *, progress: Sink | None = None, **executor: object):  # type: ignore[no-untyped-def]
    """Run one statement in process with the real Executor; returns its Result."""
    from engine.execute import Executor
    from syntax import parse

    (stmt,) = parse(sql)
    ex = Executor(StorageSettings(external_io_dir=io_dir), **executor)  # type: ignore[arg-type]
    return ex.run(stmt, progress=progress or (lambda e: None))
