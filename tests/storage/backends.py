"""One face for every storage backend the conformance suite runs against (issue 11, item 5).

Each `Backend` opens our storage at a fresh root (`<container>/coll`) on a real stand-in
(tests/servers/*.py start them per session) or a temporary directory, and can put and get
objects there WITHOUT our code (the SDK, or the filesystem), so every check is independent.
The knobs that differ per backend (page size, request counters, how to point the same URI at
another endpoint) are plain callables here, so the tests in test_conformance.py read the same
for all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from engine.storage import ExternalStorage, StorageSettings, open_storage

GCS_TOKEN = "ya29.conformance-secret-token"


@dataclass
class Backend:
    name: str
    open: Callable[[], ExternalStorage]
    """Our storage at the fresh root."""
    put: Callable[[str, bytes], None]
    """Write an object under the root without our code."""
    get: Callable[[str], bytes]
    """Read an object under the root without our code."""
    shown: str
    """The root as error texts and display_uri name it (no query)."""
    secrets: tuple[str, ...] = ()
    """Values in the URI that must never appear in a text we produce."""
    sibling: Callable[[str, bytes], None] = lambda key, data: None
    """Write an object NEXT to the root (e.g. `coll-other/x`): never listed under it."""
    at_endpoint: Callable[[str], ExternalStorage] | None = None
    """The same URI sent to another endpoint (http://127.0.0.1:PORT): for refused / unreachable."""
    small_pages: Callable[[ExternalStorage, int], Callable[[], int]] | None = None
    """Make listings use pages of n entries; returns a counter of list requests sent since."""
    missing_container: Callable[[], ExternalStorage] | None = None
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def uri_of(self, key: str) -> str:
        return f"{self.shown}/{key}"


def local_backend(tmp_path: Path, scheme: str) -> Backend:
    io = tmp_path / "extern"
    root = io / "coll"
    root.mkdir(parents=True)

    def put(key: str, data: bytes) -> None:
        p = root / key
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)

    def put_abs(p: Path, data: bytes) -> None:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)

    if scheme == "nodelocal":
        uri, shown = "nodelocal://self/coll", "nodelocal://self/coll"
    else:
        uri, shown = f"file://{root}", f"file://{root}"
    settings = StorageSettings(external_io_dir=io)
    return Backend(
        name=scheme,
        open=lambda: open_storage(uri, settings),
        put=put,
        get=lambda key: (root / key).read_bytes(),
        sibling=lambda key, data: (put_abs(io / key, data)),
        shown=shown,
    )


def s3_backend(moto: Any, monkeypatch: Any) -> Backend:
    from engine.storage import s3 as s3_module
    from tests.servers.aws import ACCESS_KEY, SECRET

    bucket = moto.new_bucket()
    client = moto.client("s3")

    def at_endpoint(endpoint: str) -> ExternalStorage:
        return open_storage(
            f"s3://{bucket}/coll?AWS_ENDPOINT={endpoint}&AWS_ACCESS_KEY_ID={ACCESS_KEY}"
            f"&AWS_SECRET_ACCESS_KEY={quote(SECRET, safe='')}&AWS_REGION=us-east-1"
        )

    def small_pages(storage: ExternalStorage, n: int) -> Callable[[], int]:
        monkeypatch.setattr(s3_module, "LIST_PAGE_SIZE", n)
        sent: list[str] = []
        storage._s3().meta.events.register(  # type: ignore[attr-defined]
            "before-send", lambda request, **kw: sent.append(request.url)
        )
        return lambda: sum("list-type=2" in u for u in sent)

    return Backend(
        name="s3",
        open=lambda: open_storage(moto.s3_uri(bucket, "coll")),
        put=lambda key, data: client.put_object(Bucket=bucket, Key=f"coll/{key}", Body=data),
        get=lambda key: client.get_object(Bucket=bucket, Key=f"coll/{key}")["Body"].read(),
        sibling=lambda key, data: client.put_object(Bucket=bucket, Key=key, Body=data),
        shown=f"s3://{bucket}/coll",
        secrets=(SECRET, quote(SECRET, safe="")),
        at_endpoint=at_endpoint,
        small_pages=small_pages,
        missing_container=lambda: open_storage(moto.s3_uri(f"gone-{uuid.uuid4().hex[:10]}", "coll")),
    )


def gcs_backend(gcs: Any) -> Backend:
    bucket = gcs.new_bucket()
    handle = gcs.client().bucket(bucket)
    uri = f"gs://{bucket}/coll?BEARER_TOKEN={GCS_TOKEN}"

    def small_pages(storage: ExternalStorage, n: int) -> Callable[[], int]:
        storage.page_size = n  # type: ignore[attr-defined]
        start = storage.list_pages  # type: ignore[attr-defined]
        return lambda: int(storage.list_pages) - start  # type: ignore[attr-defined]

    return Backend(
        name="gcs",
        open=lambda: open_storage(uri, StorageSettings(gcs_endpoint=gcs.endpoint)),
        put=lambda key, data: handle.blob(f"coll/{key}").upload_from_string(data),
        get=lambda key: handle.blob(f"coll/{key}").download_as_bytes(),
        sibling=lambda key, data: handle.blob(key).upload_from_string(data),
        shown=f"gs://{bucket}/coll",
        secrets=(GCS_TOKEN,),
        at_endpoint=lambda ep: open_storage(uri, StorageSettings(gcs_endpoint=ep)),
        small_pages=small_pages,
        missing_container=lambda: open_storage(
            f"gs://gone-{uuid.uuid4().hex[:10]}/coll?BEARER_TOKEN={GCS_TOKEN}",
            StorageSettings(gcs_endpoint=gcs.endpoint)),
    )


def azure_backend(azurite: Any) -> Backend:
    container = azurite.new_container()
    handle = azurite.service().get_container_client(container)
    uri = azurite.uri(container, "coll")

    def small_pages(storage: ExternalStorage, n: int) -> Callable[[], int]:
        storage.page_size = n  # type: ignore[attr-defined]
        start = storage.list_requests  # type: ignore[attr-defined]
        return lambda: int(storage.list_requests) - start  # type: ignore[attr-defined]

    return Backend(
        name="azure",
        open=lambda: open_storage(uri, StorageSettings(azure_blob_endpoint=azurite.endpoint)),
        put=lambda key, data: handle.upload_blob(f"coll/{key}", data),
        get=lambda key: handle.download_blob(f"coll/{key}").readall(),
        sibling=lambda key, data: handle.upload_blob(key, data),
        shown=f"azure-blob://{container}/coll",
        secrets=(azurite.key, quote(azurite.key, safe="")),
        at_endpoint=lambda ep: open_storage(
            uri, StorageSettings(azure_blob_endpoint=f"{ep}/{azurite.account}")),
        small_pages=small_pages,
        missing_container=lambda: open_storage(
            azurite.uri(f"gone-{uuid.uuid4().hex[:10]}", "coll"),
            StorageSettings(azure_blob_endpoint=azurite.endpoint)),
    )
