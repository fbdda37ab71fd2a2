"""Fixtures for the Google Cloud tests (the servers themselves are in tests/servers/gcp.py)."""

from __future__ import annotations

import pytest

import gcp_support


@pytest.fixture(scope="session")
def service_account_b64() -> str:
    return gcp_support.service_account_b64()
