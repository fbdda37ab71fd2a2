"""Amazon S3 (and S3-compatible) storage: `s3://bucket/path?...`.

URI rules follow cockroachdb/cockroach `pkg/cloud/amazon/s3_storage.go` (parseS3URL and
MakeS3Storage, SDK v2 version with AWS_USE_PATH_STYLE), checked in CockroachDB's order:
1. no host -> `empty host component; s3 URI must specify a target bucket`;
2. AWS_USE_PATH_STYLE is parsed first with Go's strconv.ParseBool ->
   `cannot parse AWS_USE_PATH_STYLE as bool: strconv.ParseBool: parsing "x": invalid syntax`;
3. leftover params -> `unknown S3 query parameters: A, B` (Go's order is map order; we sort);
4. AUTH "" / specified needs AWS_ACCESS_KEY_ID then AWS_SECRET_ACCESS_KEY; implicit uses the
   default credential chain; else `unsupported value X for AUTH`;
5. AWS_SERVER_ENC_MODE: `AES256`, or `aws:kms` which needs AWS_SERVER_KMS_ID.
Spaces in the secret become `+` (a `+` not escaped in a query reads as a space). AWS_ENDPOINT gets
`https://` when it has no scheme (constructEndpointURI) and is used for STS too. ASSUME_ROLE is a
comma-separated chain `<arn>[;external_id=<id>]`, earlier entries are delegates (each one's
credentials assume the next). With no AWS_REGION CockroachDB asks the bucket (GetBucketRegion
with the hint us-east-1); with a custom endpoint we use us-east-1 without asking.

Writes are single PutObject requests with `IfNoneMatch='*'`: create-only on the server, never
check-then-write. Listing is ListObjectsV2 with the delimiter sent to the server, page by page, so
a listing with delimiter `data/` never enumerates data files. botocore's "standard" retry mode
retries throttling, 5xx and connection errors with exponential backoff. boto3 is imported only
when the first request is made.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from syntax.uri import parse_uri, redact_uri

from engine.cloud.aws import (
    AssumeRoleFailed,
    RoleProvider,
    assume_role_chain,
    botocore_cause,
    endpoint_url,
    parse_role_providers,
)

from engine.cloud.deadlines import with_deadlines
from engine.storage.base import (
    AlreadyExists,
    ExternalStorage,
    NotFound,
    StorageError,
    StorageSettings,
    join_key,
)

ACCESS_KEY = "AWS_ACCESS_KEY_ID"
SECRET = "AWS_SECRET_ACCESS_KEY"
SESSION_TOKEN = "AWS_SESSION_TOKEN"
ENDPOINT = "AWS_ENDPOINT"
USE_PATH_STYLE = "AWS_USE_PATH_STYLE"
REGION = "AWS_REGION"
AUTH = "AUTH"
ENC_MODE = "AWS_SERVER_ENC_MODE"
ENC_KMS_ID = "AWS_SERVER_KMS_ID"
STORAGE_CLASS = "S3_STORAGE_CLASS"
ASSUME_ROLE = "ASSUME_ROLE"
LOCALITY = "COCKROACH_LOCALITY"  # ignored by cloud.ConsumeURL's leftover check

DEFAULT_MAX_ATTEMPTS = 5  # botocore "standard" mode: first try + 4 retries with backoff
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0
LIST_PAGE_SIZE = 1000  # S3's maximum keys per ListObjectsV2 page
CONFLICT_RETRIES = 3  # 409 ConditionalRequestConflict: a concurrent conditional write in flight

# Go strconv.ParseBool
_GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


@dataclass(frozen=True, repr=False)
class S3Config:
    """An s3:// URI validated with CockroachDB's rules; holds secrets, so repr is redacted."""

    uri: str
    bucket: str
    prefix: str
    access_key: str = ""
    secret: str = ""
    session_token: str = ""
    endpoint_url: str = ""
    use_path_style: bool = False
    region: str = ""
    auth: str = ""
    server_enc_mode: str = ""
    server_kms_id: str = ""
    storage_class: str = ""
    roles: tuple[RoleProvider, ...] = field(default=())  # delegates first, target role last

    @property
    def redacted_uri(self) -> str:
        return redact_uri(self.uri)

    def __repr__(self) -> str:
        return f"S3Config({self.redacted_uri!r})"


