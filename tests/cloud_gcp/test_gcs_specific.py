"""What only gs:// has, against fake-gcs-server: CockroachDB's URI and AUTH rules, lazy SDK import,
the redacted display URI, and a stopped server's error text. The shared contract (listing, ranges,
create-only, missing objects) is tests/storage/test_conformance.py."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest

from engine.storage import NotFound, StorageError, StorageSettings, open_storage

from gcp_support import q

TOKEN = "ya29.storage-secret-token"


def settings(gcs: Any) -> StorageSettings:
    return StorageSettings(gcs_endpoint=gcs.endpoint)


@pytest.fixture
def bucket(gcs_server: Any) -> str:
    return gcs_server.new_bucket()


# Texts from cockroachdb/cockroach pkg/cloud/gcp/gcs_storage.go (parseGSURL, makeGCSStorage).
@pytest.mark.parametrize(("uri", "text"), [
    ("gs://b/p?BEARER_TOKEN=t&REGION=x&AWS_ENDPOINT=y", "unknown GS query parameters: AWS_ENDPOINT, REGION"),
    ("gs://b/p", 'CREDENTIALS or BEARER_TOKEN must be set if "AUTH" is "specified"'),
    ("gs://b/p?AUTH=specified", 'CREDENTIALS or BEARER_TOKEN must be set if "AUTH" is "specified"'),
    ("gs://b/p?CREDENTIALS=e30", "error getting credentials from CREDENTIALS: illegal base64 data"),
    ("gs://b/p?CREDENTIALS=bm90IGpzb24=", "error getting credentials from CREDENTIALS: not a JSON key"),
])
def test_uri_errors(uri: str, text: str) -> None:
    with pytest.raises(StorageError) as info:
        open_storage(uri)
    assert text in str(info.value)


def test_credentials_json_must_be_a_service_account(gcs_server: Any) -> None:
    with pytest.raises(StorageError) as info:  # base64('{"type": "service_account"}')
        open_storage("gs://b/p?CREDENTIALS=eyJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCJ9", settings(gcs_server))
    assert str(info.value).startswith("error getting credentials from CREDENTIALS: ")


def test_validation_never_imports_the_sdk() -> None:
    script = textwrap.dedent("""
        import sys
        import engine.storage.gcs as g
        from engine.storage import open_storage, StorageError
        for uri in ("gs://b/p?X=1", "gs://b/p", "gs://b/p?CREDENTIALS=e30"):
            try:
                open_storage(uri)
            except StorageError:
                pass
        print(sorted(m for m in sys.modules if m.startswith(("google", "grpc", "requests"))))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_auth_values_follow_storage_rules(gcs_server: Any, bucket: str, service_account_b64: str) -> None:
    # Storage (unlike gcp_kms.go) has no "unsupported value" check: any AUTH but implicit is
    # treated as specified. Implicit needs nothing else.
    for uri in (f"gs://{bucket}/p?AUTH=bogus&BEARER_TOKEN={TOKEN}",
                f"gs://{bucket}/p?AUTH=implicit&COCKROACH_LOCALITY=region%3Dx",
                f"gs://{bucket}/p?AUTH=specified&CREDENTIALS={q(service_account_b64)}",
                f"gs://{bucket}/p?BEARER_TOKEN={TOKEN}&GOOGLE_BILLING_PROJECT=payer",
                f"gs://{bucket}/p?BEARER_TOKEN={TOKEN}&ASSUME_ROLE=a@p.iam.gserviceaccount.com,b@p.iam.gserviceaccount.com"):
        s = open_storage(uri, settings(gcs_server))
        assert list(s.list()) == []


def test_roundtrip_ranges_and_display(gcs_server: Any, bucket: str) -> None:
    s = open_storage(f"gs://{bucket}/coll/?BEARER_TOKEN={TOKEN}", settings(gcs_server))
    assert s.display_uri == f"gs://{bucket}/coll?BEARER_TOKEN=redacted"
    body = bytes(range(256)) * 40
    s.write_new("2026/11/24-000000.00/BACKUP_MANIFEST", body)
    b = s.child("2026/11/24-000000.00")
    assert b.display_uri == f"gs://{bucket}/coll/2026/11/24-000000.00?BEARER_TOKEN=redacted"
    assert b.read("BACKUP_MANIFEST") == body
    assert b.size("BACKUP_MANIFEST") == len(body)
    assert b.read_range("BACKUP_MANIFEST", 1000, 17) == body[1000:1017]
    assert b.read_range("BACKUP_MANIFEST", len(body) - 5, 100) == body[-5:]
    assert b.read_range("BACKUP_MANIFEST", len(body) + 10, 4) == b""
    assert b.read_range("BACKUP_MANIFEST", 3, 0) == b""
    # the SDK sees exactly what we wrote, at the key the URI names
    assert gcs_server.client().bucket(bucket).blob("coll/2026/11/24-000000.00/BACKUP_MANIFEST").download_as_bytes() == body


def test_stopped_server_fails_fast_without_secrets() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = open_storage(f"gs://bkt/p?BEARER_TOKEN={TOKEN}", StorageSettings(gcs_endpoint=f"http://127.0.0.1:{port}"))
    with pytest.raises(StorageError) as info:
        s.read("ENCRYPTION-INFO")
    assert not isinstance(info.value, NotFound)
    assert "gs://bkt/p/ENCRYPTION-INFO" in str(info.value) and TOKEN not in str(info.value)
