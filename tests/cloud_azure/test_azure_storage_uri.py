"""azure-blob:// URI validation: CockroachDB's texts and order (pkg/cloud/azure/azure_storage.go
parseAzureURL / azureAuthMethod / makeAzureStorage), secrets never shown, no SDK imported."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from engine.storage import StorageSettings
from engine.storage.azure import parse_azure_uri
from engine.storage.base import StorageError
from engine.storage.registry import open_storage

KEY = "c2VjcmV0LWFjY291bnQta2V5LXZhbHVl"  # base64 of a made-up key
SECRET = "client-secret-value-42"
ROLE = f"AZURE_TENANT_ID=t&AZURE_CLIENT_ID=c&AZURE_CLIENT_SECRET={SECRET}"
EXPLICIT = (
    'explicit azure uri requires exactly one authentication method: "AZURE_ACCOUNT_KEY" OR all '
    'three of "AZURE_TENANT_ID", "AZURE_CLIENT_ID", and "AZURE_CLIENT_SECRET"'
)

ERRORS = [
    ("azure-blob://ctr/p?AUTH=bogus&AZURE_ACCOUNT_NAME=a", "unsupported value bogus for AUTH"),
    (f"azure-blob://ctr/p?AZURE_ACCOUNT_NAME=a&AZURE_ACCOUNT_KEY={KEY}&REGION=x&AWS_X=1",
     "unknown azure query parameters: AWS_X, REGION"),
    # unknown params are checked before the missing account name, as in parseAzureURL
    ("azure-blob://ctr/p?FOO=1", "unknown azure query parameters: FOO"),
    (f"azure-blob://ctr/p?AZURE_ACCOUNT_KEY={KEY}", 'azure uri missing "AZURE_ACCOUNT_NAME" parameter'),
    ("azure-blob://ctr/p?AZURE_ACCOUNT_NAME=a", EXPLICIT),
    ("azure-blob://ctr/p?AZURE_ACCOUNT_NAME=a&AZURE_TENANT_ID=t&AZURE_CLIENT_ID=c", EXPLICIT),
    (f"azure-blob://ctr/p?AZURE_ACCOUNT_NAME=a&AZURE_ACCOUNT_KEY={KEY}&AZURE_CLIENT_ID=c", EXPLICIT),
    (f"azure-blob://ctr/p?AUTH=specified&AZURE_ACCOUNT_NAME=a&AZURE_ACCOUNT_KEY={KEY}&{ROLE}", EXPLICIT),
    (f"azure-blob://ctr/p?AUTH=implicit&AZURE_ACCOUNT_NAME=a&AZURE_ACCOUNT_KEY={KEY}&{ROLE}",
     "implicit azure auth does not support uri param AZURE_ACCOUNT_KEY, AZURE_TENANT_ID, "
     "AZURE_CLIENT_ID, AZURE_CLIENT_SECRET"),
    ("azure-blob://ctr/p?AUTH=implicit&AZURE_ACCOUNT_NAME=a&AZURE_CLIENT_ID=c",
     "implicit azure auth does not support uri param AZURE_CLIENT_ID"),
]


@pytest.mark.parametrize(("uri", "text"), ERRORS)
def test_validation_texts(uri: str, text: str) -> None:
    with pytest.raises(StorageError) as info:
        parse_azure_uri(uri)
    message = str(info.value)
    assert message.startswith(text)
    assert KEY not in message and SECRET not in message


@pytest.mark.parametrize("scheme", ["azure-blob", "azure", "azure-storage"])
def test_schemes_and_auth_kinds(scheme: str) -> None:
    legacy = parse_azure_uri(f"{scheme}://ctr/a/b/?AZURE_ACCOUNT_NAME=acct&AZURE_ACCOUNT_KEY={KEY}")
    assert (legacy.container, legacy.prefix, legacy.auth) == ("ctr", "a/b/", "legacy")
    explicit = parse_azure_uri(f"{scheme}://ctr?AUTH=specified&AZURE_ACCOUNT_NAME=acct&{ROLE}")
    assert (explicit.auth, explicit.prefix) == ("explicit", "")
    implicit = parse_azure_uri(f"{scheme}://ctr//x?AUTH=implicit&AZURE_ACCOUNT_NAME=acct&COCKROACH_LOCALITY=a")
    assert (implicit.auth, implicit.prefix) == ("implicit", "x")
    assert SECRET not in repr(explicit) and KEY not in repr(legacy)


@pytest.mark.parametrize(
    ("env", "url"),
    [
        ("", "https://acct.blob.core.windows.net"),
        ("AzurePublicCloud", "https://acct.blob.core.windows.net"),
        ("azurechinacloud", "https://acct.blob.core.chinacloudapi.cn"),
        ("AzureUSGovernmentCloud", "https://acct.blob.core.usgovcloudapi.net"),
        ("AzureGermanCloud", "https://acct.blob.core.cloudapi.de"),
    ],
)
def test_environment_decides_blob_dns_suffix(env: str, url: str) -> None:
    cfg = parse_azure_uri(f"azure-blob://ctr?AZURE_ACCOUNT_NAME=acct&AZURE_ACCOUNT_KEY={KEY}&AZURE_ENVIRONMENT={env}")
    assert cfg.endpoint()[0] == url


def test_unknown_environment_is_refused_at_open() -> None:
    uri = f"azure-blob://ctr?AZURE_ACCOUNT_NAME=acct&AZURE_ACCOUNT_KEY={KEY}&AZURE_ENVIRONMENT=Moon"
    with pytest.raises(StorageError) as info:
        open_storage(uri, StorageSettings())
    assert str(info.value).startswith(
        'azure environment: autorest/azure: There is no cloud environment matching the name "MOON"'
    )


def test_bad_account_key_names_the_param_not_the_value() -> None:
    uri = "azure-blob://ctr?AZURE_ACCOUNT_NAME=acct&AZURE_ACCOUNT_KEY=not*base64"
    with pytest.raises(StorageError) as info:
        open_storage(uri, StorageSettings())
    assert "AZURE_ACCOUNT_KEY is not valid base64" in str(info.value)
    assert "not*base64" not in str(info.value)


def test_display_uri_has_no_secret() -> None:
    with open_storage(f"azure-blob://ctr/coll?AZURE_ACCOUNT_NAME=acct&AZURE_ACCOUNT_KEY={KEY}",
                      StorageSettings()) as st:
        assert st.display_uri == "azure-blob://ctr/coll"
        assert st.child("2026/11/24-020012.34").display_uri == "azure-blob://ctr/coll/2026/11/24-020012.34"
    with open_storage(f"azure://ctr?AUTH=specified&AZURE_ACCOUNT_NAME=acct&{ROLE}", StorageSettings()) as st:
        assert SECRET not in st.display_uri and SECRET not in repr(st)


def test_validating_and_importing_does_not_load_the_sdk() -> None:
    code = textwrap.dedent(
        f"""
        import sys
        import engine.storage.azure as az
        az.parse_azure_uri("azure-blob://c/p?AZURE_ACCOUNT_NAME=a&AZURE_ACCOUNT_KEY={KEY}")
        az.parse_azure_uri("azure://c/p?AUTH=implicit&AZURE_ACCOUNT_NAME=a")
        try:
            az.parse_azure_uri("azure-blob://c/p?AZURE_ACCOUNT_NAME=a")
        except az.StorageError:
            pass
        print(sorted(m for m in sys.modules if m.split(".")[0] == "azure"))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
