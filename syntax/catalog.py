"""Static catalog of the URI schemes a statement may name, for diagnostics and completion.

syntax/ cannot ask the engine, so what a scheme accepts is written down here, from
CockroachDB's sources:
- KMS: pkg/cloud/amazon/aws_kms.go, pkg/cloud/gcp/gcp_kms.go, pkg/cloud/azure/azure_kms.go
  (the same sets as engine/kms/aws.py, gcp.py, azure.py; tests/test_catalog_matches_engine.py
  keeps the two from drifting);
- storage: pkg/cloud/amazon/s3_storage.go (parseS3URL: consumed params, `unknown S3 query
  parameters`, AUTH checks, AWS_SERVER_ENC_MODE), pkg/cloud/gcp/gcs_storage.go (parseGSURL:
  AUTH, GOOGLE_BILLING_PROJECT, CREDENTIALS, ASSUME_ROLE, BEARER_TOKEN; makeGCSStorage: any AUTH
  other than implicit needs CREDENTIALS or BEARER_TOKEN), pkg/cloud/azure/azure_storage.go.
`COCKROACH_LOCALITY` is accepted everywhere (cloud.ConsumeURL ignores it in the leftover check).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Literal

AUTH_VALUES = ("specified", "implicit")
LOCALITY_PARAM = "COCKROACH_LOCALITY"


@dataclass(frozen=True)
class Param:
    """One query parameter: `values` lists the accepted values when it is an enum."""

    name: str
    doc: str
    secret: bool = False
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Requirement:
    """What must be present, with CockroachDB's text when it is not.

    when: "always", or "specified" (only when AUTH is empty or `specified`). `any_of` lists
    alternatives; the requirement holds when every param of one alternative is present.
    `message` may hold `{missing}` (the absent params of the first alternative, comma-joined).
    """

    when: Literal["always", "specified"]
    any_of: tuple[tuple[str, ...], ...]
    message: str


@dataclass(frozen=True)
class Scheme:
    """A URI scheme: `template` is what completion inserts (e.g. `aws:///`)."""

    name: str
    kind: Literal["kms", "storage"]
    doc: str
    template: str
    params: tuple[Param, ...] = ()
    any_params: bool = False  # accepts any parameter (testkms) or is not checked statically
    unknown_message: str = "unknown KMS query parameters: {names}"
    requirements: tuple[Requirement, ...] = ()
    implicit_forbids: tuple[str, ...] = ()
    implicit_forbids_message: str = ""
    auth_checked: bool = True  # an AUTH value other than specified/implicit is an error
    empty_path_message: str = ""  # KMS schemes whose path must name a key

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    @cached_property
    def param_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.params)


def _p(name: str, doc: str, *, secret: bool = False, values: tuple[str, ...] = ()) -> Param:
    return Param(name, doc, secret, values)


_AUTH = _p("AUTH", "specified (credentials in the URI, the default) or implicit", values=AUTH_VALUES)
_AWS_KEY = _p("AWS_ACCESS_KEY_ID", "AWS access key id")
_AWS_SECRET = _p("AWS_SECRET_ACCESS_KEY", "AWS secret access key", secret=True)
_AWS_TOKEN = _p("AWS_SESSION_TOKEN", "AWS session token (temporary credentials)", secret=True)
_AWS_ENDPOINT = _p("AWS_ENDPOINT", "custom endpoint; https:// is added when no scheme is given")
_AWS_ROLE = _p("ASSUME_ROLE", "role ARN chain, comma-separated; entries may add ;external_id=<id>")
_GCP_CREDS = _p("CREDENTIALS", "base64 of a service-account JSON key", secret=True)
_GCP_TOKEN = _p("BEARER_TOKEN", "static OAuth bearer token (no refresh)", secret=True)
_GCP_ROLE = _p("ASSUME_ROLE", "service-account email chain to impersonate, comma-separated")
_AZ_ENVS = (
    "AzurePublicCloud",
    "AzureUSGovernmentCloud",
    "AzureChinaCloud",
    "AzureGermanCloud",
)
_AZ_ENV = _p("AZURE_ENVIRONMENT", "Azure cloud (default AzurePublicCloud)", values=_AZ_ENVS)
_AZ_CLIENT_ID = _p("AZURE_CLIENT_ID", "service principal (app) client id")
_AZ_CLIENT_SECRET = _p("AZURE_CLIENT_SECRET", "service principal client secret", secret=True)
_AZ_TENANT = _p("AZURE_TENANT_ID", "Azure AD tenant id")
_AZ_RBAC = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID")
_KMS_EMPTY_PATH = "path component of the KMS cannot be empty; must contain the Customer Managed Key"


def _aws_kms(name: str) -> Scheme:
    return Scheme(
        name,
        "kms",
        "AWS KMS key: aws:///<key id, ARN or alias>?REGION=...",
        f"{name}:///",
        (_AWS_KEY, _AWS_SECRET, _AWS_TOKEN, _AWS_ENDPOINT,
         _p("REGION", "AWS region of the key (required; S3 uses AWS_REGION)"), _AUTH, _AWS_ROLE),
        requirements=(
            Requirement("always", (("REGION",),), "aws kms REGION parameter not specified"),
            Requirement("specified", (("AWS_ACCESS_KEY_ID",),),
                        "AUTH is set to 'specified', but AWS_ACCESS_KEY_ID is not set"),
            Requirement("specified", (("AWS_SECRET_ACCESS_KEY",),),
                        "AUTH is set to 'specified', but AWS_SECRET_ACCESS_KEY is not set"),
        ),
    )


def _gcp_kms(name: str) -> Scheme:
    return Scheme(
        name,
        "kms",
        "Google Cloud KMS key: gs:///projects/P/locations/L/keyRings/R/cryptoKeys/K",
        f"{name}:///projects/",
        (_GCP_CREDS, _GCP_TOKEN, _AUTH, _GCP_ROLE),
        requirements=(
            Requirement("specified", (("CREDENTIALS",), ("BEARER_TOKEN",)),
                        'CREDENTIALS or BEARER_TOKEN must be set if "AUTH" is "specified"'),
        ),
        empty_path_message=_KMS_EMPTY_PATH,
    )


KMS_SCHEMES: Mapping[str, Scheme] = MappingProxyType({
    s.name: s
    for s in (
        _aws_kms("aws"),
        _aws_kms("aws-kms"),
        _gcp_kms("gs"),
        _gcp_kms("gcp-kms"),
        Scheme(
            "azure-kms",
            "kms",
            "Azure Key Vault key: azure-kms:///<key name>/<key version>?AZURE_VAULT_NAME=...",
            "azure-kms:///",
            (_p("AZURE_VAULT_NAME", "Key Vault name (required)"), _AZ_CLIENT_ID,
             _AZ_CLIENT_SECRET, _AZ_TENANT, _AZ_ENV, _AUTH),
            requirements=(
                Requirement("always", (("AZURE_VAULT_NAME",),),
                            "kms URI expected but did not receive: {missing}"),
                Requirement("specified", (_AZ_RBAC,),
                            "kms URI expected but did not receive: {missing}"),
            ),
            implicit_forbids=_AZ_RBAC,
            implicit_forbids_message="kms URI does not support: {names}",
            empty_path_message=_KMS_EMPTY_PATH,
        ),
        Scheme(
            "testkms",
            "kms",
            "CockroachDB's test KMS (no cryptography): testkms:///<id>",
            "testkms:///",
            (_p("AUTH", "ignored by testkms", values=AUTH_VALUES),),
            any_params=True,
            auth_checked=False,
        ),
        Scheme(
            "external",
            "kms",
            "External Connection name (needs a CockroachDB cluster to resolve)",
            "external://",
            any_params=True,
            auth_checked=False,
        ),
    )
})

_AZ_BLOB_PARAMS = (
    _p("AZURE_ACCOUNT_NAME", "storage account name (required)"),
    _p("AZURE_ACCOUNT_KEY", "storage account shared key (legacy auth)", secret=True),
    _AZ_CLIENT_ID,
    _AZ_CLIENT_SECRET,
    _AZ_TENANT,
    _AZ_ENV,
    _AUTH,
)
_AZ_BLOB_REQS = (
    Requirement("always", (("AZURE_ACCOUNT_NAME",),),
                'azure uri missing "AZURE_ACCOUNT_NAME" parameter'),
    Requirement(
        "specified",
        (("AZURE_ACCOUNT_KEY",), _AZ_RBAC),
        'explicit azure uri requires exactly one authentication method: "AZURE_ACCOUNT_KEY" OR '
        'all three of "AZURE_TENANT_ID", "AZURE_CLIENT_ID", and "AZURE_CLIENT_SECRET"',
    ),
)


def _azure_blob(name: str, doc: str) -> Scheme:
    return Scheme(
        name,
        "storage",
        doc,
        f"{name}://",
        _AZ_BLOB_PARAMS,
        unknown_message="unknown azure query parameters: {names}",
        requirements=_AZ_BLOB_REQS,
        implicit_forbids=("AZURE_ACCOUNT_KEY",) + _AZ_RBAC,
        implicit_forbids_message="implicit azure auth does not support uri param {names}",
    )


STORAGE_SCHEMES: Mapping[str, Scheme] = MappingProxyType({
    s.name: s
    for s in (
        Scheme("nodelocal", "storage", "node's --external-io-dir: nodelocal://<node id|self>/path",
               "nodelocal://self/", any_params=True, auth_checked=False),
        Scheme("file", "storage", "local path (rewrap): file:///absolute/path", "file:///",
               any_params=True, auth_checked=False),
        Scheme(
            "s3",
            "storage",
            "Amazon S3 (or compatible): s3://bucket/path",
            "s3://",
            (_AWS_KEY, _AWS_SECRET, _AWS_TOKEN, _AUTH, _AWS_ROLE,
             _p("AWS_REGION", "bucket region (detected when absent)"), _AWS_ENDPOINT,
             _p("AWS_USE_PATH_STYLE", "path-style bucket addressing", values=("true", "false")),
             _p("AWS_SERVER_ENC_MODE", "server-side encryption", values=("AES256", "aws:kms")),
             _p("AWS_SERVER_KMS_ID", "KMS key for aws:kms server-side encryption"),
             _p("S3_STORAGE_CLASS", "storage class of written objects",
                values=("STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                        "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR"))),
            unknown_message="unknown S3 query parameters: {names}",
            requirements=(
                Requirement("specified", (("AWS_ACCESS_KEY_ID",),),
                            "AUTH is set to 'specified', but AWS_ACCESS_KEY_ID is not set"),
                Requirement("specified", (("AWS_SECRET_ACCESS_KEY",),),
                            "AUTH is set to 'specified', but AWS_SECRET_ACCESS_KEY is not set"),
            ),
        ),
        Scheme(
            "gs",
            "storage",
            "Google Cloud Storage: gs://bucket/path",
            "gs://",
            (_AUTH, _p("GOOGLE_BILLING_PROJECT", "project billed for requester-pays buckets"),
             _GCP_CREDS, _GCP_ROLE, _GCP_TOKEN),
            unknown_message="unknown GS query parameters: {names}",
            requirements=(
                Requirement("specified", (("CREDENTIALS",), ("BEARER_TOKEN",)),
                            'CREDENTIALS or BEARER_TOKEN must be set if "AUTH" is "specified"'),
            ),
            auth_checked=False,  # makeGCSStorage treats any non-implicit AUTH as specified
        ),
        _azure_blob("azure-blob", "Azure Blob Storage: azure-blob://container/path"),
        _azure_blob("azure", "Azure Blob Storage (deprecated scheme name of azure-blob)"),
        _azure_blob("azure-storage", "Azure Blob Storage (older External Connection scheme)"),
        Scheme("userfile", "storage", "per-user file table (needs a CockroachDB cluster)",
               "userfile:///", any_params=True, auth_checked=False),
        Scheme("external", "storage", "External Connection name (needs a CockroachDB cluster)",
               "external://", any_params=True, auth_checked=False),
    )
})


def kms_scheme(name: str) -> Scheme | None:
    return KMS_SCHEMES.get(name.lower())


def storage_scheme(name: str) -> Scheme | None:
    return STORAGE_SCHEMES.get(name.lower())
