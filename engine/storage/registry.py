"""URI scheme -> ExternalStorage implementation, with CockroachDB's URI error texts."""

from __future__ import annotations

import importlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

from syntax.uri import parse_uri, redact_uri

from engine.storage.base import ExternalStorage, StorageError, StorageSettings, join_key

LOCAL_SCHEMES = ("nodelocal", "file")
# scheme -> module under engine.storage with `open_storage(uri, settings) -> ExternalStorage`;
# imported only when the scheme is used, so batch mode never loads a cloud SDK it does not need.
CLOUD_MODULES = {
    "s3": "s3",
    "gs": "gcs",
    "azure-blob": "azure",
    "azure": "azure",  # deprecated spelling CockroachDB still accepts
    "azure-storage": "azure",  # older External Connection scheme
}
CLOUD_SCHEMES = tuple(CLOUD_MODULES)


def open_storage(uri: str, settings: StorageSettings | None = None) -> ExternalStorage:
    """Open the storage a collection or backup URI names."""
    settings = settings or StorageSettings()
    shown = redact_uri(uri)
    if not uri:
        raise StorageError("empty storage URI")
    if "\0" in uri:
        raise StorageError(f"{shown!r}: a storage URI may not contain a NUL byte")
    parsed = parse_uri(uri)
    scheme = parsed.scheme
    if not scheme or "://" not in uri:
        raise StorageError(
            f"{shown!r}: not a storage URI (expected e.g. nodelocal://self/backups, "
            "file:///abs/path, s3://bucket/path)"
        )
    try:
        parts = urlsplit(uri)
    except ValueError as e:
        raise StorageError(f"{shown!r}: not a valid URI: {e}") from None
    if "@" in parts.netloc:
        raise StorageError(
            f"{shown}: credentials go in the URI's query parameters (e.g. AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY), not in a user:password@ part"
        )
    if scheme == "nodelocal":
        return _open_nodelocal(uri, shown, settings)
    if scheme == "file":
        return _open_file(uri, shown)
    if scheme in CLOUD_MODULES:
        try:
            module = importlib.import_module(f"engine.storage.{CLOUD_MODULES[scheme]}")
        except ModuleNotFoundError as e:
            if (e.name or "").startswith("engine."):
                raise  # one of our own modules is missing: a broken install, not the URI's fault
            raise StorageError(f"{shown}: {scheme}:// needs the {e.name} package: {e}") from None
        storage: ExternalStorage = module.open_storage(uri, settings)
        return storage
    if scheme in ("userfile", "external"):
        raise StorageError(f"{shown}: {scheme}:// needs a CockroachDB cluster")
    raise StorageError(f"{shown}: unsupported storage scheme {scheme!r}")


def _open_nodelocal(uri: str, shown: str, settings: StorageSettings) -> ExternalStorage:
    from engine.storage.local import LocalStorage

    parts = urlsplit(uri)
    host = parts.netloc
    if host == "":
        raise StorageError(
            "host component of nodelocal URI must be a node ID (use 'self' to specify each node "
            f"should access its own local filesystem): {shown}"
        )
    if host != "self" and not host.isdigit():
        raise StorageError(f"host component of nodelocal URI must be a node ID: {host}")
    if parts.query:
        raise StorageError(f"{shown}: nodelocal URIs take no query parameters")
    from engine.paths import ensure_private_dir

    jail = Path(settings.external_io_dir)
    rel = _local_path(unquote(parts.path), shown)
    # Created (0700, parents too) on the first write if missing, e.g. the default <data>/extern.
    root_storage = LocalStorage(jail, f"nodelocal://{host}", jail=jail, create_jail=ensure_private_dir)
    return root_storage.child(join_key(rel)) if rel else root_storage


def _open_file(uri: str, shown: str) -> ExternalStorage:
    from engine.storage.local import LocalStorage

    parts = urlsplit(uri)
    if parts.netloc not in ("", "localhost"):
        raise StorageError(f"{shown}: file:// URIs must name an absolute local path (file:///path)")
    if parts.query:
        raise StorageError(f"{shown}: file:// URIs take no query parameters")
    path = _local_path(unquote(parts.path), shown)
    if not path.startswith("/"):
        raise StorageError(f"{shown}: file:// URIs must name an absolute path")
    return LocalStorage(Path(path), f"file://{path.rstrip('/') or '/'}")


def _local_path(path: str, shown: str) -> str:
    if "\0" in path:
        raise StorageError(f"{shown}: the path contains a NUL byte (%00)")
    return path
