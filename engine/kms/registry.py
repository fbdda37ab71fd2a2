"""Scheme -> provider module, imported lazily (cloud.KMSFromURI in pkg/cloud/kms.go).

`KMSFromURI` first runs Go's url.ParseRequestURI (so `invalid_old_kms` fails with
`parse "invalid_old_kms": invalid URI for request`), then looks the lower-cased scheme up:
`no factory method found for scheme <scheme>`. Provider modules only validate strings; an SDK
(boto3, google.cloud.kms, azure.keyvault) is imported only when a KMS call is made.
"""

from __future__ import annotations

import importlib
from typing import Protocol

from .base import KMS, KMSEnv, KMSError, KMSURI
from engine.cloud.gourl import GoURL, GoURLError, parse_request_uri
from syntax.uri import redact_uri as redact_kms_uri

# Registered schemes in CockroachDB: aws, aws-kms (amazon), gs, gcp-kms (gcp), azure-kms
# (azure), external (externalconn), testkms (backup tests).
PROVIDERS: dict[str, str] = {
    "aws": "aws",
    "aws-kms": "aws",
    "gs": "gcp",
    "gcp-kms": "gcp",
    "azure-kms": "azure",
    "external": "external",
    "testkms": "testkms",
}


class Provider(Protocol):
    """What a provider module offers: `parse` (validate, compute ids) and `open_kms`."""

    def parse(self, uri: str, url: GoURL) -> KMSURI: ...

    def open_kms(self, parsed: KMSURI, env: KMSEnv) -> KMS: ...


_REGISTERED: dict[str, Provider] = {}


def register_kms_scheme(scheme: str, provider: Provider) -> None:
    """Add a KMS scheme at run time, like CockroachDB's cloud.RegisterKMSFromURIFactory (which
    is how its tests add `testkms`). rewrap's own tests and benchmarks use it for KMSs that
    count or delay calls; a URI can never register anything."""
    _REGISTERED[scheme.lower()] = provider


def _provider(uri: str) -> tuple[Provider, GoURL]:
    try:
        url = parse_request_uri(uri)
    except GoURLError as e:
        raise KMSError(e.render(redact_kms_uri(uri))) from None
    registered = _REGISTERED.get(url.scheme)
    if registered is not None:
        return registered, url
    name = PROVIDERS.get(url.scheme)
    if name is None:
        raise KMSError(f"no factory method found for scheme {url.scheme}", redact_kms_uri(uri))
    module: Provider = importlib.import_module(f"{__package__}.{name}")
    return module, url


def parse_kms_uri(uri: str) -> KMSURI:
    """Validate `uri` with CockroachDB's rules and compute its key ids; opens nothing."""
    module, url = _provider(uri)
    parsed: KMSURI = module.parse(uri, url)
    return parsed


def open_kms(uri: str, *, env: KMSEnv | None = None) -> KMS:
    """A KMS for `uri` (validated first); raises KMSError naming the redacted URI."""
    module, url = _provider(uri)
    kms: KMS = module.open_kms(module.parse(uri, url), env or KMSEnv())
    return kms
