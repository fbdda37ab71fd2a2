"""Session fixtures for the Azure stand-ins: azurite (Blob) and our fake Key Vault.

azurite 3.37.0 comes from npm (package.json / package-lock.json at the repo root; scripts/test
runs `npm ci`). It is started as `node_modules/.bin/azurite-blob` in memory with telemetry off and
`--skipApiVersionCheck` (azure-storage-blob 12.31 sends an x-ms-version azurite does not know). The fake Key Vault is tests/servers/fake_keyvault.py in a subprocess
(HTTPS with a CA made at start-up). Both bind 127.0.0.1 on a free port and are stopped (terminate,
then kill) at session end; under pytest-xdist every worker has its own pair, and tests use
unique container / key names.
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.servers.process import free_port, stop, wait_until_ready

ROOT = Path(__file__).resolve().parents[2]
FAKE_VAULT_SCRIPT = Path(__file__).with_name("fake_keyvault.py")
# azurite's well-known development account (public, documented by Microsoft; not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_binary() -> str | None:
    local = ROOT / "node_modules" / ".bin" / "azurite-blob"
    if local.exists():
        return str(local)
    return shutil.which("azurite-blob")


@dataclass(frozen=True)
class Azurite:
    endpoint: str  # http://127.0.0.1:PORT/devstoreaccount1
    account: str = DEV_ACCOUNT
    key: str = DEV_KEY

    def service(self) -> Any:
        """An SDK client for test setup and independent checks (not our code)."""
        from azure.storage.blob import BlobServiceClient

        return BlobServiceClient(
            self.endpoint, credential={"account_name": self.account, "account_key": self.key}
        )

    def new_container(self, stem: str = "ctr") -> str:
        name = f"{stem}-{uuid.uuid4().hex[:12]}"
        self.service().create_container(name)
        return name

    def connection_string(self) -> str:
        """Endpoint and credential in one (REWRAP_TEST_AZURE_BLOB_ENDPOINT's second form)."""
        return (f"DefaultEndpointsProtocol=http;AccountName={self.account};AccountKey={self.key};"
                f"BlobEndpoint={self.endpoint};")

    def uri(self, container: str, path: str = "", scheme: str = "azure-blob") -> str:
        """A storage URI CockroachDB would accept (account key percent-encoded)."""
        return (
            f"{scheme}://{container}/{path.strip('/')}?AZURE_ACCOUNT_NAME={self.account}"
            f"&AZURE_ACCOUNT_KEY={quote(self.key, safe='')}"
        )


@dataclass(frozen=True)
class FakeVault:
    url: str  # https://127.0.0.1:PORT
    ca: str  # PEM of the CA that signed its certificate

    def key_client(self) -> Any:
        from azure.keyvault.keys import KeyClient

        from engine.kms.azure import StaticTestCredential

        return KeyClient(self.url, StaticTestCredential(), verify_challenge_resource=False,
                         connection_verify=self.ca)

    def create_key(self, stem: str = "key", **kw: Any) -> tuple[str, str]:
        """A new RSA key: (name, version)."""
        key = self.key_client().create_rsa_key(f"{stem}-{uuid.uuid4().hex[:10]}", size=2048, **kw)
        return key.name, key.properties.version

    def stats(self) -> dict[str, int]:
        import json
        import ssl
        import urllib.request

        ctx = ssl.create_default_context(cafile=self.ca)
        with urllib.request.urlopen(f"{self.url}/_test/stats", context=ctx, timeout=5) as r:
            return dict(json.loads(r.read()))

    def env(self) -> dict[str, str]:
        """REWRAP_TEST_* variables that point the `rewrap` command at this vault."""
        return {
            "REWRAP_TEST_AZURE_VAULT_URL": self.url,
            "REWRAP_TEST_AZURE_TLS_CA": self.ca,
            "REWRAP_TEST_AZURE_CREDENTIAL": "static",
        }

    def kms_env(self) -> Any:
        from engine.kms import KMSEnv

        return KMSEnv(azure_vault_url=self.url, azure_tls_ca=self.ca, azure_credential="static")


def _azurite_answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", f"/{DEV_ACCOUNT}?comp=list")
        conn.getresponse().read()
        return True
    finally:
        conn.close()


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    exe = azurite_binary()
    if exe is None:
        pytest.skip("azurite is not installed (run `npm ci` at the repo root; scripts/test does)")
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="rewrap-azurite-", suffix=".log")[1])
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [exe, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence",
             "--disableTelemetry", "--silent", "--skipApiVersionCheck"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT,
        )
    try:
        wait_until_ready(lambda: _azurite_answers(port), proc, "azurite-blob", log=log)
        yield Azurite(f"http://127.0.0.1:{port}/{DEV_ACCOUNT}")
    finally:
        stop(proc)
        log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def fake_vault() -> Iterator[FakeVault]:
    directory = tempfile.mkdtemp(prefix="rewrap-fake-vault-")
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_VAULT_SCRIPT), "--dir", directory],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("READY "):
            raise RuntimeError(f"fake Key Vault did not start (exit {proc.poll()}): {line!r}")
        port = int(line.split()[1])
        yield FakeVault(f"https://127.0.0.1:{port}", os.path.join(directory, "ca.pem"))
    finally:
        stop(proc)
        shutil.rmtree(directory, ignore_errors=True)
