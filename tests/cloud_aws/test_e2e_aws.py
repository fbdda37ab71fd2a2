"""End to end on moto S3 + KMS through the installed `rewrap` command.

A demo collection is written to a bucket under alias/old; ALTER BACKUP LATEST and ALTER BACKUP
ALL add alias/new; SHOW BACKUP with alias/new shows the contents; every backup is then checked
with the independent reader (tests/crdb_fixtures.py): objects fetched with boto3, the data key
unwrapped with boto3 kms.decrypt, manifests decrypted with AES-GCM directly. Plus: six concurrent
ALTERs with six keys all land, and CockroachDB's documented AWS example runs unchanged except
for AWS_ENDPOINT and credentials pointing at moto. The secret key never reaches stdout/stderr.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

import tests.crdb_fixtures as fx
from engine.demo import write_demo_collection
from engine.storage import open_storage
from tests.servers.aws import ACCESS_KEY, REGION, SECRET, MotoServer

REWRAP = str(Path(sys.executable).parent / "rewrap")


def rewrap(*args: str) -> subprocess.CompletedProcess[str]:
    p = subprocess.run([REWRAP, *args], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert SECRET not in p.stdout and SECRET not in p.stderr, "secret access key leaked"
    return p


def rows(*args: str) -> list[dict[str, Any]]:
    p = rewrap("--format", "json", *args)
    assert p.returncode == 0, p.stderr
    return [json.loads(line) for line in p.stdout.splitlines()]


def kms_entries(data: bytes) -> dict[bytes, bytes]:
    """ENCRYPTION-INFO map parsed by hand: field 3 entries of (1: sha256(id), 2: wrapped key)."""
    out = {}
    for entry in fx.field_values(data, 3):
        out[fx.field_values(entry, 1)[0]] = fx.field_values(entry, 2)[0]
    return out


def check_chain(moto: MotoServer, bucket: str, coll: str, subdir: str, key_id: str) -> int:
    """Open one chain with `key_id` using only boto3 + crdb_fixtures; returns manifests read."""
    s3, kms = moto.client("s3"), moto.client("kms")
    base = "/".join(p for p in (coll, subdir.strip("/")) if p) + "/"
    names = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=base + "ENCRYPTION-INFO")["Contents"]]
    digest = hashlib.sha256(key_id.encode()).digest()
    wrapped = [kms_entries(s3.get_object(Bucket=bucket, Key=n)["Body"].read()).get(digest) for n in names]
    found = [w for w in wrapped if w is not None]
    assert len(found) == 1, f"{key_id} in {len(found)} of {names}"
    data_key = kms.decrypt(CiphertextBlob=found[0], KeyId=key_id)["Plaintext"]
    manifests = [base + "BACKUP_MANIFEST"] + [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=bucket, Prefix=base.replace(subdir.strip("/"), "incrementals/" + subdir.strip("/"), 1)).get("Contents", [])
        if o["Key"].endswith("/BACKUP_MANIFEST")
    ]
    for m in manifests:
        plain = gzip.decompress(fx.open_encrypted(data_key, s3.get_object(Bucket=bucket, Key=m)["Body"].read()))
        assert b"users" in plain and b"promo_codes" in plain
    return len(manifests)


@pytest.fixture(scope="module")
def demo(moto_server: MotoServer) -> dict[str, str]:
    bucket = moto_server.new_bucket("e2e")
    tag = uuid.uuid4().hex[:8]
    old, new = f"alias/old-{tag}", f"alias/new-{tag}"
    moto_server.new_key(old)
    moto_server.new_key(new)
    coll = moto_server.s3_uri(bucket, "coll")
    write_demo_collection(open_storage(coll), kms_uri=moto_server.kms_uri(old), seed=7, incrementals=1)
    return {"bucket": bucket, "coll": coll, "old": old, "new": new}


def test_alter_latest_then_all_then_show_with_new_key(moto_server: MotoServer, demo: dict[str, str]) -> None:
    coll, old_uri, new_uri = demo["coll"], moto_server.kms_uri(demo["old"]), moto_server.kms_uri(demo["new"])
    fulls = [r["path"] for r in rows("-e", f"SHOW BACKUPS IN '{coll}'")]
    assert len(fulls) == 3

    latest = rows("-e", f"ALTER BACKUP LATEST IN '{coll}' ADD NEW_KMS = '{new_uri}' WITH OLD_KMS = '{old_uri}'")
    assert [(r["backup"], r["status"], r["file"]) for r in latest] == [(fulls[-1], "added", "ENCRYPTION-INFO-2")]

    every = rows("-e", f"ALTER BACKUP ALL IN '{coll}' ADD NEW_KMS = '{new_uri}' WITH OLD_KMS = '{old_uri}'")
    assert sorted((r["backup"], r["status"]) for r in every) == [
        (fulls[0], "added"), (fulls[1], "added"), (fulls[2], "already present"),
    ]

    shown = rows("-e", f"SHOW BACKUP LATEST IN '{coll}' WITH KMS = '{new_uri}'")
    names = {r["object_name"] for r in shown}
    assert {"movr", "public", "users", "vehicles", "rides", "promo_codes"} <= names
    users = [r for r in shown if r["object_name"] == "users"]
    assert users[0]["backup_type"] == "full" and users[0]["rows"] == 500 and len(users) == 2

    # the independent reader opens every chain with the new key and with the old one
    for subdir in fulls:
        assert check_chain(moto_server, demo["bucket"], "coll", subdir, demo["new"]) == 2
        assert check_chain(moto_server, demo["bucket"], "coll", subdir, demo["old"]) == 2


def test_cockroach_docs_aws_example_runs_unchanged(moto_server: MotoServer) -> None:
    """cockroachdb/docs src/current/v24.3/alter-backup.md, "Add an AWS KMS key to an encrypted
    backup": both statements as written there, with {placeholders} filled in and AWS_ENDPOINT
    added to point at moto."""
    bucket = moto_server.new_bucket("docs")
    old_key, new_key = moto_server.new_key(), moto_server.new_key()
    endpoint = f"AWS_ENDPOINT={moto_server.endpoint}"
    creds = f"AWS_ACCESS_KEY_ID={ACCESS_KEY}&AWS_SECRET_ACCESS_KEY={SECRET}"
    collection = f"s3://{bucket}?{creds}&{endpoint}"
    old_uri = f"aws:///{old_key}?{creds}&REGION={REGION}&{endpoint}"
    new_uri = f"aws:///{new_key}?{creds}&REGION={REGION}&{endpoint}"
    write_demo_collection(open_storage(collection), kms_uri=old_uri, seed=3, full_backups=2, incrementals=1)
    first = rows("-e", f"SHOW BACKUPS IN '{collection}'")[0]["path"].strip("/")

    latest_sql = (
        f"ALTER BACKUP LATEST IN '{collection}'\n"
        f"    ADD NEW_KMS = '{new_uri}'\n"
        f"    WITH OLD_KMS = '{old_uri}';\n"
    )
    subdir_sql = (
        f"ALTER BACKUP '{first}' IN '{collection}'\n"
        f"    ADD NEW_KMS = '{new_uri}'\n"
        f"    WITH OLD_KMS = '{old_uri}';\n"
    )
    out = rows("-e", latest_sql + subdir_sql)
    assert [r["status"] for r in out] == ["added", "added"]
    for r in rows("-e", f"SHOW BACKUPS IN '{collection}'"):
        assert check_chain(moto_server, bucket, "", r["path"], new_key) == 2


def test_concurrent_alters_all_land(moto_server: MotoServer) -> None:
    bucket = moto_server.new_bucket("race")
    old = moto_server.new_key()
    new_keys = [moto_server.new_key() for _ in range(6)]
    coll = moto_server.s3_uri(bucket, "c")
    write_demo_collection(open_storage(coll), kms_uri=moto_server.kms_uri(old), seed=5, full_backups=1, incrementals=1)
    procs = [
        subprocess.Popen(
            [REWRAP, "--format", "json", "-e",
             f"ALTER BACKUP LATEST IN '{coll}' ADD NEW_KMS = '{moto_server.kms_uri(k)}' "
             f"WITH OLD_KMS = '{moto_server.kms_uri(old)}'"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        )
        for k in new_keys
    ]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    for out, err, code in results:
        assert code == 0, err
        assert SECRET not in out + err
        assert json.loads(out)["status"] == "added"
    s3 = moto_server.client("s3")
    subdir = rows("-e", f"SHOW BACKUPS IN '{coll}'")[0]["path"]
    infos = [o["Key"].rsplit("/", 1)[1] for o in
             s3.list_objects_v2(Bucket=bucket, Prefix=f"c{subdir}/ENCRYPTION-INFO")["Contents"]]
    assert sorted(infos) == sorted(["ENCRYPTION-INFO"] + [f"ENCRYPTION-INFO-{n}" for n in range(2, 8)])
    for k in new_keys + [old]:
        assert check_chain(moto_server, bucket, "c", subdir, k) == 2


def test_wrong_old_key_fails_cleanly_and_names_the_uri(moto_server: MotoServer, demo: dict[str, str]) -> None:
    stranger, fresh = moto_server.new_key(), moto_server.new_key()
    p = rewrap("-e", f"ALTER BACKUP LATEST IN '{demo['coll']}' ADD NEW_KMS = '{moto_server.kms_uri(fresh)}' "
                     f"WITH OLD_KMS = '{moto_server.kms_uri(stranger)}'")
    assert p.returncode != 0 and "| failed |" in p.stdout
    both = p.stdout + p.stderr
    assert "no key in OLD_KMS matches a key that was previously used to encrypt the backup" in both
    assert stranger in both and "AWS_SECRET_ACCESS_KEY=redacted" in both
    assert "Traceback" not in both
