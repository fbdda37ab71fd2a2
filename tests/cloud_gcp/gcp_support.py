"""Helpers for the Google Cloud tests: service-account keys, CLI runs, bucket downloads."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REWRAP = str(Path(sys.executable).parent / "rewrap")


def service_account_b64() -> str:
    """base64 of a well-formed service-account JSON key (a fresh RSA key, nobody's account)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    info = {
        "type": "service_account",
        "project_id": "rewrap-test",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": "rewrap-test@rewrap-test.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    return base64.b64encode(json.dumps(info).encode()).decode()


def q(value: str) -> str:
    """Percent-encode a query value (base64 has '+', '/' and '=')."""
    return quote(value, safe="")


def cli_env(tmp: Path, gcs: Any, kms: Any) -> dict[str, str]:
    return {
        **os.environ,
        "REWRAP_EXTERNAL_IO_DIR": str(tmp / "extern"),
        "REWRAP_DATA_DIR": str(tmp / "data"),
        "REWRAP_TEST_GCS_ENDPOINT": gcs.endpoint,
        "REWRAP_TEST_GCP_KMS_ENDPOINT": kms.address,
    }


def rewrap(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([REWRAP, *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)


def download(gcs: Any, bucket: str, prefix: str, dest: Path) -> Path:
    """Copy every object under gs://bucket/prefix/ into dest with the SDK (not our storage)."""
    for blob in gcs.client().bucket(bucket).list_blobs(prefix=prefix.rstrip("/") + "/"):
        path = dest / blob.name[len(prefix.rstrip("/")) + 1:]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob.download_as_bytes())
    return dest
