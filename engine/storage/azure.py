"""Azure Blob Storage: `azure-blob://<container>/<path>?AZURE_ACCOUNT_NAME=...&...`.

Also the deprecated `azure://` and the older External Connection scheme `azure-storage://`.
URI rules from cockroachdb/cockroach `pkg/cloud/azure/azure_storage.go` (azureAuthMethod,
parseAzureURL, makeAzureStorage), checked in CockroachDB's order:
1. AUTH: "" / specified is legacy shared key when AZURE_ACCOUNT_KEY is present, else explicit
   RBAC (client secret); implicit is the default credential chain; anything else
   `unsupported value X for AUTH`;
2. consumed: AZURE_ACCOUNT_NAME, AZURE_ACCOUNT_KEY, AZURE_ENVIRONMENT, AZURE_CLIENT_ID,
   AZURE_CLIENT_SECRET, AZURE_TENANT_ID (and COCKROACH_LOCALITY, ignored); leftovers give
   `unknown azure query parameters: A, B` (Go's order is map order; we sort);
3. `azure uri missing "AZURE_ACCOUNT_NAME" parameter`;
4. legacy needs the key and no role param, explicit all three role params and no key, else
   `explicit azure uri requires exactly one authentication method: ...`; implicit refuses any of
   them: `implicit azure auth does not support uri param A, B`;
5. AZURE_ENVIRONMENT (default AzurePublicCloud) through go-autorest EnvironmentFromName
   (upper-cased names) -> `https://<account>.blob.<StorageEndpointSuffix>`; an unknown name is
   `azure environment: autorest/azure: There is no cloud environment matching the name "X"`.
Container = URL host, prefix = path without leading slashes.

The SDK (azure-storage-blob, azure-identity) is imported only when a storage is opened.
Create-only writes are one conditional Put Blob (`If-None-Match: *`; 409 -> AlreadyExists).
Listing is paginated and delimited server-side (List Blobs with `delimiter`), so a delimiter of
"data/" never enumerates data files. Retries: the SDK's exponential policy on 5xx / timeouts
(Azure Storage throttles with 503 ServerBusy), with short connect retries.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlsplit

from engine.cloud.azure import azure_cloud
from syntax.uri import parse_uri, redact_uri

from engine.cloud.deadlines import with_deadlines
from engine.storage.base import (
    AlreadyExists,
    ExternalStorage,
    NotFound,
    StorageError,
    StorageSettings,
    collapse,
    join_key,
)

ACCOUNT_NAME = "AZURE_ACCOUNT_NAME"
ACCOUNT_KEY = "AZURE_ACCOUNT_KEY"
ENVIRONMENT = "AZURE_ENVIRONMENT"
CLIENT_ID = "AZURE_CLIENT_ID"
CLIENT_SECRET = "AZURE_CLIENT_SECRET"
TENANT_ID = "AZURE_TENANT_ID"
AUTH = "AUTH"
LOCALITY = "COCKROACH_LOCALITY"
KNOWN_PARAMS = (AUTH, ACCOUNT_NAME, ACCOUNT_KEY, ENVIRONMENT, CLIENT_ID, CLIENT_SECRET, TENANT_ID)

EXPLICIT_ERROR = (
    f'explicit azure uri requires exactly one authentication method: "{ACCOUNT_KEY}" OR all '
    f'three of "{TENANT_ID}", "{CLIENT_ID}", and "{CLIENT_SECRET}"'
)
MAX_PAGE = 5000  # List Blobs maxresults upper bound


@dataclass(frozen=True, repr=False)
class AzureBlobURI:
    """A validated azure-blob URI. Holds secrets: `repr` shows only the redacted URI."""

    uri: str
    container: str
    prefix: str
    account_name: str
    auth: str  # "legacy" (shared key) | "explicit" (client secret) | "implicit"
    account_key: str = ""
    client_id: str = ""
    client_secret: str = ""
    tenant_id: str = ""
    environment: str = "AzurePublicCloud"

    @property
    def display_uri(self) -> str:
        return redact_uri(self.uri)

    def __repr__(self) -> str:
        return f"AzureBlobURI({self.display_uri!r})"

    def endpoint(self) -> tuple[str, str]:
        """(https://<account>.blob.<suffix>, authority host) for the URI's environment."""
        name = self.environment.upper()
        if name == "AZURESTACKCLOUD":
            raise StorageError(
                f"{self.display_uri}: azure environment: AzureStackCloud needs an environment "
                "file (AZURE_ENVIRONMENT_FILEPATH), which rewrap does not read"
            )
        cloud = azure_cloud(name)
        if cloud is None:
            raise StorageError(
                "azure environment: autorest/azure: There is no cloud environment matching the "
                f'name "{name}" ({self.display_uri})'
            )
        return f"https://{self.account_name}.blob.{cloud.storage_suffix}", cloud.login_host


def parse_azure_uri(uri: str) -> AzureBlobURI:
    """Validate a storage URI with CockroachDB's rules; opens nothing, imports no SDK."""
    shown = redact_uri(uri)
    parsed = parse_uri(uri.split("#", 1)[0])  # storage URIs go through Go's url.Parse
    values: dict[str, str] = {}
    for p in parsed.params:
        values.setdefault(p.name, p.value)  # Go's Values.Get: the first value
    auth_param = values.get(AUTH, "")
    if auth_param in ("", "specified"):
        auth = "legacy" if values.get(ACCOUNT_KEY) else "explicit"
    elif auth_param == "implicit":
        auth = "implicit"
    else:
        raise StorageError(f"unsupported value {auth_param} for {AUTH} ({shown})")
    unknown = sorted({n for n in values if n not in KNOWN_PARAMS and n != LOCALITY})
    if unknown:
        raise StorageError(f"unknown azure query parameters: {', '.join(unknown)} ({shown})")
    netloc = urlsplit(uri, allow_fragments=True).netloc
    cfg = AzureBlobURI(
        uri=uri,
        container=netloc.rpartition("@")[2],
        prefix=parsed.path.lstrip("/"),
        account_name=values.get(ACCOUNT_NAME, ""),
        auth=auth,
        account_key=values.get(ACCOUNT_KEY, ""),
        client_id=values.get(CLIENT_ID, ""),
        client_secret=values.get(CLIENT_SECRET, ""),
        tenant_id=values.get(TENANT_ID, ""),
        environment=values.get(ENVIRONMENT, "") or "AzurePublicCloud",
    )
    if not cfg.account_name:
        raise StorageError(f'azure uri missing "{ACCOUNT_NAME}" parameter ({shown})')
    roles = {TENANT_ID: cfg.tenant_id, CLIENT_ID: cfg.client_id, CLIENT_SECRET: cfg.client_secret}
    if auth == "legacy" and any(roles.values()):
        raise StorageError(f"{EXPLICIT_ERROR} ({shown})")
    if auth == "explicit" and not all(roles.values()):
        raise StorageError(f"{EXPLICIT_ERROR} ({shown})")
    if auth == "implicit":
        extra = [ACCOUNT_KEY] if cfg.account_key else []
        extra += [name for name, value in roles.items() if value]
        if extra:
            raise StorageError(
                f"implicit azure auth does not support uri param {', '.join(extra)} ({shown})"
            )
    if not cfg.container:
        # CockroachDB only fails at the first request; say it up front.
        raise StorageError(f"{shown}: azure uri must name a container (azure-blob://<container>/path)")
    return cfg


def open_storage(uri: str, settings: StorageSettings) -> AzureBlobStorage:
    """Open the container a URI names.

    `settings.azure_blob_endpoint` is a TEST-ONLY setting (REWRAP_TEST_AZURE_BLOB_ENDPOINT; no
    URI can set it) in one of two forms:
    - a URL such as azurite's `http://127.0.0.1:PORT/devstoreaccount1`: replaces
      https://<account>.blob.<suffix>; the URI's credential is used (shared key works);
    - an azurite connection string (`...;AccountName=..;AccountKey=..;BlobEndpoint=..;`):
      replaces endpoint *and* credential, so URIs with client-secret or implicit auth (such
      as CockroachDB's docs examples) reach azurite, which has no Azure AD over http.
    """
    cfg = parse_azure_uri(uri)
    account_url, authority = cfg.endpoint()
    from engine.sdklog import quiet_sdk_logging

    quiet_sdk_logging()
    from azure.storage.blob import BlobServiceClient, ExponentialRetry

    options: dict[str, Any] = dict(
        # Half-second steps: the SDK annotates these int but computes the backoff in float
        # (ExponentialRetry.get_backoff_time, random.uniform), so 0.5 works as meant.
        retry_policy=ExponentialRetry(
            initial_backoff=0.5,  # type: ignore[arg-type]
            increment_base=2,
            retry_total=5,
            random_jitter_range=0.5,  # type: ignore[arg-type]
            retry_connect=2,
            retry_read=3,
            retry_status=5,
        ),
        connection_timeout=10,
        read_timeout=60,
    )
    test_endpoint = settings.azure_blob_endpoint
    if test_endpoint and "AccountKey=" in test_endpoint:
        client = BlobServiceClient.from_connection_string(test_endpoint, **options)
    else:
        if test_endpoint:
            account_url = test_endpoint.rstrip("/")
        client = BlobServiceClient(account_url, credential=_credential(cfg, authority), **options)
    return AzureBlobStorage(
        client.get_container_client(cfg.container),
        cfg.prefix,
        f"{cfg.display_uri.split('?', 1)[0].rstrip('/')}",
        secrets=tuple(s for s in (cfg.account_key, cfg.client_secret) if s),
    )


def _credential(cfg: AzureBlobURI, authority: str) -> Any:
    if cfg.auth == "legacy":
        try:
            base64.b64decode(cfg.account_key, validate=True)
        except (binascii.Error, ValueError):
            raise StorageError(
                f"azure shared key credential: {ACCOUNT_KEY} is not valid base64 "
                f"(percent-encode '+', '/' and '=' in the URI) ({cfg.display_uri})"
            ) from None
        from azure.core.credentials import AzureNamedKeyCredential

        return AzureNamedKeyCredential(cfg.account_name, cfg.account_key)
    if cfg.auth == "explicit":
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(
            cfg.tenant_id, cfg.client_id, cfg.client_secret, authority=authority
        )
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


@with_deadlines
class AzureBlobStorage(ExternalStorage):
    """One container, rooted at a prefix. Thread safe (the SDK's clients are). Every call has
    the storage deadline and a scrubbed error text (engine/cloud/deadlines.py)."""

    def __init__(
        self,
        container: Any,
        root: str,
        display_uri: str,
        *,
        secrets: tuple[str, ...] = (),
        page_size: int = MAX_PAGE,
        owns_client: bool = True,
    ) -> None:
        self._container = container
        self._owns_client = owns_client  # children share the parent's client; only it closes
        self.root = root.strip("/")
        self.display_uri = display_uri
        self._secrets = secrets
        self.page_size = page_size
        self.list_requests = 0  # List Blobs calls (pages) made; for tests and benchmarks

    @property
    def endpoint(self) -> str:
        url = str(getattr(self._container, "url", "") or self.display_uri)
        return url.split("?", 1)[0]  # a SAS query is a secret

    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def _name(self, key: str) -> str:
        return join_key(self.root, key)

    def _where(self, key: str) -> str:
        return f"{self.display_uri.rstrip('/')}/{key.lstrip('/')}" if key else self.display_uri

    def list(self, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        base = self.root + "/" if self.root else ""
        dest = base + prefix
        seen_prefixes: set[str] = set()
        try:
            if delimiter:
                pages = self._container.walk_blobs(
                    name_starts_with=dest or None, delimiter=delimiter,
                    results_per_page=self.page_size,
                ).by_page()
            else:
                pages = self._container.list_blobs(
                    name_starts_with=dest or None, results_per_page=self.page_size
                ).by_page()
            from azure.storage.blob import BlobPrefix

            for page in pages:
                self.list_requests += 1
                names = []
                for item in page:
                    name = item.name
                    if isinstance(item, BlobPrefix):
                        name = _fix_prefix(name, dest, delimiter)
                        if name in seen_prefixes:
                            continue
                        seen_prefixes.add(name)
                    names.append(name[len(base):])
                yield from sorted(names, key=lambda k: k.encode())
        except Exception as e:  # noqa: BLE001 - SDK errors mapped below
            self._raise(e, prefix, "list")

    def read(self, key: str) -> bytes:
        try:
            data: bytes = self._container.download_blob(self._name(key)).readall()
            return data
        except Exception as e:  # noqa: BLE001
            self._raise(e, key, "read")

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            data: bytes = self._container.download_blob(
                self._name(key), offset=offset, length=length
            ).readall()
            return data
        except Exception as e:  # noqa: BLE001
            if getattr(e, "status_code", None) == 416:  # range starts past the end
                self.size(key)  # NotFound if the blob itself is missing
                return b""
            self._raise(e, key, "read")

    def size(self, key: str) -> int:
        try:
            return int(self._container.get_blob_client(self._name(key)).get_blob_properties().size)
        except Exception as e:  # noqa: BLE001
            self._raise(e, key, "stat")

    def write_new(self, key: str, data: bytes) -> None:
        if not key.strip("/"):
            raise StorageError(f"{self._where(key)}: empty object name")
        try:
            self._container.upload_blob(
                self._name(key), bytes(data), overwrite=False, if_none_match="*"
            )
        except Exception as e:  # noqa: BLE001
            self._raise(e, key, "write")

    def child(self, path: str) -> AzureBlobStorage:
        key = join_key(path)
        if not key:
            return self
        return AzureBlobStorage(
            self._container,
            join_key(self.root, key),
            f"{self.display_uri.rstrip('/')}/{key}",
            secrets=self._secrets,
            page_size=self.page_size,
            owns_client=False,
        )

    def close(self) -> None:
        if not self._owns_client:
            return
        try:
            self._container.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass

    # -- errors ----------------------------------------------------------------------------------

    def _raise(self, e: Exception, key: str, op: str) -> NoReturn:
        """Map an SDK error to StorageError / NotFound / AlreadyExists, naming object and cause."""
        if isinstance(e, StorageError):
            raise e
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceExistsError,
            ResourceNotFoundError,
            ServiceRequestError,
            ServiceResponseError,
        )

        where = self._where(key)
        code = getattr(e, "error_code", None) or ""
        if isinstance(e, ResourceExistsError) or code == "BlobAlreadyExists":
            raise AlreadyExists(f"{where}: already exists") from None
        if isinstance(e, ResourceNotFoundError):
            if code == "ContainerNotFound":
                container = getattr(self._container, "container_name", "?")
                raise NotFound(f"{where}: container {container!r} does not exist") from None
            raise NotFound(f"{where}: no such object") from None
        if isinstance(e, ClientAuthenticationError):
            cause = f"access denied ({self._first_line(e)})"
        elif isinstance(e, HttpResponseError) and e.status_code:
            cause = f"HTTP {e.status_code} {code or e.reason or ''}".rstrip()
            detail = self._first_line(e)
            if detail and detail != code:
                cause += f": {detail}"
        elif isinstance(e, (ServiceRequestError, ServiceResponseError)):
            cause = f"cannot reach the blob service: {self._first_line(e)}"
        else:
            cause = f"{type(e).__name__}: {self._first_line(e)}"
        raise StorageError(f"{where}: cannot {op}: {cause}") from None

    def _first_line(self, e: Exception) -> str:
        text = (getattr(e, "message", None) or str(e) or "").strip().splitlines()
        line = text[0] if text else ""
        for secret in self._secrets:
            line = line.replace(secret, "redacted")
        return line[:300]


def _fix_prefix(name: str, dest: str, delimiter: str) -> str:
    """A BlobPrefix as S3's CommonPrefixes rule says: cut right after the first delimiter.

    The Blob service does this for string delimiters, but azurite 3.37.0 cuts one character
    after the delimiter's *start* (node_modules/azurite/dist/src/blob/persistence/
    PageWithDelimiter.js: `name.substr(0, delimiterPosAfterPrefix + 1)`), so "data/" comes back
    as "d". Both forms end where the delimiter starts plus one character, so the fix is exact.
    """
    if name.endswith(delimiter):
        return name
    if len(delimiter) > 1 and name.endswith(delimiter[0]) and len(name) > len(dest):
        return collapse(name[:-1] + delimiter, dest, delimiter)
    return name
