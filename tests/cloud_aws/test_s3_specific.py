"""What only s3:// has, against a real moto server: the requests sent (server-side delimiter,
continuation tokens, Range header, HEAD + If-None-Match PUT, storage class), exact error texts,
retries with backoff, AssumeRole chains. The shared contract is tests/storage/test_conformance.py."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from engine.storage import open_storage
from engine.storage.base import AlreadyExists, NotFound, StorageError
from engine.storage import s3 as s3_module
from engine.storage.s3 import S3Storage
from engine.storage.s3 import open_storage as open_s3
from tests.servers.aws import ACCESS_KEY, SECRET, MotoServer, free_port
from tests.servers.fake_flaky_proxy import FlakyProxy


def record_requests(storage: S3Storage) -> list[Any]:
    """Every HTTP request the storage's client sends (botocore's before-send event)."""
    seen: list[Any] = []
    storage._s3().meta.events.register("before-send", lambda request, **kw: seen.append(request))
    return seen


@pytest.fixture
def bucket(moto_server: MotoServer) -> str:
    return moto_server.new_bucket()


def put(moto: MotoServer, bucket: str, keys: list[str]) -> None:
    s3 = moto.client("s3")
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=k.encode()), keys))


def test_list_with_delimiter_is_server_side_and_ordered(moto_server: MotoServer, bucket: str) -> None:
    keys = [
        "coll/a/data/1.sst", "coll/a/data/2.sst", "coll/a/BACKUP_MANIFEST", "coll/a/ENCRYPTION-INFO",
        "coll/a/ENCRYPTION-INFO-10", "coll/a/ENCRYPTION-INFO-2", "coll/b/data/x.sst", "coll/zz",
        "coll/metadata/latest/LATEST-1", "collection-other/x", "coll/é", "coll/Z",
    ]
    put(moto_server, bucket, keys)
    s = open_s3(moto_server.s3_uri(bucket, "coll"))
    sent = record_requests(s)
    assert list(s.list("", "data/")) == [
        "Z", "a/BACKUP_MANIFEST", "a/ENCRYPTION-INFO", "a/ENCRYPTION-INFO-10", "a/ENCRYPTION-INFO-2",
        "a/data/", "b/data/", "metadata/", "zz", "é",  # "metadata/" holds "data/": S3 rule
    ]
    assert list(s.list("a/", "/")) == [
        "a/BACKUP_MANIFEST", "a/ENCRYPTION-INFO", "a/ENCRYPTION-INFO-10", "a/ENCRYPTION-INFO-2", "a/data/",
    ]
    assert list(s.child("a").list("ENCRYPTION-INFO")) == ["ENCRYPTION-INFO", "ENCRYPTION-INFO-10", "ENCRYPTION-INFO-2"]
    assert list(s.list("nothing/")) == []
    # the delimiter went to the server: no request ever asked for a key under data/
    assert len(sent) == 4 and all("data" not in r.url.split("?")[0] for r in sent)
    assert "delimiter=data%2F" in sent[0].url and "list-type=2" in sent[0].url


def test_list_is_paginated(moto_server: MotoServer, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_module, "LIST_PAGE_SIZE", 40)  # S3 pages hold 1000; keep the test small
    keys = [f"c/k{i:05d}" for i in range(70)] + ["c/sub/x"]
    put(moto_server, bucket, keys)
    s = open_s3(moto_server.s3_uri(bucket, "c"))
    sent = record_requests(s)
    got = list(s.list("", "/"))
    assert got == [k[2:] for k in keys[:-1]] + ["sub/"]
    assert len(sent) == 2 and "continuation-token=" in sent[1].url


def test_read_range_size_and_not_found(moto_server: MotoServer, bucket: str) -> None:
    data = bytes(range(256)) * 4
    moto_server.client("s3").put_object(Bucket=bucket, Key="c/f", Body=data)
    s = open_s3(moto_server.s3_uri(bucket, "c"))
    sent = record_requests(s)
    assert s.read("f") == data
    assert s.read_range("f", 10, 20) == data[10:30]
    assert sent[-1].headers["Range"] == b"bytes=10-29"
    assert s.read_range("f", 1000, 100) == data[1000:]
    assert s.read_range("f", 5000, 10) == b""
    assert s.size("f") == len(data)
    assert s.exists("f") and not s.exists("g")
    for call in (lambda: s.read("g"), lambda: s.size("g"), lambda: s.read_range("g", 0, 4)):
        with pytest.raises(NotFound) as info:
            call()
        assert str(info.value) == f"s3://{bucket}/c/g: no such object"


def test_write_new_is_one_conditional_put(moto_server: MotoServer, bucket: str) -> None:
    """A HEAD (defence for stores that ignore If-None-Match), then one conditional PUT."""
    s = open_s3(moto_server.s3_uri(bucket, "c", S3_STORAGE_CLASS="STANDARD_IA", AWS_SERVER_ENC_MODE="AES256"))
    sent = record_requests(s)
    s.write_new("d/ENCRYPTION-INFO-2", b"first")
    assert [r.method for r in sent] == ["HEAD", "PUT"] and sent[1].headers["If-None-Match"] == b"*"
    with pytest.raises(AlreadyExists) as info:
        s.write_new("d/ENCRYPTION-INFO-2", b"second")
    assert str(info.value) == f"s3://{bucket}/c/d/ENCRYPTION-INFO-2: already exists"
    assert s.read("d/ENCRYPTION-INFO-2") == b"first"
    head = moto_server.client("s3").head_object(Bucket=bucket, Key="c/d/ENCRYPTION-INFO-2")
    assert head["StorageClass"] == "STANDARD_IA" and head["ServerSideEncryption"] == "AES256"


def test_missing_bucket_names_object_and_hides_secret(moto_server: MotoServer) -> None:
    s = open_storage(moto_server.s3_uri("no-such-bucket-here", "c"))
    with pytest.raises(NotFound) as info:
        s.read("x")
    assert str(info.value) == "s3://no-such-bucket-here/c/x: no such bucket 'no-such-bucket-here'"
    with pytest.raises(StorageError) as info2:
        list(s.list("", "/"))
    assert "no-such-bucket-here" in str(info2.value)
    assert SECRET not in str(info.value) + str(info2.value) + s.display_uri


def test_connection_refused_fails_fast_with_cause() -> None:
    port = free_port()
    uri = f"s3://bkt/c?AWS_ENDPOINT=http://127.0.0.1:{port}&AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY={SECRET}"
    s = open_s3(uri, max_attempts=1)
    sent = record_requests(s)
    with pytest.raises(StorageError) as info:
        s.read("obj")
    assert len(sent) == 1  # max_attempts=1: one try, no retry loop
    message = str(info.value)
    assert message.startswith("s3://bkt/c/obj: cannot read: EndpointConnectionError") and SECRET not in message


def test_throttling_and_5xx_are_retried_with_backoff(moto_server: MotoServer, bucket: str) -> None:
    moto_server.client("s3").put_object(Bucket=bucket, Key="c/f", Body=b"payload")
    with FlakyProxy(moto_server.endpoint, failures=2, status=503, code="SlowDown") as proxy:
        s = open_s3(f"s3://{bucket}/c?AWS_ENDPOINT={proxy.endpoint}&AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=b")
        assert s.read("f") == b"payload"
        assert proxy.requests == 3
    with FlakyProxy(moto_server.endpoint, failures=1, status=500, code="InternalError") as proxy:
        s = open_s3(f"s3://{bucket}/c?AWS_ENDPOINT={proxy.endpoint}&AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=b")
        s.write_new("g", b"x")  # HEAD (500, retried), HEAD (404), conditional PUT
        assert proxy.requests == 3 and s.read("g") == b"x"
    with FlakyProxy(moto_server.endpoint, failures=10, status=503, code="SlowDown") as proxy:
        s = open_s3(f"s3://{bucket}/c?AWS_ENDPOINT={proxy.endpoint}&AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=b",
                    max_attempts=2)
        with pytest.raises(StorageError) as info:
            s.size("f")
        assert proxy.requests == 2
        assert str(info.value).startswith(f"s3://{bucket}/c/f: cannot stat: 503")


def test_assume_role_chain_signs_with_the_last_roles_credentials(moto_server: MotoServer, bucket: str) -> None:
    moto_server.client("s3").put_object(Bucket=bucket, Key="c/f", Body=b"x")
    chain = "arn:aws:iam::123456789012:role/delegate;external_id=ext-1,arn:aws:iam::123456789012:role/final"
    s = open_s3(moto_server.s3_uri(bucket, "c", ASSUME_ROLE=chain))
    sent = record_requests(s)
    assert s.read("f") == b"x"
    auth = sent[0].headers["Authorization"].decode()
    credential = auth.split("Credential=")[1].split("/")[0]
    assert credential != ACCESS_KEY and credential.startswith("ASIA")  # STS temporary key


def test_children_share_one_client(moto_server: MotoServer, bucket: str) -> None:
    s = open_s3(moto_server.s3_uri(bucket, "c"))
    child = s.child("a/b").child("/c/")
    assert child._s3() is s._s3()
    child.write_new("f", b"1")
    assert s.read("a/b/c/f") == b"1" and list(s.list("a/", "/")) == ["a/b/"]