def _error(cause: str, uri: str) -> StorageError:
    return StorageError(f"{cause} (storage URI '{redact_uri(uri)}')")


def go_quote(s: str) -> str:
    """Go's %q for the printable ASCII a URI param holds (strconv error texts)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'




def parse_s3_uri(uri: str) -> S3Config:
    """Validate `uri` exactly as CockroachDB's parseS3URL + MakeS3Storage do; opens nothing."""
    parsed = parse_uri(uri)
    if not parsed.netloc:
        raise _error("empty host component; s3 URI must specify a target bucket", uri)
    values: dict[str, list[str]] = {}
    for p in parsed.params:
        values.setdefault(p.name, []).append(p.value)

    def consume(name: str) -> str:
        got = values.pop(name, None)
        return got[0] if got else ""

    roles = parse_role_providers(consume(ASSUME_ROLE))
    path_style_text = consume(USE_PATH_STYLE)
    path_style = False
    if path_style_text:
        if path_style_text not in _GO_BOOLS:
            raise _error(
                f"cannot parse {USE_PATH_STYLE} as bool: strconv.ParseBool: parsing "
                f"{go_quote(path_style_text)}: invalid syntax",
                uri,
            )
        path_style = _GO_BOOLS[path_style_text]
    access_key = consume(ACCESS_KEY)
    secret = consume(SECRET).replace(" ", "+")
    token = consume(SESSION_TOKEN)
    endpoint = consume(ENDPOINT)
    region = consume(REGION)
    auth = consume(AUTH)
    enc_mode = consume(ENC_MODE)
    enc_kms_id = consume(ENC_KMS_ID)
    storage_class = consume(STORAGE_CLASS)
    unknown = sorted(n for n in values if n != LOCALITY)
    if unknown:
        raise _error(f"unknown S3 query parameters: {', '.join(unknown)}", uri)
    if auth in ("", "specified"):
        for name, value in ((ACCESS_KEY, access_key), (SECRET, secret)):
            if not value:
                raise _error(f"AUTH is set to 'specified', but {name} is not set", uri)
    elif auth != "implicit":
        raise _error(f"unsupported value {auth} for AUTH", uri)
    if enc_mode:
        if enc_mode == "aws:kms":
            if not enc_kms_id:
                raise _error(
                    "AWS_SERVER_KMS_ID param must be set when using aws:kms server side "
                    "encryption mode.",
                    uri,
                )
        elif enc_mode != "AES256":
            raise _error(
                f"unsupported server encryption mode {enc_mode}. "
                "Supported values are `aws:kms` and `AES256`.",
                uri,
            )
    return S3Config(
        uri=uri,
        bucket=parsed.netloc,
        prefix=parsed.path.lstrip("/"),
        access_key=access_key,
        secret=secret,
        session_token=token,
        endpoint_url=_endpoint(endpoint, uri),
        use_path_style=path_style,
        region=region,
        auth=auth,
        server_enc_mode=enc_mode,
        server_kms_id=enc_kms_id,
        storage_class=storage_class,
        roles=roles,
    )


def _endpoint(endpoint: str, uri: str) -> str:
    if not endpoint:
        return ""
    try:
        return endpoint_url(endpoint)
    except ValueError as e:
        raise _error(str(e), uri) from None


