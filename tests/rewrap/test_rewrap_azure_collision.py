"""Key-id collision on the Key Vault stand-in (tests/servers/fake_keyvault.py): CockroachDB's
Azure MasterKeyID is the key name without its version (cockroachdb/cockroach
pkg/cloud/azure/azure_kms.go; hashed by pkg/backup/backupencryption/encryption.go
AddEncryptedDataKey, commit 200d56f7), so `name/v1` and `name/v2` share one ENCRYPTION-INFO
entry. Adding v2 when v1 is stored must be an error with what to use instead, never `already
present`."""

from __future__ import annotations

from pathlib import Path

import chain_reader as cr
import rewrap_support as rs
from tests.servers.azure import FakeVault

SECRET = "kv-collision-client-secret-31f"


def azure_uri(name: str, version: str) -> str:
    return (f"azure-kms:///{name}/{version}?AZURE_TENANT_ID=tenant&AZURE_CLIENT_ID=client"
            f"&AZURE_CLIENT_SECRET={SECRET}&AZURE_VAULT_NAME=rewrapvault")


def test_another_version_of_the_same_key_is_a_collision(fake_vault: FakeVault, io_dir: Path, coll_dir: Path) -> None:
    name, v1 = fake_vault.create_key("rw")
    v2 = fake_vault.key_client().create_rsa_key(name, size=2048).properties.version
    assert v1 != v2
    env = fake_vault.kms_env()
    added = rs.run_sql(io_dir, rs.alter_sql(f"'{azure_uri(name, v1)}'"), kms_env=env)
    assert added.rows[0][1:3] == ("added", "ENCRYPTION-INFO-2"), added.rows
    before = cr.snapshot(coll_dir)
    result = rs.run_sql(io_dir, rs.alter_sql(f"'{azure_uri(name, v2)}'"), kms_env=env)
    ((_, status, file, error),) = result.rows
    assert (status, file) == ("failed", None), result.rows
    assert f"its key id {name!r} is already in ENCRYPTION-INFO-2" in error
    assert "a key with a name of its own" in error and SECRET not in error
    assert cr.snapshot(coll_dir) == before
    # v1 itself is proven present (one decrypt in the vault), not just matched by name
    again = rs.run_sql(io_dir, rs.alter_sql(f"'{azure_uri(name, v1)}'"), kms_env=env)
    assert again.rows[0][1:3] == ("already present", None)
