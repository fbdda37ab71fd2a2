"""Google Cloud Storage: `gs://<bucket>/<path>?AUTH=...&CREDENTIALS=...` (google-cloud-storage).

URI rules from cockroachdb/cockroach `pkg/cloud/gcp/gcs_storage.go` (parseGSURL, makeGCSStorage):
- params consumed: ASSUME_ROLE (comma-separated chain, last = target, earlier = delegates), AUTH,
  GOOGLE_BILLING_PROJECT (requester pays: `bucket.UserProject`), CREDENTIALS (std base64 of a
  service-account JSON key), BEARER_TOKEN (static OAuth token, no refresh); anything else but
  COCKROACH_LOCALITY -> `unknown GS query parameters: A, B` (Go joins in map order; we sort);
- AUTH=implicit -> application default credentials; *any other* AUTH value (storage has no
  "unsupported value" check, unlike gcp_kms.go) -> CREDENTIALS, else BEARER_TOKEN, else
  `CREDENTIALS or BEARER_TOKEN must be set if "AUTH" is "specified"`;
- ASSUME_ROLE impersonates the target through the delegates with those source credentials;
- the object prefix is the URI path with leading slashes trimmed.

Write-once: `write_new` is one upload with `if_generation_match=0` (GCS's "only if absent"); a
412 means someone else created the object first -> AlreadyExists. Our files are small, so
google-cloud-storage sends them as one multipart request (it switches to a resumable session above
8 MiB; real GCS honours the precondition on both, fake-gcs-server only on the single request).
Listing is paginated with prefix + delimiter done by the server, so a `/` delimiter never walks
`data/`. Retries with exponential backoff cover 429, 5xx and dropped connections.

The SDK is imported by `open_storage`, never when this module is imported.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import threading
from collections.abc import Iterator
from typing import Any

from syntax.uri import parse_uri, redact_uri

from engine.cloud.gcp import CredentialsError, first_line, google_credentials

from engine.cloud.deadlines import with_deadlines
from engine.storage.base import (
    AlreadyExists,
    ExternalStorage,
    NotFound,
    StorageError,
    StorageSettings,
    join_key,
)

SCHEME = "gs"
AUTH = "AUTH"
AUTH_IMPLICIT = "implicit"
AUTH_SPECIFIED = "specified"
CREDENTIALS = "CREDENTIALS"
BEARER_TOKEN = "BEARER_TOKEN"
ASSUME_ROLE = "ASSUME_ROLE"
BILLING_PROJECT = "GOOGLE_BILLING_PROJECT"
KNOWN_PARAMS = (ASSUME_ROLE, AUTH, BILLING_PROJECT, CREDENTIALS, BEARER_TOKEN)
LOCALITY_PARAM = "COCKROACH_LOCALITY"

# gcs.ScopeReadWrite in the Go client.
SCOPE_READ_WRITE = "https://www.googleapis.com/auth/devstorage.read_write"
PAGE_SIZE = 1000
# (connect, read) seconds per HTTP request, and the total time the retry loop may spend.
TIMEOUT = (10.0, 60.0)
RETRY_DEADLINE = 120.0
# Against a test endpoint (always local), give up quickly: a stopped server fails the test fast.
TEST_TIMEOUT = (2.0, 30.0)
TEST_RETRY_DEADLINE = 3.0


class GCSOptions:
    """The consumed params of a gs:// URI (values may be secrets: no repr of them)."""

    __slots__ = ("bucket", "prefix", "auth", "credentials", "bearer_token", "assume_role",
                 "delegates", "billing_project")

    def __init__(self, uri: str) -> None:
        shown = redact_uri(uri)
        parsed = parse_uri(uri)
        values: dict[str, str] = {}
        for p in parsed.params:
            values.setdefault(p.name, p.value)
        unknown = sorted({n for n in values if n not in KNOWN_PARAMS and n != LOCALITY_PARAM})
        if unknown:
            raise StorageError(f"unknown GS query parameters: {', '.join(unknown)} ({shown})")
        self.bucket = parsed.netloc
        if not self.bucket:
            raise StorageError(f"{shown}: gs:// URIs must name a bucket (gs://<bucket>/<path>)")
        self.prefix = parsed.path.lstrip("/")
        self.auth = values.get(AUTH, "")
        self.credentials = values.get(CREDENTIALS, "")
        self.bearer_token = values.get(BEARER_TOKEN, "")
        roles = [r for r in values.get(ASSUME_ROLE, "").split(",")] if values.get(ASSUME_ROLE) else []
        self.assume_role = roles[-1] if roles else ""
        self.delegates = roles[:-1]
        self.billing_project = values.get(BILLING_PROJECT, "")
        if self.auth != AUTH_IMPLICIT:
            if self.credentials:
                decode_credentials(self.credentials, shown)
            elif not self.bearer_token:
                raise StorageError(
                    f'{CREDENTIALS} or {BEARER_TOKEN} must be set if "{AUTH}" is '
                    f'"{AUTH_SPECIFIED}" ({shown})'
                )

    def __repr__(self) -> str:
        return f"GCSOptions(bucket={self.bucket!r}, prefix={self.prefix!r})"


