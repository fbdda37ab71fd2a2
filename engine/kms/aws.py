"""AWS KMS URIs: `aws:///<key>?...` and `aws-kms:///<key>?...`.

Rules from cockroachdb/cockroach `pkg/cloud/amazon/aws_kms.go` (MakeAWSKMS, resolveKMSURIParams;
commit 98cdac4a, SDK v2) and param names from `s3_storage.go`, checked in CockroachDB's order:
1. params consumed: ASSUME_ROLE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
   AWS_ENDPOINT, REGION, AUTH; leftovers -> `unknown KMS query parameters: ...`;
2. spaces in the secret become `+` (a `+` not escaped in a query string reads as a space);
3. no REGION -> `aws kms REGION parameter not specified` (KMS uses REGION, S3 uses AWS_REGION);
4. AWS_ENDPOINT: Go url.Parse; with a scheme it is used as is, else `https://` is prefixed
   (constructEndpointURI in s3_storage.go; a parse failure is `error parsing URL: ...`);
5. AUTH "" / specified: `AUTH is set to 'specified', but AWS_ACCESS_KEY_ID is not set`, then the
   same for AWS_SECRET_ACCESS_KEY; implicit: fine; else `unsupported value X for AUTH`.
The cluster-flag checks (external IO disabled, --aws-kms-disable-http, implicit credentials
disabled) do not apply outside a cluster.

MasterKeyID is `strings.TrimPrefix(URL.Path, "/")`: the key id, key ARN, alias or alias ARN
exactly as typed (decoded path), never normalised (so an alias and its key ARN are different
entries).

Calls (aws_kms.go Encrypt/Decrypt): kms:Encrypt with KeyId = the master key id and Plaintext =
the data key; kms:Decrypt with KeyId = the master key id and the CiphertextBlob; no encryption
context, no GenerateDataKey. The client uses REGION, AWS_ENDPOINT (also for STS), static keys
(AUTH specified) or the default chain (implicit), then the ASSUME_ROLE chain: each delegate's
credentials assume the next role, the last role is the one used. boto3 is imported on the first
call, or by `prepare()` before a pool starts; botocore's "standard" retry mode retries throttling, 5xx and connection errors.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .base import KMS, KMSEnv, KMSError, KMSURI, checked_key_id
from engine.cloud.aws import AssumeRoleFailed, assume_role_chain, botocore_cause, endpoint_url, parse_role_providers
from engine.cloud.gourl import GoURL
from .params import AUTH_IMPLICIT, AUTH_PARAM, AUTH_SPECIFIED, ConsumeURL, parse_role_chain
from .params import unsupported_auth
from syntax.uri import redact_uri as redact_kms_uri

ACCESS_KEY = "AWS_ACCESS_KEY_ID"
SECRET = "AWS_SECRET_ACCESS_KEY"
SESSION_TOKEN = "AWS_SESSION_TOKEN"
ENDPOINT = "AWS_ENDPOINT"
REGION = "REGION"
ASSUME_ROLE = "ASSUME_ROLE"


def parse(uri: str, url: GoURL) -> KMSURI:
    redacted = redact_kms_uri(uri)
    q = ConsumeURL(url)
    assume_role = q.consume(ASSUME_ROLE)
    access_key = q.consume(ACCESS_KEY)
    secret = q.consume(SECRET)
    q.consume(SESSION_TOKEN)
    endpoint = q.consume(ENDPOINT)
    region = q.consume(REGION)
    auth = q.consume(AUTH_PARAM)
    unknown = q.unknown_params_error()
    if unknown:
        raise KMSError(unknown, redacted)
    params = dict(q.consumed)
    if secret:
        params[SECRET] = secret.replace(" ", "+")
    if not region:
        raise KMSError("aws kms REGION parameter not specified", redacted)
    derived: dict[str, str] = {}
    if endpoint:
        try:
            derived["endpoint_url"] = endpoint_url(endpoint)
        except ValueError as e:
            raise KMSError(str(e), redacted) from None
    if auth in ("", AUTH_SPECIFIED):
        for name, value in ((ACCESS_KEY, access_key), (SECRET, secret)):
            if not value:
                raise KMSError(
                    f"{AUTH_PARAM} is set to '{AUTH_SPECIFIED}', but {name} is not set", redacted
                )
    elif auth != AUTH_IMPLICIT:
        raise KMSError(unsupported_auth(auth), redacted)
    role, delegates = parse_role_chain(assume_role)
    if role:
        derived["assume_role"] = role
        derived["delegate_roles"] = ",".join(delegates)
    key_id = checked_key_id(url.path.removeprefix("/"), redacted)
    return KMSURI.for_key(uri, url.scheme, key_id, params=params, derived=derived)


DEFAULT_MAX_ATTEMPTS = 3  # first try + 2 retries with backoff: a KMS call is a few ms
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0  # per socket read; the whole call has the KMS deadline (KMS.call)


class AwsKMS(KMS):
    """One AWS KMS key; the boto3 client is built on the first call and shared by threads."""

    def __init__(self, parsed: KMSURI, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> None:
        super().__init__(parsed)
        self.max_attempts = max_attempts
        region = parsed.params.get(REGION, "")
        self.endpoint = parsed.derived.get("endpoint_url") or f"https://kms.{region}.amazonaws.com"
        self._lock = threading.Lock()
        self._client: Any = None

    def _build_client(self) -> Any:
        return self._kms()

    def _client_key(self) -> tuple[object, ...]:
        """What the client is built from: AwsKMS objects agreeing on it share one client."""
        p, d = self.parsed.params, self.parsed.derived
        return (
            p.get(REGION), d.get("endpoint_url"), p.get(AUTH_PARAM, ""), p.get(ACCESS_KEY),
            p.get(SECRET), p.get(SESSION_TOKEN), d.get("assume_role"), d.get("delegate_roles"),
            self.max_attempts,
        )

    def _kms(self) -> Any:
        client = self._client  # built once, then shared lock-free (boto3 clients are thread-safe)
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                try:
                    self._client = _shared.acquire(self._client_key(), self._build)
                except KMSError:
                    raise
                except Exception as e:  # e.g. botocore's "Invalid endpoint"
                    raise KMSError(
                        f"could not initialize an aws config: {botocore_cause(e)}", self.redacted_uri
                    ) from None
            return self._client

    def _build(self) -> Any:
        import boto3
        from botocore.config import Config

        from engine.sdklog import quiet_sdk_logging

        quiet_sdk_logging()

        p, d = self.parsed.params, self.parsed.derived
        session = boto3.session.Session()
        config = Config(
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            max_pool_connections=32,
        )
        kw: dict[str, Any] = {"region_name": p[REGION], "config": config}
        if d.get("endpoint_url"):
            kw["endpoint_url"] = d["endpoint_url"]
        if p.get(AUTH_PARAM, "") in ("", AUTH_SPECIFIED):
            kw["aws_access_key_id"] = p[ACCESS_KEY]
            kw["aws_secret_access_key"] = p[SECRET]
            kw["aws_session_token"] = p.get(SESSION_TOKEN) or None
        if d.get("assume_role"):
            chain = [r for r in d.get("delegate_roles", "").split(",") if r] + [d["assume_role"]]
            keys = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
            creds = {k: kw.pop(k) for k in keys if k in kw}
            try:
                kw.update(assume_role_chain(session, parse_role_providers(",".join(chain)), creds, **kw))
            except AssumeRoleFailed as e:
                raise KMSError(str(e), self.redacted_uri) from None
        client = session.client("kms", **kw)
        if self.inline_deadline:
            _hook_deadlines(client)
        return client

    @property
    def inline_deadline(self) -> bool:  # type: ignore[override]
        """KMS API calls in the caller's thread (engine.deadline.call_inline) when every network
        call they make goes through the hooked KMS client: static keys. ASSUME_ROLE and implicit
        credentials may call STS or a metadata service from inside a KMS call, on sockets the
        hooks do not see, so those keep the helper-thread deadline."""
        p, d = self.parsed.params, self.parsed.derived
        return p.get(AUTH_PARAM, "") in ("", AUTH_SPECIFIED) and not d.get("assume_role")

    def _client_ready(self) -> bool:
        """Built, and hooked for inline deadlines (see `_hook_deadlines`)."""
        return getattr(self._client, "_rewrap_inline_deadline", False)

    def encrypt(self, plaintext: bytes) -> bytes:
        out = self.call(
            "aws kms Encrypt",
            lambda: self._kms().encrypt(KeyId=self.master_key_id, Plaintext=bytes(plaintext)),
            botocore_cause,
        )
        return bytes(out["CiphertextBlob"])

    def decrypt(self, ciphertext: bytes) -> bytes:
        out = self.call(
            "aws kms Decrypt",
            lambda: self._kms().decrypt(KeyId=self.master_key_id, CiphertextBlob=bytes(ciphertext)),
            botocore_cause,
        )
        # a bytearray, so callers can wipe the plaintext data key after use
        return bytearray(out["Plaintext"])  # type: ignore[return-value]

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            _shared.release(self._client_key(), client)


def _hook_deadlines(client: Any) -> None:
    """Make a boto3 client's calls honour engine.deadline.call_inline: its connection pools
    register each checked-out connection with the thread's inline call (so the watchdog can shut
    its socket down), a connect waits at most the time left, and no attempt is retried or made
    once the call was broken (botocore would otherwise sleep and retry a connection error).
    These are botocore internals (1.3x-1.4x: URLLib3Session's pool classes); a botocore without
    them leaves the client unhooked, and its calls keep the helper-thread deadline."""
    try:
        session = client._endpoint.http_session
        pools = session._pool_classes_by_scheme
        managers = [session._manager, *session._proxy_managers.values()]
        if not all(getattr(m, "pool_classes_by_scheme", None) is pools for m in managers):
            return
        pools.update(http=_http_pool(), https=_https_pool())
    except (AttributeError, TypeError):
        return
    client.meta.events.register_first("needs-retry.kms", _stop_if_broken)
    client.meta.events.register_first("before-send.kms", _stop_if_broken)
    _bound_backoff()
    client._rewrap_inline_deadline = True


class _BoundedBackoff:
    """botocore.endpoint's `time` module, with a sleep that honours the thread's inline call:
    botocore sleeps its retry backoff there (Endpoint._needs_retry: `time.sleep(delay)`), up to
    20 s plus a server's `x-amz-retry-after`, and no socket is open to shut down meanwhile. The
    sleep is cut at the call's deadline (DeadlineExceeded, as if the next attempt had hung) and
    at `interrupt()` (Cancelled). A thread with no inline call sleeps as before."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        from engine.deadline import current_call

        call = current_call()
        if call is None:
            time.sleep(seconds)
            return
        until = time.monotonic() + seconds
        while True:
            call.check()
            left = call.remaining()
            now = time.monotonic()
            if left is not None and left <= 0:
                call.expire()
                call.check()
            step = min(until - now, 0.05, left if left is not None else 0.05)
            if step <= 0:
                return
            time.sleep(step)


def _bound_backoff() -> None:
    import botocore.endpoint

    if getattr(botocore.endpoint, "time", None) is time:
        setattr(botocore.endpoint, "time", _BoundedBackoff())


def _stop_if_broken(**_: Any) -> None:
    from engine.deadline import current_call

    call = current_call()
    if call is not None:
        call.check()


_POOLS: dict[str, type] = {}


def _pool_class(base: type, conn_base: type) -> type:
    from engine.deadline import current_call

    class Connection(conn_base):  # type: ignore[misc]
        def connect(self) -> None:
            call = current_call()
            left = call.remaining() if call is not None else None
            timeout: object = getattr(self, "timeout", None)
            if left is not None and isinstance(timeout, int | float) and timeout > left:
                self.timeout = max(left, 0.001)
            super().connect()
            if call is not None:
                call.connected(self)  # a break before the socket existed could not reach it

    class Pool(base):  # type: ignore[misc]
        ConnectionCls = Connection

        def _get_conn(self, timeout: float | None = None) -> Any:
            conn = super()._get_conn(timeout)
            call = current_call()
            if call is not None:
                call.attach(conn)
            return conn

        def _put_conn(self, conn: Any) -> None:
            call = current_call()
            if call is not None and conn is not None:
                call.detach(conn)
            super()._put_conn(conn)

    return Pool


def _http_pool() -> type:
    if "http" not in _POOLS:
        import botocore.awsrequest as r

        _POOLS["http"] = _pool_class(r.AWSHTTPConnectionPool, r.AWSHTTPConnection)
    return _POOLS["http"]


def _https_pool() -> type:
    if "https" not in _POOLS:
        import botocore.awsrequest as r

        _POOLS["https"] = _pool_class(r.AWSHTTPSConnectionPool, r.AWSHTTPSConnection)
    return _POOLS["https"]


class _SharedClients:
    """boto3 clients by what they are built from, shared by the AwsKMS objects of the process
    that agree on it (an OLD_KMS and a NEW_KMS in one account and region: one client, session
    and connection pool instead of two; a client build is ~60 ms of CPU and any ASSUME_ROLE
    chain is assumed once), closed when the last user closes. botocore clients are thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[tuple[object, ...], list[Any]] = {}  # key -> [client, users]

    def acquire(self, key: tuple[object, ...], build: Callable[[], Any]) -> Any:
        with self._lock:
            entry = self._clients.get(key)
            if entry is not None:
                entry[1] += 1
                return entry[0]
        client = build()  # not under the lock: a slow STS or endpoint holds up only its own key
        with self._lock:
            entry = self._clients.get(key)
            if entry is None:
                self._clients[key] = [client, 1]
                return client
            entry[1] += 1
        client.close()  # built twice at once: keep the first
        return entry[0]

    def release(self, key: tuple[object, ...], client: Any) -> None:
        with self._lock:
            entry = self._clients.get(key)
            if entry is None or entry[0] is not client:
                entry = None
            else:
                entry[1] -= 1
                if entry[1] > 0:
                    return
                del self._clients[key]
        client.close()


_shared = _SharedClients()


def open_kms(parsed: KMSURI, env: KMSEnv) -> KMS:
    return AwsKMS(parsed)
