"""Cross-cloud: a collection in S3 (moto) under an AWS KMS key gains a Key Vault key.

The issue's cross-cloud case, through the installed `rewrap` command: storage and the two KMSs
live in different clouds, and afterwards every backup of every chain opens with the Key Vault key
alone (checked by the engine) and still with the AWS key.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from engine.demo import write_demo_collection
from engine.storage import open_storage
from tests.servers.aws import SECRET, MotoServer
from tests.servers.azure import FakeVault

REWRAP = str(Path(sys.executable).parent / "rewrap")
CLIENT_SECRET = "Vault+Client/Secret~value"


def vault_uri(name: str, version: str) -> str:
    return (
        f"azure-kms:///{name}/{version}?AZURE_VAULT_NAME=rewrap-test&AZURE_TENANT_ID=tenant"
        f"&AZURE_CLIENT_ID=client&AZURE_CLIENT_SECRET={CLIENT_SECRET.replace('+', '%2B')}"
    )


def test_s3_collection_gains_a_key_vault_key(
    moto_server: MotoServer, fake_vault: FakeVault, tmp_path: Path
) -> None:
    bucket = moto_server.new_bucket("cross")
    moto_server.new_key("alias/cross-old")
    coll = moto_server.s3_uri(bucket, "backups")
    old = moto_server.kms_uri("alias/cross-old")
    new = vault_uri(*fake_vault.create_key("cross-new"))
    write_demo_collection(open_storage(coll), kms_uri=old, seed=5, full_backups=2, incrementals=2)

    env = {**os.environ, **fake_vault.env(), "REWRAP_DATA_DIR": str(tmp_path)}

    def rewrap(sql: str) -> subprocess.CompletedProcess[str]:
        p = subprocess.run([REWRAP, "--format", "json", "-e", sql], capture_output=True,
                           text=True, env=env, timeout=120)
        assert SECRET not in p.stdout + p.stderr and CLIENT_SECRET not in p.stdout + p.stderr
        return p

    p = rewrap(f"ALTER BACKUP ALL IN '{coll}' ADD NEW_KMS = '{new}' WITH OLD_KMS = '{old}'")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert [r["status"] for r in rows] == ["added", "added"]

    for r in rows:
        for key in (new, old):
            shown = rewrap(f"SHOW BACKUP '{r['backup']}' IN '{coll}' WITH KMS = '{key}'")
            assert shown.returncode == 0, shown.stderr
            objects = [json.loads(line) for line in shown.stdout.splitlines()]
            assert {o["backup_type"] for o in objects} == {"full", "incremental"}
            assert "users" in {o["object_name"] for o in objects}
    audit = (tmp_path / "audit.jsonl").read_text()
    assert SECRET not in audit and CLIENT_SECRET not in audit and len(audit.splitlines()) == 2
