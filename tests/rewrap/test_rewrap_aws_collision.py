"""Key-id collisions on a real AWS KMS stand-in (moto_server): two keys with the same alias in
two regions share CockroachDB's key id, because MasterKeyID is the URI path alone
(cockroachdb/cockroach pkg/cloud/amazon/aws_kms.go MasterKeyID, and
pkg/backup/backupencryption/encryption.go AddEncryptedDataKey hashing it, commit 200d56f7).
`ADD NEW_KMS = '<eu-west-1 alias>'` must be an error naming the collision, never `already
present`; the key ARN, which names its region, works.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3

import chain_reader as cr
import rewrap_support as rs
from tests.servers.aws import ACCESS_KEY, SECRET, MotoServer


def kms_client(moto: MotoServer, region: str) -> Any:
    return boto3.client(
        "kms", endpoint_url=moto.endpoint, region_name=region,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET,
    )


def aws_uri(moto: MotoServer, key: str, region: str) -> str:
    return f"aws:///{key}?{moto.query(REGION=region)}"


def test_same_alias_in_two_regions_is_a_collision(moto_server: MotoServer, io_dir: Path, coll_dir: Path) -> None:
    alias = f"alias/rewrap-{uuid.uuid4().hex[:8]}"
    east, west = kms_client(moto_server, "us-east-1"), kms_client(moto_server, "eu-west-1")
    east_id = east.create_key()["KeyMetadata"]["KeyId"]
    east.create_alias(AliasName=alias, TargetKeyId=east_id)
    west_meta = west.create_key()["KeyMetadata"]
    west.create_alias(AliasName=alias, TargetKeyId=west_meta["KeyId"])
    east_uri, west_uri = aws_uri(moto_server, alias, "us-east-1"), aws_uri(moto_server, alias, "eu-west-1")
    latest = cr.full_backups(coll_dir)[-1]
    backup_dir = coll_dir / latest.strip("/")

    added = rs.run_sql(io_dir, rs.alter_sql(f"'{east_uri}'"))
    assert added.rows[0][1:3] == ("added", "ENCRYPTION-INFO-2"), added.rows
    before = cr.snapshot(coll_dir)

    # the eu-west-1 key has the same id but cannot decrypt the us-east-1 entry
    result = rs.run_sql(io_dir, rs.alter_sql(f"'{west_uri}'"))
    ((_, status, file, error),) = result.rows
    assert (status, file) == ("failed", None), result.rows
    assert f"its key id {alias!r} is already in ENCRYPTION-INFO-2" in error
    assert "use the key's ARN" in error and "Nothing was written" in error
    assert SECRET not in error
    assert cr.snapshot(coll_dir) == before

    # the same through the installed command: exit 1, nothing written
    out = rs.rewrap_cli(io_dir, "-e", rs.alter_sql(f"'{west_uri}'"))
    assert out.returncode == 1 and "already in ENCRYPTION-INFO-2" in out.stdout + out.stderr
    assert SECRET not in out.stdout + out.stderr
    assert cr.snapshot(coll_dir) == before

    # the ARN names the region: a key id of its own, so it is added
    arn_uri = aws_uri(moto_server, west_meta["Arn"], "eu-west-1")
    by_arn = rs.run_sql(io_dir, rs.alter_sql(f"'{arn_uri}'"))
    assert by_arn.rows[0][1:3] == ("added", "ENCRYPTION-INFO-3")

    # CockroachDB's rule, checked independently: the entry it picks for each key decrypts
    # (with that key's own region) to a data key that opens every manifest of the chain
    for key_id, client in ((alias, east), (west_meta["Arn"], west)):
        wrapped = cr.crdb_wrapped(backup_dir, key_id)
        data_key = client.decrypt(CiphertextBlob=wrapped)["Plaintext"]
        assert cr.open_chain_with(coll_dir, latest, data_key) == 4
    assert cr.crdb_open_chain(coll_dir, latest, "demo-key") == 4
    # and rewrap's SHOW BACKUP opens it with the ARN
    shown = rs.run_sql(io_dir, f"SHOW BACKUP LATEST IN '{rs.COLL_URI}' WITH KMS = '{arn_uri}'")
    assert shown.rows
