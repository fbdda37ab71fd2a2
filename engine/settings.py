"""Test-only settings from the environment, shared by StorageSettings and KMSEnv.

End-to-end tests drive the installed `rewrap` command against local stand-ins of Cloud KMS, Key
Vault, GCS and Azure Blob, whose endpoints no URI parameter can name. They set
REWRAP_TEST_<FIELD> (e.g. REWRAP_TEST_GCS_ENDPOINT); nothing else reads these variables.
"""

from __future__ import annotations

import dataclasses
import os


def test_settings_from_env(cls: type, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """{field: value} for each field of dataclass `cls` set as REWRAP_TEST_<FIELD>."""
    out = {}
    for f in dataclasses.fields(cls):
        value = os.environ.get(f"REWRAP_TEST_{f.name.upper()}")
        if value and f.name not in skip:
            out[f.name] = value
    return out
