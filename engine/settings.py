"""The engine's settings: what a URI cannot carry, as typed values passed down, never globals.

`EngineSettings` is what a run of statements needs: where nodelocal:// resolves and the
test-only endpoints (`StorageSettings`), the whole-call deadlines (`Limits`), how many backups
ALTER BACKUP ALL rewraps at once, and dry run. The faces build it once (tui/settings.py reads
the command line and the `REWRAP_*` environment, in that one place) and hand it to the Executor.
Nothing in engine/ reads the environment for these.

Every KMS call and every cloud storage call has a whole-call deadline (retries and slow replies
included, not per socket read), so a dead or trickling endpoint fails in seconds. The KMS and
cloud clients read the deadlines from `limits()`; the faces install their settings' `Limits`
with `set_limits` before running anything (tests set their own); unset, the defaults below.

End-to-end tests drive the installed `rewrap` command against local stand-ins of Cloud KMS, Key
Vault, GCS and Azure Blob, whose endpoints no URI parameter can name: REWRAP_TEST_<FIELD> (e.g.
REWRAP_TEST_GCS_ENDPOINT) fills the test-only fields (`test_settings_from_env`).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_KMS_TIMEOUT = 10.0
"""Seconds for one KMS call (a healthy one takes milliseconds; retries fit inside)."""
DEFAULT_STORAGE_TIMEOUT = 15.0
"""Seconds for one cloud storage call (a list page, a read of one file, a create-only write)."""
DEFAULT_CONCURRENCY = 8
"""Backups ALTER BACKUP ALL works on at once, unless told otherwise."""
MAX_CONCURRENCY = 256
"""Most backups ALTER BACKUP ALL works on at once (one thread each)."""
KMS_TIMEOUT_ENV = "REWRAP_KMS_TIMEOUT"
STORAGE_TIMEOUT_ENV = "REWRAP_STORAGE_TIMEOUT"
EXTERNAL_IO_DIR_ENV = "REWRAP_EXTERNAL_IO_DIR"


def test_settings_from_env(
    cls: type, *, skip: tuple[str, ...] = (), environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """{field: value} for each field of dataclass `cls` set as REWRAP_TEST_<FIELD> in `environ`
    (the process environment when not given)."""
    env = os.environ if environ is None else environ
    out = {}
    for f in dataclasses.fields(cls):
        value = env.get(f"REWRAP_TEST_{f.name.upper()}")
        if value and f.name not in skip:
            out[f.name] = value
    return out


def parse_seconds(text: str, what: str) -> float:
    """A deadline in seconds: a finite number > 0 (ValueError naming `what` otherwise)."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number of seconds, not {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be more than 0 seconds, not {text!r}")
    return value


def check_concurrency(n: int) -> int:
    """`n` when 1 <= n <= MAX_CONCURRENCY (ValueError saying the range otherwise)."""
    if n < 1 or n > MAX_CONCURRENCY:
        raise ValueError(
            f"concurrency must be between 1 and {MAX_CONCURRENCY}, not {n} (the number of backups rewrapped at once)"
        )
    return n


@dataclass(frozen=True)
class Limits:
    """Whole-call deadlines, in seconds, for KMS calls and cloud storage calls."""

    kms_timeout: float = DEFAULT_KMS_TIMEOUT
    storage_timeout: float = DEFAULT_STORAGE_TIMEOUT


def default_external_io_dir() -> Path:
    """`<rewrap data dir>/extern` (engine/paths.py), like CockroachDB's `<store>/extern`."""
    from engine.paths import data_dir

    return data_dir() / "extern"


@dataclass(frozen=True)
class StorageSettings:
    """What a URI alone cannot say: where nodelocal:// paths live.

    external_io_dir: like CockroachDB's --external-io-dir; the faces take it from
    `--external-io-dir`, else REWRAP_EXTERNAL_IO_DIR, else `<rewrap data dir>/extern`.
    """

    external_io_dir: Path = field(default_factory=default_external_io_dir)

    # Test-only endpoints for services a URI cannot point elsewhere (S3 has AWS_ENDPOINT). They
    # are never read from a URI, so a pasted URI cannot redirect backup traffic.
    gcs_endpoint: str | None = None
    """http://host:port of a GCS stand-in (fake-gcs-server)."""
    azure_blob_endpoint: str | None = None
    """http://host:port/<account> of an Azure Blob stand-in (azurite), or a full azurite
    connection string, which then replaces both endpoint and credential (azurite has no Azure AD
    login, so a client-secret URI can only reach it that way)."""


@dataclass(frozen=True)
class EngineSettings:
    """Everything a run of statements is configured with (the KMS test endpoints travel beside
    it as engine.kms.KMSEnv, which lives with the KMS code)."""

    storage: StorageSettings = field(default_factory=StorageSettings)
    limits: Limits = Limits()
    concurrency: int = DEFAULT_CONCURRENCY
    dry_run: bool = False

    def __post_init__(self) -> None:
        check_concurrency(self.concurrency)


_limits: Limits | None = None


def limits() -> Limits:
    """The limits in force: those the face installed with `set_limits`, else the defaults."""
    return _limits if _limits is not None else Limits()


def set_limits(value: Limits | None) -> None:
    """Install the limits of this process's settings (None: back to the defaults)."""
    global _limits
    _limits = value
