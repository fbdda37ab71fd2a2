"""SHOW KMS RETIREMENT on moto S3 + AWS KMS (tests/servers/aws.py), through the installed rewrap;
the chains are graded with boto3 and tests/crdb_fixtures.py only.

CockroachDB's reader (cockroachdb/cockroach pkg/backup/backupencryption/encryption.go,
GetEncryptionFromBaseStore -> ValidateKMSURIsAgainstFullBackup, commit 200d56f7): the first
ENCRYPTION-INFO file, lexically last name first, holding the key id, and only its entry.
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

import tests.crdb_fixtures as fx
from engine.demo import write_demo_collection
from engine.storage import open_storage
from tests.servers.aws import SECRET, MotoServer

REWRAP = str(Path(sys.executable).parent / "rewrap")


def rewrap(tmp_path: Path, *args: str) -> tuple[int, list[dict], str]:
    env = {**os.environ, "REWRAP_DATA_DIR": str(tmp_path / "data")}
    p = subprocess.run([REWRAP, "--format", "json", *args], capture_output=True, text=True,
                       timeout=120, stdin=subprocess.DEVNULL, env=env)
    assert SECRET not in p.stdout + p.stderr, "secret access key leaked"
    return p.returncode, [json.loads(ln) for ln in p.stdout.splitlines()], p.stderr


def entries(data: bytes) -> dict[bytes, bytes]:
    return {fx.field_values(e, 1)[0]: fx.field_values(e, 2)[0] for e in fx.field_values(data, 3)}


def crdb_opens(moto: MotoServer, bucket: str, subdir: str, key_id: str) -> bool:
    """CockroachDB's entry for `key_id` unwraps (moto KMS) to a key opening the full manifest."""
    s3, kms = moto.client("s3"), moto.client("kms")
    base = f"coll/{subdir.strip('/')}/"
    names = sorted((o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=base + "ENCRYPTION-INFO")["Contents"]),
                   key=str.encode, reverse=True)
    digest = hashlib.sha256(key_id.encode()).digest()
    for n in names:
        got = entries(s3.get_object(Bucket=bucket, Key=n)["Body"].read()).get(digest)
        if got is not None:
            try:
                key = kms.decrypt(CiphertextBlob=got)["Plaintext"]
                body = s3.get_object(Bucket=bucket, Key=base + "BACKUP_MANIFEST")["Body"].read()
                return bool(gzip.decompress(fx.open_encrypted(key, body)))
            except Exception:  # noqa: BLE001 - any failure means CockroachDB fails too
                return False
    return False


def test_retirement_on_s3_and_aws_kms(moto_server: MotoServer, tmp_path: Path) -> None:
    bucket = moto_server.new_bucket("retire")
    tag = uuid.uuid4().hex[:8]
    old, new = f"alias/old-{tag}", f"alias/new-{tag}"
    moto_server.new_key(old)
    moto_server.new_key(new)
    coll = moto_server.s3_uri(bucket, "coll")
    old_uri, new_uri = moto_server.kms_uri(old), moto_server.kms_uri(new)
    write_demo_collection(open_storage(coll), kms_uri=old_uri, seed=7, incrementals=1)
    retire = f"SHOW KMS RETIREMENT '{old_uri}' IN '{coll}' WITH KMS = '{new_uri}'"

    code, rows, err = rewrap(tmp_path, "-e", retire)
    fulls = [r["backup"] for r in rows]
    assert code == 1 and [r["verdict"] for r in rows] == ["needs ALTER"] * 3
    assert "3 of 3 backups open only with it" in err and all(f in err for f in fulls)
    assert not any(crdb_opens(moto_server, bucket, f, new) for f in fulls)

    code, _, err = rewrap(tmp_path, "-e", f"ALTER BACKUP ALL IN '{coll}' ADD NEW_KMS = '{new_uri}' WITH OLD_KMS = '{old_uri}'")
    assert code == 0, err
    code, rows, err = rewrap(tmp_path, "--concurrency", "2", "-e", retire)
    assert code == 0, err
    assert [(r["verdict"], r["kms_calls"], r["incrementals"]) for r in rows] == [("safe", 1, 1)] * 3
    assert all(crdb_opens(moto_server, bucket, f, new) for f in fulls)

    # a planted entry for the new key that wraps another data key, read first by CockroachDB
    other = moto_server.client("kms").encrypt(KeyId=new, Plaintext=os.urandom(32))["CiphertextBlob"]
    s3 = moto_server.client("s3")
    s3.put_object(Bucket=bucket, Key=f"coll/{fulls[2].strip('/')}/ENCRYPTION-INFO-3",
                  Body=fx.encryption_info(kms={hashlib.sha256(new.encode()).digest(): other}))
    assert not crdb_opens(moto_server, bucket, fulls[2], new)
    code, rows, err = rewrap(tmp_path, "-e", retire)
    assert code == 1 and [r["verdict"] for r in rows] == ["safe", "safe", "unreadable"]
    assert "1 of 3" in err and fulls[2] in err and fulls[0] not in err.split("ERROR:")[-1]

    # an unparseable extra file stops CockroachDB's reader for that backup
    s3.put_object(Bucket=bucket, Key=f"coll/{fulls[0].strip('/')}/ENCRYPTION-INFO-9", Body=b"\xff\xfe garbage")
    code, rows, err = rewrap(tmp_path, "-e", retire)
    assert code == 1 and [r["verdict"] for r in rows] == ["unreadable", "safe", "unreadable"]
    assert "ENCRYPTION-INFO-9" in rows[0]["detail"] and "2 of 3" in err


