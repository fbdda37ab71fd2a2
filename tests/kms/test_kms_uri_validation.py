"""Table-driven URI validation: CockroachDB's exact error texts, rule by rule.

Texts come from pkg/cloud/kms.go, amazon/aws_kms.go, gcp/gcp_kms.go, azure/azure_kms.go and
Go's net/url (see the engine/kms module docstrings).
"""

from __future__ import annotations

import pytest

from engine.errors import RewrapError, UnsupportedError
from engine.kms import KMSError, KMSUnsupportedError, open_kms, parse_kms_uri

AWS_OK = "AWS_ACCESS_KEY_ID=AKIA1&AWS_SECRET_ACCESS_KEY=sekrit"
AZ_OK = "AZURE_VAULT_NAME=vault&AZURE_CLIENT_ID=cid&AZURE_CLIENT_SECRET=cs&AZURE_TENANT_ID=tid"

# (uri, exact cause). The cause is CockroachDB's text; str(error) adds the redacted URI.
ERRORS: list[tuple[str, str]] = [
    # Go url.ParseRequestURI, run first by cloud.KMSFromURI.
    ("invalid_old_kms", 'parse "invalid_old_kms": invalid URI for request'),
    ("", 'parse "": empty url'),
    (":nope", 'parse ":nope": missing protocol scheme'),
    ("aws:///k\x00?REGION=r", 'parse "aws:///k\\x00?REGION=r": net/url: invalid control character in URL'),
    ("aws:///k%zz?REGION=r", 'parse "aws:///k%zz?REGION=r": invalid URL escape "%zz"'),
    ("aws:///k%4", 'parse "aws:///k%4": invalid URL escape "%4"'),
    ("aws://host:xx/k", 'parse "aws://host:xx/k": invalid port ":xx" after host'),
    ("aws://ho st/k", 'parse "aws://ho st/k": invalid character " " in host name'),
    # Registry lookup.
    ("foo:///x", "no factory method found for scheme foo"),
    ("gcs:///x", "no factory method found for scheme gcs"),
    ("/just/a/path", "no factory method found for scheme "),
    ("s3://bucket/key?AUTH=implicit", "no factory method found for scheme s3"),
    # AWS: unknown params are checked before REGION, REGION before AUTH.
    ("aws:///k?FOO=1", "unknown KMS query parameters: FOO"),
    ("aws:///k?REGION=r&AWS_REGION=x&REGION_X=1", "unknown KMS query parameters: AWS_REGION, REGION_X"),
    ("aws:///k?AUTH=implicit", "aws kms REGION parameter not specified"),
    ("aws:///k?REGION=&AUTH=implicit", "aws kms REGION parameter not specified"),
    ("aws:///k?REGION=r", "AUTH is set to 'specified', but AWS_ACCESS_KEY_ID is not set"),
    ("aws:///k?REGION=r&AUTH=specified&AWS_SECRET_ACCESS_KEY=s",
     "AUTH is set to 'specified', but AWS_ACCESS_KEY_ID is not set"),
    ("aws-kms:///k?REGION=r&AWS_ACCESS_KEY_ID=a",
     "AUTH is set to 'specified', but AWS_SECRET_ACCESS_KEY is not set"),
    ("aws:///k?REGION=r&AUTH=Implicit", "unsupported value Implicit for AUTH"),
    ("aws:///k?REGION=r&AUTH=implicit&AWS_ENDPOINT=:bad",
     'error parsing URL: parse ":bad": missing protocol scheme'),
    # A pair Go's ParseQuery rejects (';') is dropped, so the secret is "not set".
    ("aws:///k?REGION=r&AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=x;y",
     "AUTH is set to 'specified', but AWS_SECRET_ACCESS_KEY is not set"),
    # GCP.
    ("gs:///?AUTH=implicit",
     "path component of the KMS cannot be empty; must contain the Customer Managed Key"),
    ("gs:///p/k?AUTH=implicit&REGION=x", "unknown KMS query parameters: REGION"),
    ("gs:///p/k", 'CREDENTIALS or BEARER_TOKEN must be set if "AUTH" is "specified"'),
    ("gcp-kms:///p/k?AUTH=specified", 'CREDENTIALS or BEARER_TOKEN must be set if "AUTH" is "specified"'),
    ("gs:///p/k?AUTH=sometimes", "unsupported value sometimes for AUTH"),
    ("gs:///p/k?CREDENTIALS=e30", "error getting credentials from CREDENTIALS: illegal base64 data at input byte 0"),
    # An unescaped '+' reads as a space: Go's decoder fails at that byte.
    ("gs:///p/k?CREDENTIALS=ab+c", "error getting credentials from CREDENTIALS: illegal base64 data at input byte 2"),
    # Azure.
    ("azure-kms:///?" + AZ_OK,
     "path component of the KMS cannot be empty; must contain the Customer Managed Key"),
    ("azure-kms:///k/v?AZURE_ACCOUNT_KEY=x&" + AZ_OK,
     "azure kms requires explicit auth (RBAC) or implicit auth"),
    ("azure-kms:///k/v?AUTH=specified&AZURE_ACCOUNT_KEY=x",
     "azure kms requires explicit auth (RBAC) or implicit auth"),
    ("azure-kms:///k/v?AUTH=implicit&AZURE_VAULT_NAME=v&AZURE_ACCOUNT_KEY=x",
     "unknown KMS query parameters: AZURE_ACCOUNT_KEY"),
    ("azure-kms:///k/v?AUTH=bogus", "unsupported value bogus for AUTH"),
    ("azure-kms:///k/v?" + AZ_OK + "&AZURE_ACCOUNT_NAME=n", "unknown KMS query parameters: AZURE_ACCOUNT_NAME"),
    ("azure-kms:///k/v",
     "kms URI expected but did not receive: AZURE_VAULT_NAME, AZURE_CLIENT_ID, "
     "AZURE_CLIENT_SECRET, AZURE_TENANT_ID"),
    ("azure-kms:///k/v?AZURE_VAULT_NAME=v&AZURE_CLIENT_SECRET=s",
     "kms URI expected but did not receive: AZURE_CLIENT_ID, AZURE_TENANT_ID"),
    ("azure-kms:///k/v?AUTH=implicit", "kms URI expected but did not receive: AZURE_VAULT_NAME"),
    ("azure-kms:///k/v?AUTH=implicit&AZURE_VAULT_NAME=v&AZURE_TENANT_ID=t&AZURE_CLIENT_ID=c",
     "kms URI does not support: AZURE_CLIENT_ID, AZURE_TENANT_ID"),
    ("azure-kms:///k/v?" + AZ_OK + "&AZURE_ENVIRONMENT=Moon",
     'azure kms environment: autorest/azure: There is no cloud environment matching the name "MOON"'),
    ("azure-kms:///k?" + AZ_OK, "azure kms key must be of form 'id/version'"),
    ("azure-kms:///k/v/x?" + AZ_OK, "azure kms key must be of form 'id/version'"),
    ("azure-kms://vault?" + AZ_OK, "azure kms key must be of form 'id/version'"),
]


