"""s3:// URI validation: CockroachDB's texts and order (pkg/cloud/amazon/s3_storage.go), no server."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from engine.storage import open_storage
from engine.storage.base import StorageError
from engine.storage.s3 import RoleProvider, endpoint_url, parse_s3_uri

SECRET = "hunter2+/xyz"
OK = f"AWS_ACCESS_KEY_ID=AK&AWS_SECRET_ACCESS_KEY={SECRET}"


def error_of(uri: str) -> str:
    with pytest.raises(StorageError) as info:
        open_storage(uri)
    message = str(info.value)
    assert SECRET not in message and "hunter2" not in message
    return message


@pytest.mark.parametrize(
    ("uri", "cause"),
    [
        (f"s3:///path?{OK}", "empty host component; s3 URI must specify a target bucket"),
        (
            f"s3://b/p?{OK}&AWS_USE_PATH_STYLE=yes",
            'cannot parse AWS_USE_PATH_STYLE as bool: strconv.ParseBool: parsing "yes": invalid syntax',
        ),
        # the bool is parsed before the leftover check, as in parseS3URL
        (
            f"s3://b/p?ZED=1&AWS_USE_PATH_STYLE=2",
            'cannot parse AWS_USE_PATH_STYLE as bool: strconv.ParseBool: parsing "2": invalid syntax',
        ),
        (f"s3://b/p?{OK}&ZED=1&ALPHA=2&REGION=x", "unknown S3 query parameters: ALPHA, REGION, ZED"),
        ("s3://b/p?AWS_SECRET_ACCESS_KEY=hunter2", "AUTH is set to 'specified', but AWS_ACCESS_KEY_ID is not set"),
        ("s3://b/p?AUTH=specified&AWS_ACCESS_KEY_ID=a", "AUTH is set to 'specified', but AWS_SECRET_ACCESS_KEY is not set"),
        ("s3://b/p?AUTH=magic", "unsupported value magic for AUTH"),
        (
            f"s3://b/p?{OK}&AWS_SERVER_ENC_MODE=aws:kms",
            "AWS_SERVER_KMS_ID param must be set when using aws:kms server side encryption mode.",
        ),
        (
            f"s3://b/p?{OK}&AWS_SERVER_ENC_MODE=rot13",
            "unsupported server encryption mode rot13. Supported values are `aws:kms` and `AES256`.",
        ),
        (
            f"s3://b/p?{OK}&AWS_ENDPOINT=127.0.0.1:9000",
            'error parsing URL: parse "127.0.0.1:9000": first path segment in URL cannot contain colon',
        ),
    ],
)
def test_cockroach_error_texts(uri: str, cause: str) -> None:
    message = error_of(uri)
    assert message.startswith(cause + " (storage URI 's3://"), message
    if "AWS_SECRET_ACCESS_KEY=" in uri:
        assert "AWS_SECRET_ACCESS_KEY=redacted" in message


def test_valid_uri_fields() -> None:
    c = parse_s3_uri(
        "s3://bkt/a/b/?AWS_ACCESS_KEY_ID=AK&AWS_SECRET_ACCESS_KEY=ab+cd&AWS_SESSION_TOKEN=tok"
        "&AWS_REGION=eu-west-1&AWS_ENDPOINT=minio.local:9000&AWS_USE_PATH_STYLE=True"
        "&AWS_SERVER_ENC_MODE=aws:kms&AWS_SERVER_KMS_ID=k1&S3_STORAGE_CLASS=STANDARD_IA"
        "&COCKROACH_LOCALITY=default"
        "&ASSUME_ROLE=arn:aws:iam::1:role/a;external_id=x1,arn:aws:iam::1:role/b"
    )
    assert (c.bucket, c.prefix, c.region, c.storage_class) == ("bkt", "a/b/", "eu-west-1", "STANDARD_IA")
    assert c.secret == "ab+cd"  # an unescaped '+' reads as a space; CockroachDB turns it back
    assert c.use_path_style is True
    # Go's url.Parse reads "minio.local:9000" as scheme "minio.local": kept as is (no https://)
    assert c.endpoint_url == "minio.local:9000"
    assert (c.server_enc_mode, c.server_kms_id) == ("aws:kms", "k1")
    assert c.roles == (RoleProvider("arn:aws:iam::1:role/a", "x1"), RoleProvider("arn:aws:iam::1:role/b"))
    assert "ab+cd" not in repr(c) and "tok" not in repr(c)


@pytest.mark.parametrize(
    ("given", "used"),
    [("s3.example.com", "https://s3.example.com"), ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
     ("s3.example.com/base", "https://s3.example.com/base")],
)
def test_endpoint_gets_https_when_schemeless(given: str, used: str) -> None:
    assert endpoint_url(given) == used


def test_implicit_auth_needs_no_keys_and_display_is_redacted() -> None:
    s = open_storage("s3://bkt/coll?AUTH=implicit&AWS_REGION=us-east-1")
    assert s.display_uri == "s3://bkt/coll?AUTH=implicit&AWS_REGION=us-east-1"
    s = open_storage(f"s3://bkt/coll?{OK}&AWS_SESSION_TOKEN=tok3n")
    child = s.child("2026/11/24-020012.34")
    for shown in (s.display_uri, child.display_uri, repr(s), repr(child)):
        assert "hunter2" not in shown and "tok3n" not in shown
    assert child.display_uri.startswith("s3://bkt/coll/2026/11/24-020012.34?")


def test_opening_and_validating_imports_no_sdk() -> None:
    script = textwrap.dedent(
        """
        import sys
        from engine.storage import open_storage
        from engine.storage.base import StorageError
        s = open_storage("s3://bkt/coll?AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=b")
        s.child("x").display_uri
        for bad in ("s3:///x", "s3://b?NOPE=1", "s3://b?AUTH=x"):
            try:
                open_storage(bad)
            except StorageError:
                pass
        print(sorted(m for m in sys.modules if m.startswith(("boto3", "botocore", "engine.kms"))))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
