"""Keep the cloud SDKs' log records off the screen.

boto3/botocore, azure-core/azure-identity, google-auth/api-core, grpc and urllib3 log through
the standard `logging` module. With no handler configured, Python's last-resort handler prints
every WARNING to stderr: Azure's credential chain alone wrote six lines for one failed login.
rewrap reports each failure itself, once, as a clear error; the SDKs' records are dropped.
"""

from __future__ import annotations

import logging
import os

SDK_LOGGERS = (
    "azure",
    "azure.identity",
    "azure.core",
    "msal",
    "boto3",
    "botocore",
    "s3transfer",
    "google",
    "google.auth",
    "google.api_core",
    "googleapiclient",
    "grpc",
    "urllib3",
)

_done = False


def quiet_sdk_logging() -> None:
    """Give each SDK logger a NullHandler and stop it propagating to the root (idempotent)."""
    global _done
    if _done:
        return
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")  # grpc's C core writes to fd 2 itself
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(logging.NullHandler())
        logger.propagate = False
        logger.setLevel(logging.CRITICAL + 1)
    _done = True
