"""Every cloud storage call has a whole-call deadline, and its error texts hold no secret
(issue 15, items 2 and 5).

S3 reaches the stand-ins through AWS_ENDPOINT in the URI; GCS and Azure Blob through the test
settings (StorageSettings.gcs_endpoint / azure_blob_endpoint). Before, a trickling endpoint was
waited on per socket read, i.e. forever; now the call fails with a StorageError naming the
endpoint and the deadline (engine.settings.Limits.storage_timeout).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from engine.settings import Limits, set_limits
from engine.storage import StorageError, StorageSettings, open_storage
from tests.kms.hang_servers import EchoErrorServer, HangServer, elapsed

DEADLINE = 1.0
SECRET = "s3SECRETkeyEXAMPLE/with+odd=chars"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEtoken"
AZURE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@pytest.fixture(autouse=True)
def short_deadline():  # type: ignore[no-untyped-def]
    set_limits(Limits(storage_timeout=DEADLINE))
    yield
    set_limits(None)


def s3_uri(endpoint: str) -> str:
    return (
        f"s3://bkt/coll?AWS_ACCESS_KEY_ID=AKIAEXAMPLE&AWS_SECRET_ACCESS_KEY={quote(SECRET, safe='')}"
        f"&AWS_SESSION_TOKEN={TOKEN}&AWS_REGION=us-east-1&AWS_ENDPOINT={endpoint}"
    )


def storage_for(kind: str, server: HangServer, tmp_path: Path):  # type: ignore[no-untyped-def]
    if kind == "s3":
        return open_storage(s3_uri(server.http), StorageSettings(external_io_dir=tmp_path)), server.http
    if kind == "gs":
        settings = StorageSettings(external_io_dir=tmp_path, gcs_endpoint=server.http)
        return open_storage("gs://bkt/coll?AUTH=implicit", settings), server.http
    settings = StorageSettings(external_io_dir=tmp_path, azure_blob_endpoint=f"{server.http}/acct")
    uri = f"azure-blob://ctr/coll?AZURE_ACCOUNT_NAME=acct&AZURE_ACCOUNT_KEY={quote(AZURE_KEY, safe='')}"
    return open_storage(uri, settings), f"{server.http}/acct/ctr"


@pytest.mark.parametrize("kind", ["s3", "gs", "azure-blob"])
@pytest.mark.parametrize("trickle", [0.0, 0.5], ids=["never-answers", "trickles"])
def test_storage_call_fails_at_the_deadline_naming_the_endpoint(kind: str, trickle: float, tmp_path: Path) -> None:
    with HangServer(trickle=trickle) as server:
        storage, endpoint = storage_for(kind, server, tmp_path)
        for call in (lambda: storage.read("BACKUP_MANIFEST"), lambda: list(storage.list("", "/"))):
            took, err = elapsed(call)
            assert isinstance(err, StorageError), err
            text = str(err)
            assert "timed out" in text and endpoint in text and f"{DEADLINE:g} s" in text, text
            assert SECRET not in text and TOKEN not in text and AZURE_KEY not in text
            assert took < 5 * DEADLINE  # a ratio of the setting
        assert server.connections >= 1


def test_s3_error_body_echoing_headers_is_scrubbed(tmp_path: Path) -> None:
    # not a deadline test: a roomy deadline, so a loaded machine still gets the error body
    set_limits(Limits(storage_timeout=30 * DEADLINE))
    with EchoErrorServer() as server:
        storage = open_storage(s3_uri(server.http), StorageSettings(external_io_dir=tmp_path))
        _, err = elapsed(storage.read, "BACKUP_MANIFEST")
    assert isinstance(err, StorageError), err
    text = str(err)
    assert "AccessDenied" in text and "X-Amz-Security-Token: redacted" in text, text
    assert TOKEN not in text and SECRET not in text and "Signature=" not in text
