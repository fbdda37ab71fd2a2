"""Session fixture for the AWS stand-in: a real `moto_server` (S3 + KMS + STS) on 127.0.0.1.

The binary is the venv's own (`moto[server]` is in the test extra), started on a free port, polled
until `/moto-api/` answers, and stopped at session end (terminate, then kill). With pytest-xdist
each worker starts its own server; tests use unique bucket names and their own KMS keys.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers.process import free_port, stop, wait_until_ready

ACCESS_KEY = "AKIAMOTOTEST"
# Looks like a real secret (with '+' and '/') so leak checks mean something.
SECRET = "mOtO+SeCrEt/Value1234567890abcdefGHIJ"
REGION = "us-east-1"


def moto_binary() -> str | None:
    """`moto_server` next to this interpreter (the venv), else on PATH."""
    local = Path(sys.executable).parent / "moto_server"
    if local.exists():
        return str(local)
    return shutil.which("moto_server")


@dataclass
class MotoServer:
    """A running moto server and boto3 clients for arranging test state."""

    endpoint: str
    process: subprocess.Popen[bytes]

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET,
        )

    def new_bucket(self, stem: str = "bkt") -> str:
        name = f"{stem}-{uuid.uuid4().hex[:12]}"
        self.client("s3").create_bucket(Bucket=name)
        return name

    def new_key(self, alias: str | None = None) -> str:
        """A fresh symmetric KMS key; returns its id (and creates `alias` for it if given)."""
        kms = self.client("kms")
        key_id = str(kms.create_key()["KeyMetadata"]["KeyId"])
        if alias:
            kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        return key_id

    def query(self, **extra: str) -> str:
        """Query string with the endpoint and credentials (values as typed in a URI)."""
        from urllib.parse import quote

        params = {
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET,
            **extra,
        }
        return "&".join(f"{k}={quote(v, safe=':/')}" for k, v in params.items())

    def s3_uri(self, bucket: str, path: str = "", **extra: str) -> str:
        return f"s3://{bucket}/{path.strip('/')}?{self.query(**extra)}"

    def kms_uri(self, key: str, scheme: str = "aws", **extra: str) -> str:
        return f"{scheme}:///{key}?{self.query(REGION=REGION, **extra)}"


def _moto_answers(endpoint: str) -> bool:
    with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1) as r:
        return bool(r.status == 200)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    binary = moto_binary()
    if binary is None:
        pytest.skip("moto_server not found (install the test extra: pip install -e '.[test]')")
    port = free_port()
    process = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(lambda: _moto_answers(endpoint), process, "moto_server", timeout=20)
        yield MotoServer(endpoint, process)
    finally:
        stop(process)