def decode_credentials(encoded: str, shown: str) -> dict[str, Any]:
    """The service-account JSON inside CREDENTIALS (Go: base64.StdEncoding, then the JSON).

    Errors keep CockroachDB's headline `error getting credentials from CREDENTIALS: ...` and
    never echo the value.
    """
    try:
        raw = base64.b64decode(encoded.replace("\r", "").replace("\n", ""), validate=True)
    except (binascii.Error, ValueError):
        raise StorageError(
            f"error getting credentials from {CREDENTIALS}: illegal base64 data ({shown})"
        ) from None
    try:
        info = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        reason = e.msg if isinstance(e, json.JSONDecodeError) else "not UTF-8"
        raise StorageError(
            f"error getting credentials from {CREDENTIALS}: not a JSON key ({reason}) ({shown})"
        ) from None
    if not isinstance(info, dict):
        raise StorageError(f"error getting credentials from {CREDENTIALS}: not a JSON object ({shown})")
    return info


def _credentials(opts: GCSOptions, shown: str) -> Any:
    """google.auth credentials for the URI, or None for the library's default chain."""
    info = decode_credentials(opts.credentials, shown) if opts.credentials and opts.auth != AUTH_IMPLICIT else None
    try:
        return google_credentials(
            implicit=opts.auth == AUTH_IMPLICIT,
            service_account_info=info,
            bearer_token=opts.bearer_token,
            assume_role=opts.assume_role,
            delegates=opts.delegates or (),
            scopes=[SCOPE_READ_WRITE],
        )
    except CredentialsError as e:
        raise StorageError(f"{e} ({shown})") from None


class _Shared:
    """One client and bucket handle, shared by a storage and all its children."""

    def __init__(self, opts: GCSOptions, shown: str, settings: StorageSettings) -> None:
        from engine.sdklog import quiet_sdk_logging

        quiet_sdk_logging()
        from google.api_core import exceptions as api_exceptions
        from google.api_core.retry import Retry, if_exception_type
        from google.auth import exceptions as auth_exceptions
        from google.auth.credentials import AnonymousCredentials
        import google.cloud.storage as storage
        import requests

        test = bool(settings.gcs_endpoint)
        self.endpoint = settings.gcs_endpoint or "https://storage.googleapis.com"
        if not (test and opts.auth == AUTH_IMPLICIT):
            # Specified credentials are parsed (so checked) even against a test endpoint; the
            # implicit chain is not looked for there (a test machine has none).
            creds = _credentials(opts, shown)
        if test:
            creds = AnonymousCredentials()
        client_options = {"api_endpoint": settings.gcs_endpoint} if test else None
        self.client = storage.Client(
            project=opts.billing_project or "<none>",
            credentials=creds,
            client_options=client_options,
        )
        self.bucket = self.client.bucket(opts.bucket, user_project=opts.billing_project or None)
        self.timeout = TEST_TIMEOUT if test else TIMEOUT
        # Throttling, 5xx and dropped connections (google-cloud-storage's own retryable set,
        # named here rather than taken from its private _RETRYABLE_TYPES), with our deadline.
        self.retry = Retry(
            predicate=if_exception_type(
                api_exceptions.TooManyRequests,
                api_exceptions.InternalServerError,
                api_exceptions.BadGateway,
                api_exceptions.ServiceUnavailable,
                api_exceptions.GatewayTimeout,
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.Timeout,
                ConnectionError,
            ),
            initial=0.1 if test else 1.0,
            maximum=1.0 if test else 32.0,
            multiplier=2.0,
            timeout=TEST_RETRY_DEADLINE if test else RETRY_DEADLINE,
        )
        self.api_errors = api_exceptions
        self.auth_errors = auth_exceptions
        self.transport_errors = (requests.exceptions.RequestException, ConnectionError)
        self.lock = threading.Lock()
        self.list_pages = 0

    def close(self) -> None:
        """Close the client's HTTP session (requests opens a new pool if it is used again)."""
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing is best effort
            pass