@pytest.mark.parametrize(("uri", "cause"), ERRORS, ids=[u[:60] or "<empty>" for u, _ in ERRORS])
def test_error_text(uri: str, cause: str) -> None:
    with pytest.raises(KMSError) as info:
        parse_kms_uri(uri)
    assert info.value.cause == cause
    assert isinstance(info.value, RewrapError)
    if info.value.redacted_uri is None:  # Go parse errors already quote the URI
        assert str(info.value) == cause
    else:
        assert str(info.value) == f"{cause} (KMS URI '{info.value.redacted_uri}')"
    with pytest.raises(KMSError):  # open_kms validates identically
        open_kms(uri)


VALID = [
    "aws:///k?REGION=us-east-1&" + AWS_OK,
    "aws:///k?REGION=us-east-1&AUTH=specified&" + AWS_OK + "&AWS_SESSION_TOKEN=tok",
    "AWS:///k?REGION=r&AUTH=implicit",  # Go lowercases the scheme
    "aws-kms:///k?REGION=r&AUTH=implicit&ASSUME_ROLE=arn:aws:iam::1:role/a,arn:aws:iam::1:role/b",
    "aws:///k?REGION=r&AUTH=implicit&COCKROACH_LOCALITY=default",
    "aws:///k?REGION=r&AUTH=implicit&AWS_ENDPOINT=localhost.localstack.cloud:4566",
    "gs:///projects/p/locations/l/keyRings/r/cryptoKeys/k?AUTH=implicit",
    "gs:///p/k?CREDENTIALS=e30=",  # base64("{}")
    "gs:///p/k?BEARER_TOKEN=ya29.tok&ASSUME_ROLE=a@p.iam.gserviceaccount.com",
    "gcp-kms:///p/k?AUTH=implicit&COCKROACH_LOCALITY=region%3Deast",
    "azure-kms:///k/v?" + AZ_OK,
    "azure-kms:///k/v?AUTH=implicit&AZURE_VAULT_NAME=v&AZURE_ENVIRONMENT=AzureUSGovernment",
    "testkms:///cmk?AUTH=implicit",
    "testkms:///cmk?AUTH=whatever&REGION=blah&ANYTHING=goes",  # MakeTestKMS checks nothing
]


