"""End to end on azurite (Blob) + the fake Key Vault through the installed `rewrap` command.

A demo collection is written to a container under an "old" Key Vault key; ALTER BACKUP LATEST and
ALTER BACKUP ALL add a "new" key; SHOW BACKUP with the new key shows the contents; every chain is
then checked with the independent reader (tests/crdb_fixtures.py): blobs fetched with the
azure-storage-blob SDK, the data key unwrapped in the vault with the azure-keyvault-keys SDK
(RSA-OAEP-256), manifests decrypted with AES-GCM directly. Plus six concurrent ALTERs that all
land, and CockroachDB's documented Azure example run unchanged except for where the endpoints
point. No account key and no client secret ever reaches stdout/stderr.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

import tests.crdb_fixtures as fx
from engine.demo import write_demo_collection
from engine.storage import StorageSettings, open_storage
from tests.servers.azure import Azurite, FakeVault

REWRAP = str(Path(sys.executable).parent / "rewrap")
CLIENT_SECRET = "kv-e2e-client-secret-9d2c"


def kms_uri(name: str, version: str) -> str:
    return (f"azure-kms:///{name}/{version}?AZURE_TENANT_ID=tenant&AZURE_CLIENT_ID=client"
            f"&AZURE_CLIENT_SECRET={CLIENT_SECRET}&AZURE_VAULT_NAME=rewrapvault")


class Env:
    """The two stand-ins, and the `rewrap` command pointed at them by REWRAP_TEST_* variables."""

    def __init__(self, azurite: Azurite, vault: FakeVault, *, blob_endpoint: str | None = None) -> None:
        self.azurite, self.vault = azurite, vault
        self.env = {**os.environ, **vault.env(),
                    "REWRAP_TEST_AZURE_BLOB_ENDPOINT": blob_endpoint or azurite.endpoint}
        self.settings = StorageSettings(azure_blob_endpoint=blob_endpoint or azurite.endpoint)

    def check_no_secret(self, text: str) -> None:
        assert CLIENT_SECRET not in text, "client secret leaked"
        assert self.azurite.key not in text and "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq" not in text

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([REWRAP, "--format", "json", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=self.env)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        p = subprocess.run([REWRAP, *args], capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL, env=self.env)
        self.check_no_secret(p.stdout + p.stderr)
        return p

    def rows(self, *args: str) -> list[dict[str, Any]]:
        p = self.run("--format", "json", *args)
        assert p.returncode == 0, p.stderr
        return [json.loads(line) for line in p.stdout.splitlines()]

    def write_demo(self, coll: str, old: tuple[str, str], **kw: Any) -> None:
        with open_storage(coll, self.settings) as st:
            write_demo_collection(st, kms_uri=kms_uri(*old), kms_env=self.vault.kms_env(), **kw)

    def check_chain(self, container: str, coll: str, subdir: str, key: tuple[str, str]) -> int:
        """Open one chain with `key` using only the SDKs + crdb_fixtures; returns manifests read."""
        from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm

        from engine.kms.azure import StaticTestCredential

        cc = self.azurite.service().get_container_client(container)
        base = "/".join(p for p in (coll, subdir.strip("/")) if p) + "/"
        names = [b.name for b in cc.list_blobs(name_starts_with=base + "ENCRYPTION-INFO")]
        digest = hashlib.sha256(key[0].encode()).digest()  # MasterKeyID = key name only
        found = []
        for n in names:
            info = cc.download_blob(n).readall()
            entries = {fx.field_values(e, 1)[0]: fx.field_values(e, 2)[0] for e in fx.field_values(info, 3)}
            if digest in entries:
                found.append(entries[digest])
        assert len(found) == 1, f"{key[0]} in {len(found)} of {names}"
        vault_key = CryptographyClient(f"{self.vault.url}/keys/{key[0]}/{key[1]}", StaticTestCredential(),
                                       verify_challenge_resource=False, connection_verify=self.vault.ca)
        data_key = vault_key.decrypt(EncryptionAlgorithm.rsa_oaep_256, found[0]).plaintext
        inc_prefix = "/".join(p for p in (coll, "incrementals", subdir.strip("/")) if p) + "/"
        manifests = [base + "BACKUP_MANIFEST"] + [
            b.name for b in cc.list_blobs(name_starts_with=inc_prefix) if b.name.endswith("/BACKUP_MANIFEST")
        ]
        for m in manifests:
            plain = gzip.decompress(fx.open_encrypted(data_key, cc.download_blob(m).readall()))
            assert b"users" in plain and b"promo_codes" in plain
        return len(manifests)


@pytest.fixture(scope="module")
def env(azurite: Azurite, fake_vault: FakeVault) -> Env:
    return Env(azurite, fake_vault)


@pytest.fixture(scope="module")
def demo(env: Env) -> dict[str, Any]:
    container = env.azurite.new_container("e2e")
    old, new = env.vault.create_key("old"), env.vault.create_key("new")
    coll = env.azurite.uri(container, "coll")
    env.write_demo(coll, old, seed=7, incrementals=1)
    return {"container": container, "coll": coll, "old": old, "new": new}


def test_alter_latest_then_all_then_show_with_new_key(env: Env, demo: dict[str, Any]) -> None:
    coll, old_uri, new_uri = demo["coll"], kms_uri(*demo["old"]), kms_uri(*demo["new"])
    fulls = [r["path"] for r in env.rows("-e", f"SHOW BACKUPS IN '{coll}'")]
    assert len(fulls) == 3

    latest = env.rows("-e", f"ALTER BACKUP LATEST IN '{coll}' ADD NEW_KMS = '{new_uri}' WITH OLD_KMS = '{old_uri}'")
    assert [(r["backup"], r["status"], r["file"]) for r in latest] == [(fulls[-1], "added", "ENCRYPTION-INFO-2")]

    every = env.rows("-e", f"ALTER BACKUP ALL IN '{coll}' ADD NEW_KMS = '{new_uri}' WITH OLD_KMS = '{old_uri}'")
    assert sorted((r["backup"], r["status"]) for r in every) == [
        (fulls[0], "added"), (fulls[1], "added"), (fulls[2], "already present"),
    ]

    shown = env.rows("-e", f"SHOW BACKUP LATEST IN '{coll}' WITH KMS = '{new_uri}'")
    names = {r["object_name"] for r in shown}
    assert {"movr", "public", "users", "vehicles", "rides", "promo_codes"} <= names
    users = [r for r in shown if r["object_name"] == "users"]
    assert users[0]["backup_type"] == "full" and users[0]["rows"] == 500 and len(users) == 2

    for subdir in fulls:  # the independent reader, with the new key and with the old one
        assert env.check_chain(demo["container"], "coll", subdir, demo["new"]) == 2
        assert env.check_chain(demo["container"], "coll", subdir, demo["old"]) == 2


def test_wrong_old_key_fails_cleanly_and_names_the_uri(env: Env, demo: dict[str, Any]) -> None:
    stranger, other_new = env.vault.create_key("stranger"), env.vault.create_key("other")
    p = env.run("-e", f"ALTER BACKUP LATEST IN '{demo['coll']}' ADD NEW_KMS = '{kms_uri(*other_new)}' "
                      f"WITH OLD_KMS = '{kms_uri(*stranger)}'")
    assert p.returncode != 0 and "added" not in p.stdout
    assert "no key in OLD_KMS matches a key that was previously used to encrypt the backup" in p.stderr
    assert stranger[0] in p.stderr and "AZURE_CLIENT_SECRET=redacted" in p.stderr
    assert "Traceback" not in p.stderr


def test_concurrent_alters_all_land(env: Env) -> None:
    container = env.azurite.new_container("race")
    old = env.vault.create_key("race-old")
    new_keys = [env.vault.create_key(f"race{i}") for i in range(6)]
    coll = env.azurite.uri(container, "c")
    env.write_demo(coll, old, seed=5, full_backups=1, incrementals=1)
    procs = [
        env.popen("-e", f"ALTER BACKUP LATEST IN '{coll}' ADD NEW_KMS = '{kms_uri(*k)}' "
                        f"WITH OLD_KMS = '{kms_uri(*old)}'")
        for k in new_keys
    ]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    for out, err, code in results:
        assert code == 0, err
        env.check_no_secret(out + err)
        assert json.loads(out)["status"] == "added"
    subdir = env.rows("-e", f"SHOW BACKUPS IN '{coll}'")[0]["path"]
    cc = env.azurite.service().get_container_client(container)
    infos = [b.name.rsplit("/", 1)[1] for b in cc.list_blobs(name_starts_with=f"c{subdir}/ENCRYPTION-INFO")]
    assert sorted(infos) == sorted(["ENCRYPTION-INFO"] + [f"ENCRYPTION-INFO-{n}" for n in range(2, 8)])
    for k in new_keys + [old]:
        assert env.check_chain(container, "c", subdir, k) == 2


def test_cockroach_docs_azure_example_runs_unchanged(azurite: Azurite, fake_vault: FakeVault) -> None:
    """cockroachdb/docs src/current/v24.3/alter-backup.md, "Add an Azure KMS key to an encrypted
    backup": both statements as written there with the {placeholders} filled in. Only where the
    endpoints point changes, through the test-only settings: REWRAP_TEST_AZURE_BLOB_ENDPOINT is
    azurite's connection string (azurite has no Azure AD over http, so the URI's client-secret
    auth is replaced by azurite's account key) and REWRAP_TEST_AZURE_VAULT_URL / _CREDENTIAL
    point Key Vault calls at the fake vault."""
    env = Env(azurite, fake_vault, blob_endpoint=azurite.connection_string())
    container = azurite.new_container("docs")
    old, new = fake_vault.create_key("docs-old"), fake_vault.create_key("docs-new")
    collection_uri = (
        f"azure-blob://{container}?AUTH=specified&AZURE_ACCOUNT_NAME=devstoreaccount1"
        f"&AZURE_CLIENT_ID=client-{uuid.uuid4().hex[:6]}&AZURE_CLIENT_SECRET={CLIENT_SECRET}"
        "&AZURE_TENANT_ID=tenant-1"
    )

    def kms(key: tuple[str, str]) -> str:
        return (f"azure-kms:///{key[0]}/{key[1]}?AZURE_TENANT_ID=tenant-1&AZURE_CLIENT_ID=client-1"
                f"&AZURE_CLIENT_SECRET={CLIENT_SECRET}&AZURE_VAULT_NAME=docsvault")

    env.write_demo(collection_uri, old, seed=3, full_backups=2, incrementals=1)
    first = env.rows("-e", f"SHOW BACKUPS IN '{collection_uri}'")[0]["path"].strip("/")
    latest_sql = (
        f"ALTER BACKUP LATEST IN '{collection_uri}'\n"
        f"    ADD NEW_KMS = '{kms(new)}'\n"
        f"    WITH OLD_KMS = '{kms(old)}';\n"
    )
    subdir_sql = (
        f"ALTER BACKUP '{first}' IN '{collection_uri}'\n"
        f"    ADD NEW_KMS = '{kms(new)}'\n"
        f"    WITH OLD_KMS = '{kms(old)}';\n"
    )
    out = env.rows("-e", latest_sql + subdir_sql)
    assert [r["status"] for r in out] == ["added", "added"]
    for r in env.rows("-e", f"SHOW BACKUPS IN '{collection_uri}'"):
        assert env.check_chain(container, "", r["path"], new) == 2
