"""AzureBlobStorage against a real azurite: the ExternalStorage contract, create-only writes,
delimited paginated listing, ranged reads and error mapping. Setup and independent checks use the
SDK directly, not our code."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from engine.storage import StorageSettings
from engine.storage.azure import AzureBlobStorage
from engine.storage.base import AlreadyExists, NotFound, StorageError
from engine.storage.registry import open_storage
from tests.servers.azure import Azurite


@pytest.fixture
def container(azurite: Azurite) -> str:
    return azurite.new_container()


@pytest.fixture
def storage(azurite: Azurite, container: str) -> Iterator[AzureBlobStorage]:
    st = open_storage(azurite.uri(container, "coll"), StorageSettings(azure_blob_endpoint=azurite.endpoint))
    assert isinstance(st, AzureBlobStorage)
    yield st
    st.close()


def put(azurite: Azurite, container: str, name: str, data: bytes = b"x") -> None:
    azurite.service().get_container_client(container).upload_blob(name, data)


def test_write_new_is_create_only_and_readable(azurite: Azurite, container: str, storage: AzureBlobStorage) -> None:
    storage.write_new("a/ENCRYPTION-INFO-2", b"first")
    with pytest.raises(AlreadyExists) as info:
        storage.write_new("a/ENCRYPTION-INFO-2", b"second")
    assert "azure-blob://" in str(info.value) and "a/ENCRYPTION-INFO-2" in str(info.value)
    # the SDK (not our reader) sees the first content, under the root prefix
    blob = azurite.service().get_container_client(container).download_blob("coll/a/ENCRYPTION-INFO-2")
    assert blob.readall() == b"first"
    assert storage.read("a/ENCRYPTION-INFO-2") == b"first"
    assert storage.size("a/ENCRYPTION-INFO-2") == 5


def test_racing_writers_exactly_one_wins(storage: AzureBlobStorage) -> None:
    results: list[str] = []
    barrier = threading.Barrier(8)

    def writer(i: int) -> None:
        barrier.wait()
        try:
            storage.write_new("ENCRYPTION-INFO-3", f"writer {i}".encode())
            results.append("won")
        except AlreadyExists:
            results.append("lost")

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["lost"] * 7 + ["won"]
    assert storage.read("ENCRYPTION-INFO-3").startswith(b"writer ")


def test_ranged_reads(azurite: Azurite, container: str, storage: AzureBlobStorage) -> None:
    data = bytes(range(256)) * 40
    put(azurite, container, "coll/data/1.sst", data)
    assert storage.read_range("data/1.sst", 0, 10) == data[:10]
    assert storage.read_range("data/1.sst", 10_000, 500) == data[10_000:]  # short at the end
    assert storage.read_range("data/1.sst", len(data), 10) == b""
    assert storage.read_range("data/1.sst", 5, 0) == b""
    with pytest.raises(NotFound):
        storage.read_range("data/none.sst", 0, 10)


def test_missing_objects_and_containers(azurite: Azurite, storage: AzureBlobStorage) -> None:
    for call in (lambda: storage.read("nope"), lambda: storage.size("nope")):
        with pytest.raises(NotFound) as info:
            call()
        assert "azure-blob://" in str(info.value) and "nope" in str(info.value)
    assert not storage.exists("nope")
    gone = open_storage(azurite.uri("no-such-container"), StorageSettings(azure_blob_endpoint=azurite.endpoint))
    with pytest.raises(NotFound) as info:
        list(gone.list())
    assert "no-such-container" in str(info.value)


def test_listing_collapses_like_common_prefixes(azurite: Azurite, container: str, storage: AzureBlobStorage) -> None:
    names = [
        "2026/11/24-020012.34/BACKUP_MANIFEST",
        "2026/11/24-020012.34/ENCRYPTION-INFO",
        "2026/11/24-020012.34/data/1.sst",
        "2026/11/24-020012.34/data/2.sst",
        "2026/11/24-020012.34/datafile",
        "2026/11/25-020012.34/BACKUP_MANIFEST",
        "metadata/latest/LATEST-abc",
        "LATEST",
    ]
    for n in names:
        put(azurite, container, "coll/" + n)
    put(azurite, container, "collection-2/BACKUP_MANIFEST")  # outside the root: never listed
    assert list(storage.list()) == sorted(names)
    assert list(storage.list("", "/")) == ["2026/", "LATEST", "metadata/"]
    assert list(storage.list("2026/11/24-020012.34/", "/")) == [
        "2026/11/24-020012.34/BACKUP_MANIFEST",
        "2026/11/24-020012.34/ENCRYPTION-INFO",
        "2026/11/24-020012.34/data/",
        "2026/11/24-020012.34/datafile",
    ]
    # a multi-character delimiter (SHOW BACKUPS lists with "data/"), like S3 CommonPrefixes
    # ("metadata/..." collapses too: "data/" occurs in it, exactly as with S3)
    assert list(storage.list("", "data/")) == [
        "2026/11/24-020012.34/BACKUP_MANIFEST",
        "2026/11/24-020012.34/ENCRYPTION-INFO",
        "2026/11/24-020012.34/data/",
        "2026/11/24-020012.34/datafile",
        "2026/11/25-020012.34/BACKUP_MANIFEST",
        "LATEST",
        "metadata/",
    ]
    child = storage.child("2026/11/24-020012.34")
    assert list(child.list("", "/")) == ["BACKUP_MANIFEST", "ENCRYPTION-INFO", "data/", "datafile"]
    assert child.read("ENCRYPTION-INFO") == b"x"


def test_listing_is_paginated_and_never_enters_data(azurite: Azurite, container: str) -> None:
    client = azurite.service().get_container_client(container)
    for i in range(60):
        client.upload_blob(f"b/data/{i:05}.sst", b"")
    for n in ("BACKUP_MANIFEST", "ENCRYPTION-INFO", "ENCRYPTION-INFO-2", "ENCRYPTION-INFO-3"):
        client.upload_blob(f"b/{n}", b"")
    st = open_storage(azurite.uri(container, "b"), StorageSettings(azure_blob_endpoint=azurite.endpoint))
    assert isinstance(st, AzureBlobStorage)
    st.page_size = 2
    top = list(st.list("", "/"))
    assert top == ["BACKUP_MANIFEST", "ENCRYPTION-INFO", "ENCRYPTION-INFO-2", "ENCRYPTION-INFO-3", "data/"]
    assert st.list_requests == 3  # 5 entries in pages of 2: the 60 data files were never listed
    st.list_requests = 0
    st.page_size = 7
    assert list(st.list("data/")) == [f"data/{i:05}.sst" for i in range(60)]
    assert st.list_requests == 9  # without a delimiter every page is walked, in order


def test_connection_string_endpoint_lets_client_secret_uris_reach_azurite(azurite: Azurite, container: str) -> None:
    put(azurite, container, "coll/LATEST", b"/2026/11/24-020012.34")
    uri = (f"azure-blob://{container}/coll?AUTH=specified&AZURE_ACCOUNT_NAME=devstoreaccount1"
           "&AZURE_CLIENT_ID=c&AZURE_CLIENT_SECRET=hunter2-secret&AZURE_TENANT_ID=t")
    with open_storage(uri, StorageSettings(azure_blob_endpoint=azurite.connection_string())) as st:
        assert st.read("LATEST") == b"/2026/11/24-020012.34"
        assert "hunter2-secret" not in st.display_uri


def test_legacy_azure_scheme_reads_the_same_container(azurite: Azurite, container: str) -> None:
    put(azurite, container, "old/LATEST", b"/2026/11/24-020012.34")
    with open_storage(azurite.uri(container, "old", scheme="azure"),
                      StorageSettings(azure_blob_endpoint=azurite.endpoint)) as st:
        assert st.display_uri == f"azure://{container}/old"
        assert st.read("LATEST") == b"/2026/11/24-020012.34"


def test_wrong_account_key_is_a_clean_error(azurite: Azurite, container: str) -> None:
    bad = "QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5"
    uri = f"azure-blob://{container}?AZURE_ACCOUNT_NAME=devstoreaccount1&AZURE_ACCOUNT_KEY={bad}"
    with open_storage(uri, StorageSettings(azure_blob_endpoint=azurite.endpoint)) as st:
        with pytest.raises(StorageError) as info:
            st.read("x")
    message = str(info.value)
    assert "cannot read" in message and bad not in message and "Traceback" not in message
