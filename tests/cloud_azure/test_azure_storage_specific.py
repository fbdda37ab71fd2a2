"""What only azure-blob:// has, against a real azurite: the connection-string endpoint, the legacy
azure:// scheme, and a wrong account key (a signature azurite refuses). The shared contract is
tests/storage/test_conformance.py. Setup uses the SDK directly, not our code."""

from __future__ import annotations

import pytest

from engine.storage import StorageSettings
from engine.storage.base import StorageError
from engine.storage.registry import open_storage
from tests.servers.azure import Azurite


@pytest.fixture
def container(azurite: Azurite) -> str:
    return azurite.new_container()


def put(azurite: Azurite, container: str, name: str, data: bytes = b"x") -> None:
    azurite.service().get_container_client(container).upload_blob(name, data)


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
