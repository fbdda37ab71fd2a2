"""Settings a URI cannot carry: test-only endpoints, and the time and thread limits of a run.

End-to-end tests drive the installed `rewrap` command against local stand-ins of Cloud KMS, Key
Vault, GCS and Azure Blob, whose endpoints no URI parameter can name. They set
REWRAP_TEST_<FIELD> (e.g. REWRAP_TEST_GCS_ENDPOINT); nothing else reads these variables.

`Limits` are real settings: every KMS call and every cloud storage call has a whole-call deadline
(retries and slow replies included, not per socket read), so a dead or trickling endpoint fails
in seconds. Batch mode sets them from --kms-timeout / --storage-timeout; the shell and the
console may do the same (`set_limits`); otherwise REWRAP_KMS_TIMEOUT / REWRAP_STORAGE_TIMEOUT,
else the defaults below.
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

DEFAULT_KMS_TIMEOUT = 10.0
"""Seconds for one KMS call (a healthy one takes milliseconds; retries fit inside)."""
DEFAULT_STORAGE_TIMEOUT = 15.0
"""Seconds for one cloud storage call (a list page, a read of one file, a create-only write)."""
MAX_CONCURRENCY = 256
"""Most backups ALTER BACKUP ALL works on at once (one thread each)."""
KMS_TIMEOUT_ENV = "REWRAP_KMS_TIMEOUT"
STORAGE_TIMEOUT_ENV = "REWRAP_STORAGE_TIMEOUT"


def test_settings_from_env(cls: type, *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """{field: value} for each field of dataclass `cls` set as REWRAP_TEST_<FIELD>."""
    out = {}
    for f in dataclasses.fields(cls):
        value = os.environ.get(f"REWRAP_TEST_{f.name.upper()}")
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


@dataclasses.dataclass(frozen=True)
class Limits:
    """Whole-call deadlines, in seconds, for KMS calls and cloud storage calls."""

    kms_timeout: float = DEFAULT_KMS_TIMEOUT
    storage_timeout: float = DEFAULT_STORAGE_TIMEOUT

    @classmethod
    def from_env(cls) -> Limits:
        """The defaults, overridden by REWRAP_KMS_TIMEOUT / REWRAP_STORAGE_TIMEOUT (a bad value
        is a ValueError naming the variable)."""
        kw = {}
        for name, env in (("kms_timeout", KMS_TIMEOUT_ENV), ("storage_timeout", STORAGE_TIMEOUT_ENV)):
            text = os.environ.get(env)
            if text:
                kw[name] = parse_seconds(text, env)
        return cls(**kw)


_limits: Limits | None = None


def limits() -> Limits:
    """The limits in force: those set with `set_limits`, else from the environment."""
    global _limits
    if _limits is None:
        try:
            _limits = Limits.from_env()
        except ValueError:
            _limits = Limits()  # the CLI reports a bad variable before any call is made
    return _limits


def set_limits(value: Limits | None) -> None:
    """Set the limits for this process (None: back to the environment / defaults)."""
    global _limits
    _limits = value