@pytest.mark.parametrize("uri", VALID)
def test_valid_uris_open(uri: str) -> None:
    with open_kms(uri) as kms:
        assert kms.uri == uri
        assert kms.master_key_id == parse_kms_uri(uri).master_key_id
        assert kms.key_ids[0] == kms.master_key_id


def test_aws_endpoint_gets_https_unless_it_has_a_scheme() -> None:
    # constructEndpointURI; note Go reads "localhost:4566" as scheme "localhost".
    base = "aws:///k?REGION=r&AUTH=implicit&AWS_ENDPOINT="
    assert parse_kms_uri(base + "kms.example.com").derived["endpoint_url"] == "https://kms.example.com"
    assert parse_kms_uri(base + "http://127.0.0.1:5000").derived["endpoint_url"] == "http://127.0.0.1:5000"


def test_aws_secret_spaces_become_plus() -> None:
    parsed = parse_kms_uri("aws:///k?REGION=r&AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=ab+cd")
    assert parsed.params["AWS_SECRET_ACCESS_KEY"] == "ab+cd"


def test_first_value_wins_and_duplicates_are_consumed() -> None:
    parsed = parse_kms_uri("aws:///k?REGION=one&REGION=two&AUTH=implicit")
    assert parsed.params["REGION"] == "one"


def test_azure_vault_url_per_environment() -> None:
    uri = "azure-kms:///k/v?AUTH=implicit&AZURE_VAULT_NAME=myvault"
    assert parse_kms_uri(uri).derived["vault_url"] == "https://myvault.vault.azure.net"
    china = parse_kms_uri(uri + "&AZURE_ENVIRONMENT=azurechinacloud")
    assert china.derived["vault_url"] == "https://myvault.vault.azure.cn"
    assert china.derived["key_version"] == "v"


def test_azure_stack_is_refused_clearly() -> None:
    with pytest.raises(KMSUnsupportedError, match="AzureStackCloud"):
        parse_kms_uri("azure-kms:///k/v?AUTH=implicit&AZURE_VAULT_NAME=v&AZURE_ENVIRONMENT=AzureStackCloud")


def test_external_connection_needs_a_cluster() -> None:
    for call in (parse_kms_uri, open_kms):
        with pytest.raises(KMSUnsupportedError) as info:
            call("external://my_kms_conn")
        assert isinstance(info.value, UnsupportedError)
        assert "'my_kms_conn'" in str(info.value)
        assert "needs a cluster" in str(info.value)