class _Client:
    """One lazily built boto3 S3 client, shared by a storage and all its children."""

    def __init__(self, config: S3Config, max_attempts: int) -> None:
        self.config = config
        self.max_attempts = max_attempts
        self._lock = threading.Lock()
        self._client: Any = None

    def get(self) -> Any:
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._build()
                except StorageError:
                    raise
                except Exception as e:  # e.g. botocore's "Invalid endpoint"
                    raise StorageError(
                        f"cannot open an S3 client: {botocore_cause(e)} "
                        f"(storage URI '{self.config.redacted_uri}')"
                    ) from None
            return self._client

    def close(self) -> None:
        """Drop the client and its connection pool; a later call builds a new one."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

    @property
    def connected(self) -> bool:
        """Whether a client (and its connection pool) is open now."""
        return self._client is not None

    def _build(self) -> Any:
        from engine.sdklog import quiet_sdk_logging

        quiet_sdk_logging()
        import boto3
        from botocore.config import Config

        c = self.config
        session = boto3.session.Session()
        botocore_config = Config(
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            max_pool_connections=32,
            s3={"addressing_style": "path"} if c.use_path_style else None,
        )
        kw: dict[str, Any] = {"config": botocore_config}
        if c.endpoint_url:
            kw["endpoint_url"] = c.endpoint_url
        if c.auth in ("", "specified"):
            kw["aws_access_key_id"] = c.access_key
            kw["aws_secret_access_key"] = c.secret
            kw["aws_session_token"] = c.session_token or None
        if c.roles:
            keys = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
            creds = {k: kw.pop(k) for k in keys if k in kw}
            try:
                kw.update(assume_role_chain(
                    session, c.roles, creds, region_name=c.region or "us-east-1",
                    endpoint_url=c.endpoint_url or None, config=botocore_config,
                ))
            except AssumeRoleFailed as e:
                raise StorageError(f"{e} (storage URI '{c.redacted_uri}')") from None
        region = c.region or ("us-east-1" if c.endpoint_url else "")
        if not region:
            region = _bucket_region(session, c, kw)
        return session.client("s3", region_name=region, **kw)


def _bucket_region(session: Any, c: S3Config, kw: dict[str, Any]) -> str:
    """manager.GetBucketRegion: HeadBucket with the hint us-east-1, read x-amz-bucket-region."""
    from botocore.exceptions import ClientError

    probe = session.client("s3", region_name="us-east-1", **kw)
    try:
        response = probe.head_bucket(Bucket=c.bucket)
        headers = response["ResponseMetadata"]["HTTPHeaders"]
    except ClientError as e:
        headers = e.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    except Exception as e:
        raise StorageError(
            f"could not find s3 bucket's region: {botocore_cause(e)} (storage URI '{c.redacted_uri}')"
        ) from None
    region = headers.get("x-amz-bucket-region", "")
    if not region:
        raise StorageError(
            f"could not find s3 bucket's region: bucket {c.bucket!r} did not say "
            f"(storage URI '{c.redacted_uri}'); add AWS_REGION"
        )
    return str(region)


def _code(e: Exception) -> str:
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""




@with_deadlines
class S3Storage(ExternalStorage):
    """Objects under `s3://bucket/<root>/`; keys are relative to root. Every call has the
    storage deadline and a scrubbed error text (engine/cloud/deadlines.py)."""

    def __init__(self, config: S3Config, root: str, client: _Client, *, owns_client: bool = True) -> None:
        self.config = config
        self.root = join_key(root)
        self._client = client
        self._owns_client = owns_client  # the storage open_storage made; its children share it
        base = config.uri.split("?", 1)
        query = "?" + base[1] if len(base) > 1 else ""
        path = "/" + self.root if self.root else ""
        self.display_uri = redact_uri(f"s3://{config.bucket}{path}{query}")

    # -- helpers -----------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        c = self.config
        return c.endpoint_url or f"https://s3.{c.region or 'us-east-1'}.amazonaws.com"

    def secrets(self) -> tuple[str, ...]:
        from engine.scrub import uri_secrets

        return uri_secrets(self.config.uri)

    def _s3(self) -> Any:
        return self._client.get()

    def _full(self, key: str) -> str:
        return join_key(self.root, key)

    def _where(self, key: str) -> str:
        return f"s3://{self.config.bucket}/{self._full(key)}"

    def _fail(self, key: str, action: str, e: Exception) -> StorageError:
        if isinstance(e, StorageError):
            return e
        code = _code(e)
        where = self._where(key)
        if code in ("NoSuchKey", "404", "NotFound"):
            return NotFound(f"{where}: no such object")
        if code == "NoSuchBucket":
            return NotFound(f"{where}: no such bucket {self.config.bucket!r}")
        return StorageError(f"{where}: cannot {action}: {botocore_cause(e)}")

    # -- interface ---------------------------------------------------------------------------

    def list(self, prefix: str = "", delimiter: str = "") -> Iterator[str]:
        base = self.root + "/" if self.root else ""
        dest = base + prefix
        args: dict[str, Any] = {"Bucket": self.config.bucket, "Prefix": dest}
        if delimiter:
            args["Delimiter"] = delimiter
        try:
            paginator = self._s3().get_paginator("list_objects_v2")
            pages = paginator.paginate(**args, PaginationConfig={"PageSize": LIST_PAGE_SIZE})
            for page in pages:
                # Within a page S3 returns Contents and CommonPrefixes each sorted; pages come in
                # key order, so merging each page keeps the whole listing in byte order.
                names = [p["Prefix"] for p in page.get("CommonPrefixes", ())]
                names += [o["Key"] for o in page.get("Contents", ())]
                for name in sorted(names, key=lambda n: n.encode()):
                    yield name[len(base) :]
        except StorageError:
            raise
        except Exception as e:
            if _code(e) == "NoSuchBucket":
                raise NotFound(f"{self._where(prefix)}: no such bucket {self.config.bucket!r}") from None
            raise StorageError(f"{self._where(prefix)}: cannot list: {botocore_cause(e)}") from None

    def read(self, key: str) -> bytes:
        try:
            response = self._s3().get_object(Bucket=self.config.bucket, Key=self._full(key))
            data: bytes = response["Body"].read()
            return data
        except Exception as e:
            raise self._fail(key, "read", e) from None

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        if length <= 0:
            return b""
        try:
            response = self._s3().get_object(
                Bucket=self.config.bucket,
                Key=self._full(key),
                Range=f"bytes={offset}-{offset + length - 1}",
            )
            data: bytes = response["Body"].read()
            return data[:length]
        except Exception as e:
            if _code(e) == "InvalidRange":  # offset at or past the end: nothing to read
                return b""
            raise self._fail(key, "read", e) from None

    def size(self, key: str) -> int:
        try:
            response = self._s3().head_object(Bucket=self.config.bucket, Key=self._full(key))
            return int(response["ContentLength"])
        except Exception as e:
            raise self._fail(key, "stat", e) from None

    def write_new(self, key: str, data: bytes) -> None:
        if not key.strip("/"):
            raise StorageError(f"{self._where(key)}: empty object name")
        args: dict[str, Any] = {
            "Bucket": self.config.bucket,
            "Key": self._full(key),
            "Body": bytes(data),
            "IfNoneMatch": "*",
        }
        c = self.config
        if c.server_enc_mode:
            args["ServerSideEncryption"] = c.server_enc_mode
        if c.server_kms_id:
            args["SSEKMSKeyId"] = c.server_kms_id
        if c.storage_class:
            args["StorageClass"] = c.storage_class
        # Defence in depth for S3-compatible stores that ignore If-None-Match: an object that is
        # already there is never overwritten by a sequential writer. (The conditional PUT is what
        # makes racing writers safe; a store without it cannot offer that, and says so nowhere.)
        if self.exists(key):
            raise AlreadyExists(f"{self._where(key)}: already exists")
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                self._s3().put_object(**args)
                return
            except Exception as e:
                code = _code(e)
                if code == "PreconditionFailed":
                    raise AlreadyExists(f"{self._where(key)}: already exists") from None
                if code == "ConditionalRequestConflict" and attempt < CONFLICT_RETRIES:
                    _sleep_backoff(attempt)
                    continue
                raise self._fail(key, "write", e) from None

    def child(self, path: str) -> S3Storage:
        return S3Storage(self.config, join_key(self.root, path), self._client, owns_client=False)

    def close(self) -> None:
        """Close the shared client (the root storage only: children share it)."""
        if self._owns_client:
            self._client.close()

    @property
    def connected(self) -> bool:
        return self._client.connected

    def __repr__(self) -> str:
        return f"S3Storage({self.display_uri!r})"


def _sleep_backoff(attempt: int) -> None:
    import random
    import time

    time.sleep(random.uniform(0, 0.1 * 2**attempt))


def open_storage(
    uri: str, settings: StorageSettings | None = None, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS
) -> S3Storage:
    """The storage an s3:// URI names (validated now, connected on first use).

    `max_attempts` (botocore standard retries, first try included) is a Python-only knob for
    tests that must fail fast; no URI can set it.
    """
    config = parse_s3_uri(uri)
    return S3Storage(config, config.prefix, _Client(config, max_attempts))
