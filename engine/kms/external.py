"""`external://<name>`: a CockroachDB External Connection, which only a cluster can resolve.

CockroachDB registers `external` as a KMS scheme (pkg/cloud/externalconn) that loads the named
connection's stored URI from the cluster's system tables. rewrap works without a cluster, so it
says so and asks for the provider URI the connection was created with.
"""

from __future__ import annotations

from .base import KMS, KMSEnv, KMSURI, KMSUnsupportedError
from engine.cloud.gourl import GoURL
from syntax.uri import redact_uri as redact_kms_uri


def parse(uri: str, url: GoURL) -> KMSURI:
    raise KMSUnsupportedError(
        f"external connection {url.host!r} is stored in a CockroachDB cluster and needs a "
        "cluster to resolve; pass the KMS URI it was created with (aws:///..., gs:///..., "
        "azure-kms:///...)",
        redact_kms_uri(uri),
    )


def open_kms(parsed: KMSURI, env: KMSEnv) -> KMS:  # pragma: no cover - parse always raises
    raise AssertionError("external KMS URIs never parse")