@with_deadlines
class GCSStorage(ExternalStorage):
    """Objects under gs://<bucket>/<root>/; thread-safe (the HTTP session is shared). Every
    call has the storage deadline and a scrubbed error text (engine/cloud/deadlines.py)."""

    def __init__(self, uri: str, opts: GCSOptions, shared: _Shared, *, root: str | None = None,
                 page_size: int = PAGE_SIZE) -> None:
        self.uri = uri
        self.opts = opts
        self.root = join_key(opts.prefix if root is None else root)
        self.display_uri = _display(uri, opts.bucket, self.root)
        self.page_size = page_size
        self._shared = shared
        self._owns_shared = root is None  # made by open_storage; children share its client

    # -- helpers ------------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return self._shared.endpoint

    def secrets(self) -> tuple[str, ...]:
        from engine.scrub import uri_secrets

        return uri_secrets(self.uri)

    @property
    def list_pages(self) -> int:
        """How many list requests (pages) this storage and its relatives have made."""
        return self._shared.list_pages

    def _name(self, key: str) -> str:
        name = join_key(self.root, key)
        if not name or any(p in (".", "..") for p in key.split("/")):
            raise StorageError(f"{self.display_uri}: bad object key {key!r}")
        return name

    def _object_where(self, name: str) -> str:
        return f"gs://{self.opts.bucket}/{name}"

    def _where(self, key: str) -> str:
        """The object a key names, as errors show it (same convention as s3 / azure)."""
        return self._object_where(join_key(self.root, key))

    def _fail(self, e: Exception, name: str, what: str) -> StorageError:
        """Map an SDK error to ours, naming the object and the cause (never a credential)."""
        api = self._shared.api_errors
        where = self._object_where(name)
        if isinstance(e, api.PreconditionFailed):
            return AlreadyExists(f"{where}: already exists")
        if isinstance(e, api.NotFound):
            return NotFound(f"{where}: {what}: not found")
        if isinstance(e, api.GoogleAPICallError):
            return StorageError(f"{where}: {what}: HTTP {e.code} {_api_message(e)}")
        if isinstance(e, self._shared.auth_errors.GoogleAuthError):
            return StorageError(f"{where}: {what}: credentials refused: {first_line(e)}")
        if isinstance(e, api.RetryError):
            cause = e.cause if e.cause is not None else e
            return StorageError(f"{where}: {what}: gave up after retries: {first_line(cause)}")
        return StorageError(f"{where}: {what}: {type(e).__name__}: {first_line(e)}")

    def _errors(self) -> tuple[type[Exception], ...]:
        s = self._shared
        return (s.api_errors.GoogleAPICallError, s.api_errors.RetryError,
                s.auth_errors.GoogleAuthError, *s.transport_errors)

    # -- interface ----------------------------------------------------------------------------

    def list(self, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        base = self.root + "/" if self.root else ""
        full_prefix = base + prefix
        s = self._shared
        try:
            pages = s.bucket.list_blobs(
                prefix=full_prefix or None,
                delimiter=delimiter or None,
                page_size=self.page_size,
                timeout=s.timeout,
                retry=s.retry,
            ).pages
            # Objects arrive in lexical order across pages; a server may send a page's common
            # prefixes before objects that sort below them (fake-gcs-server sends them all on
            # page one). Hold prefixes back and merge, so the result is lexical either way.
            pending: list[bytes] = []
            seen: set[str] = set()
            while True:
                page = next(pages, None)
                if page is None:
                    break
                with s.lock:
                    s.list_pages += 1
                for p in page.prefixes:
                    if p not in seen:
                        seen.add(p)
                        heapq.heappush(pending, p.encode())
                for blob in page:
                    name = blob.name.encode()
                    while pending and pending[0] < name:
                        yield heapq.heappop(pending).decode()[len(base):]
                    yield blob.name[len(base):]
            while pending:
                yield heapq.heappop(pending).decode()[len(base):]
        except self._errors() as e:
            raise self._fail(e, full_prefix, "cannot list") from None

    def read(self, key: str) -> bytes:
        name = self._name(key)
        s = self._shared
        try:
            data: bytes = s.bucket.blob(name).download_as_bytes(timeout=s.timeout, retry=s.retry)
        except self._errors() as e:
            raise self._fail(e, name, "cannot read") from None
        return data

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise StorageError(f"{self._where(key)}: bad range {offset}+{length}")
        name = self._name(key)
        if length == 0:
            self.size(key)  # still NotFound for a missing object
            return b""
        s = self._shared
        try:
            # One Range request: bytes=offset-(offset+length-1) (end is inclusive).
            data: bytes = s.bucket.blob(name).download_as_bytes(
                start=offset, end=offset + length - 1, timeout=s.timeout, retry=s.retry
            )
        except s.api_errors.RequestRangeNotSatisfiable:
            self.size(key)
            return b""
        except self._errors() as e:
            raise self._fail(e, name, "cannot read range") from None
        return data

    def size(self, key: str) -> int:
        name = self._name(key)
        s = self._shared
        try:
            blob = s.bucket.get_blob(name, timeout=s.timeout, retry=s.retry)
        except self._errors() as e:
            raise self._fail(e, name, "cannot stat") from None
        if blob is None:
            raise NotFound(f"{self._object_where(name)}: no such object")
        return int(blob.size or 0)

    def write_new(self, key: str, data: bytes) -> None:
        name = self._name(key)
        s = self._shared
        try:
            # A single conditional request: generation 0 = "only if no live object exists".
            s.bucket.blob(name).upload_from_string(
                bytes(data),
                content_type="application/octet-stream",
                if_generation_match=0,
                checksum="crc32c",
                timeout=s.timeout,
                retry=s.retry,
            )
        except self._errors() as e:
            raise self._fail(e, name, "cannot write") from None

    def child(self, path: str) -> GCSStorage:
        return GCSStorage(self.uri, self.opts, self._shared, root=join_key(self.root, path),
                          page_size=self.page_size)

    def close(self) -> None:
        """Close the shared client's HTTP session (the root storage only: children share it)."""
        if self._owns_shared:
            self._shared.close()

    def __repr__(self) -> str:
        return f"GCSStorage({self.display_uri!r})"


def _api_message(e: Exception) -> str:
    message = getattr(e, "message", "") or first_line(e)
    return str(message).strip().splitlines()[0] if str(message).strip() else type(e).__name__


def _display(uri: str, bucket: str, root: str) -> str:
    """The redacted URI with its path replaced by `root` (the query, redacted, kept)."""
    q = uri.find("?")
    query = uri[q:] if q >= 0 else ""
    return redact_uri(f"{SCHEME}://{bucket}/{root}{query}" if root else f"{SCHEME}://{bucket}{query}")


def open_storage(uri: str, settings: StorageSettings, *, page_size: int = PAGE_SIZE) -> GCSStorage:
    """Validate the URI with CockroachDB's rules (no SDK import on failure), then build the
    client. `settings.gcs_endpoint` (tests only) points it at a stand-in, anonymously."""
    opts = GCSOptions(uri)
    return GCSStorage(uri, opts, _Shared(opts, redact_uri(uri), settings), page_size=page_size)
