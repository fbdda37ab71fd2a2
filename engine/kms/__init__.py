"""KMS per URI scheme: aws / aws-kms, gs / gcp-kms, azure-kms, testkms (and external, refused).

The registry validates a URI with CockroachDB's rules and error texts and computes the master
key id (what ENCRYPTION-INFO hashes) without importing any cloud SDK; provider calls import
their SDK lazily. Start at `registry.py`; the id rules and what was looked up in CockroachDB's
sources are in the docstrings of `base.py` and each provider module.
"""

from __future__ import annotations

from .base import KMS, KMSEnv, KMSError, KMSURI, KMSUnsupportedError
from syntax.uri import redact_uri as redact_kms_uri
from .registry import open_kms, parse_kms_uri, register_kms_scheme

__all__ = [
    "KMS",
    "KMSEnv",
    "KMSError",
    "KMSURI",
    "KMSUnsupportedError",
    "open_kms",
    "parse_kms_uri",
    "redact_kms_uri",
    "register_kms_scheme",
]