def audit_records(tmp_path: Path) -> list[dict]:
    path = tmp_path / "data" / "audit.jsonl"
    return [json.loads(ln) for ln in path.read_text().splitlines() if "kms-retirement-check" in ln]


def test_unreachable_kms_and_a_backup_after_the_rotation_on_s3(moto_server: MotoServer, tmp_path: Path) -> None:
    import socket

    bucket = moto_server.new_bucket("retire2")
    tag = uuid.uuid4().hex[:8]
    old, new = f"alias/old-{tag}", f"alias/new-{tag}"
    moto_server.new_key(old)
    moto_server.new_key(new)
    coll = moto_server.s3_uri(bucket, "coll")
    old_uri, new_uri = moto_server.kms_uri(old), moto_server.kms_uri(new)
    write_demo_collection(open_storage(coll), kms_uri=old_uri, seed=11, incrementals=1)
    code, _, err = rewrap(tmp_path, "-e", f"ALTER BACKUP ALL IN '{coll}' ADD NEW_KMS = '{new_uri}' WITH OLD_KMS = '{old_uri}'")
    assert code == 0, err
    retire = f"SHOW KMS RETIREMENT '{old_uri}' IN '{coll}' WITH KMS = '{new_uri}'"
    code, rows, err = rewrap(tmp_path, "-e", retire)
    assert code == 0 and [r["verdict"] for r in rows] == ["safe"] * 3, err
    fulls = [r["backup"] for r in rows]
    assert len(audit_records(tmp_path)) == 3  # one audit record per backup checked

    # The new key's KMS accepts connections and never answers: never safe, every backup named.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        unreachable = moto_server.kms_uri(new, AWS_ENDPOINT=f"http://127.0.0.1:{silent.getsockname()[1]}")
        code, rows, err = rewrap(tmp_path, "--kms-timeout", "1", "-e",
                                 f"SHOW KMS RETIREMENT '{old_uri}' IN '{coll}' WITH KMS = '{unreachable}'")
    assert code == 1 and [r["verdict"] for r in rows] == ["unreadable"] * 3, rows
    assert all(r["opened_by"] is None for r in rows)
    assert "3 of 3" in err and all(f in err for f in fulls)
    assert len(audit_records(tmp_path)) == 6

    # A schedule still on the old key writes a full backup after the rotation: the newest one's
    # objects under a later name, without the ENCRYPTION-INFO files the rotation added.
    s3 = moto_server.client("s3")
    src = f"coll/{fulls[-1].strip('/')}/"
    later = "/2026/12/01-020000.00"
    dst = f"coll{later}/"
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix=src)["Contents"]:
        name = obj["Key"][len(src):]
        if name.startswith("ENCRYPTION-INFO-"):
            continue
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        s3.put_object(Bucket=bucket, Key=dst + name, Body=body)
    assert crdb_opens(moto_server, bucket, later, old) and not crdb_opens(moto_server, bucket, later, new)
    code, rows, err = rewrap(tmp_path, "-e", retire)
    assert code == 1
    assert [(r["backup"], r["verdict"]) for r in rows] == [*((f, "safe") for f in fulls), (later, "needs ALTER")]
    assert "written after the rotation" in rows[3]["detail"]
    assert "ALTER BACKUP SCHEDULE <id> SET WITH kms = 'aws:///" in rows[3]["detail"]
    assert f"ALTER BACKUP '{later}' IN 's3://{bucket}/coll" in rows[3]["detail"]
    assert "1 of 4" in err and later in err.split("ERROR:")[-1] and fulls[0] not in err.split("ERROR:")[-1]
    assert len(audit_records(tmp_path)) == 10
