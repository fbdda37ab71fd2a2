"""Google Cloud KMS URIs: `gs:///projects/P/locations/L/keyRings/R/cryptoKeys/K?...` or `gcp-kms:///`.

Rules from cockroachdb/cockroach `pkg/cloud/gcp/gcp_kms.go` (MakeGCSKMS, commit 2a9cb895) and
`gcs_storage.go` (createAuthOptionFromServiceAccountKey), in CockroachDB's order:
1. path exactly "/" -> `path component of the KMS cannot be empty; must contain the Customer
   Managed Key` (an empty path, `gs://host`, passes this check, as in CockroachDB);
2. params consumed: ASSUME_ROLE, CREDENTIALS, AUTH, BEARER_TOKEN; leftovers are unknown;
3. AUTH "" / specified: CREDENTIALS wins (it must be std base64; Go's error is
   `error getting credentials from CREDENTIALS: illegal base64 data at input byte N`), else
   BEARER_TOKEN, else `CREDENTIALS or BEARER_TOKEN must be set if "AUTH" is "specified"`;
   implicit: fine; else `unsupported value X for AUTH`.
The JSON inside CREDENTIALS is only read by the client library when the client is built.

MasterKeyID: `strings.Split(URL.Path, "/cryptoKeyVersions/")[0]` without the leading "/", i.e.
the CryptoKey resource name (Cloud KMS picks the version from the ciphertext).

Calls (gcsKMS.Encrypt / Decrypt in gcp_kms.go, same commit): Encrypt{name=CryptoKey, plaintext,
plaintext_crc32c}; the response must say verified_plaintext_crc32c (else `Encrypt: request
corrupted in-transit`) and carry crc32c(ciphertext) (else `Encrypt: response corrupted
in-transit`). Decrypt{name, ciphertext, ciphertext_crc32c}; crc32c(plaintext) must match
(else `Decrypt: response corrupted in-transit`). No AAD. gRPC errors read like Go's
`rpc error: code = NotFound desc = ...`. Credentials, in CockroachDB's order: CREDENTIALS
(service-account JSON) wins over BEARER_TOKEN (static token); AUTH=implicit uses the default
chain; ASSUME_ROLE impersonates the last account through the earlier ones (delegates).

The google-cloud-kms client is built on the first call, so opening a KMS to compare key ids
(the usual OLD_KMS path) neither imports the SDK nor touches the network.
"""

from __future__ import annotations

import threading
from typing import Any

from .base import KMS, KMSEnv, KMSError, KMSURI, checked_key_id
from engine.cloud.gcp import CredentialsError, first_line, google_credentials
from engine.cloud.gourl import GoURL
from engine.settings import limits
from .params import AUTH_IMPLICIT, AUTH_PARAM, AUTH_SPECIFIED, ConsumeURL, parse_role_chain
from .params import unsupported_auth
from syntax.uri import redact_uri as redact_kms_uri

CREDENTIALS = "CREDENTIALS"
BEARER_TOKEN = "BEARER_TOKEN"
ASSUME_ROLE = "ASSUME_ROLE"
EMPTY_PATH = (
    "path component of the KMS cannot be empty; must contain the Customer Managed Key"
)

_B64 = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


def go_base64_error(text: str) -> str | None:
    """Go's base64.StdEncoding.DecodeString error for `text`, or None when it decodes.

    Mirrors decodeQuantum: `\\r`/`\\n` are skipped, padding is required, and the offset in
    `illegal base64 data at input byte N` is Go's (so the message matches CockroachDB's).
    """
    src = text.encode("utf-8", "surrogateescape")
    n, si = len(src), 0
    while True:
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return None
                return f"illegal base64 data at input byte {si - j}"
            c = src[si]
            si += 1
            if c in _B64:
                j += 1
                continue
            if c in (0x0A, 0x0D):
                continue
            if c != 0x3D:  # '='
                return f"illegal base64 data at input byte {si - 1}"
            if j in (0, 1):
                return f"illegal base64 data at input byte {si - 1}"
            if j == 2:
                while si < n and src[si] in (0x0A, 0x0D):
                    si += 1
                if si == n:
                    return f"illegal base64 data at input byte {n}"
                if src[si] != 0x3D:
                    return f"illegal base64 data at input byte {si - 1}"
                si += 1
            while si < n and src[si] in (0x0A, 0x0D):
                si += 1
            if si < n:
                return f"illegal base64 data at input byte {si}"
            return None


def parse(uri: str, url: GoURL) -> KMSURI:
    redacted = redact_kms_uri(uri)
    if url.path == "/":
        raise KMSError(EMPTY_PATH, redacted)
    q = ConsumeURL(url)
    assume_role = q.consume(ASSUME_ROLE)
    credentials = q.consume(CREDENTIALS)
    auth = q.consume(AUTH_PARAM)
    bearer = q.consume(BEARER_TOKEN)
    unknown = q.unknown_params_error()
    if unknown:
        raise KMSError(unknown, redacted)
    if auth in ("", AUTH_SPECIFIED):
        if credentials:
            bad = go_base64_error(credentials)
            if bad:
                raise KMSError(f"error getting credentials from {CREDENTIALS}: {bad}", redacted)
        elif not bearer:
            raise KMSError(
                f'{CREDENTIALS} or {BEARER_TOKEN} must be set if "{AUTH_PARAM}" is '
                f'"{AUTH_SPECIFIED}"',
                redacted,
            )
    elif auth != AUTH_IMPLICIT:
        raise KMSError(unsupported_auth(auth), redacted)
    derived: dict[str, str] = {}
    role, delegates = parse_role_chain(assume_role)
    if role:
        derived["assume_role"] = role
        derived["delegate_roles"] = ",".join(delegates)
    key_id = checked_key_id(url.path.split("/cryptoKeyVersions/")[0].removeprefix("/"), redacted)
    return KMSURI.for_key(uri, url.scheme, key_id, params=dict(q.consumed), derived=derived)


# kms.DefaultAuthScopes() in cloud.google.com/go/kms/apiv1.
SCOPES = ("https://www.googleapis.com/auth/cloud-platform",
          "https://www.googleapis.com/auth/cloudkms")
TIMEOUT = 10.0  # seconds per attempt (a KMS call takes milliseconds)
RETRY_DEADLINE = 30.0  # all attempts
TEST_TIMEOUT = 5.0  # against a local stand-in (KMSEnv.gcp_kms_endpoint)
TEST_RETRY_DEADLINE = 3.0
# The SDK's own deadlines end this much after the call's (engine.deadline, KMS._call), so the
# call's deadline always answers first, with its text (the endpoint and the --kms-timeout
# figure); equal deadlines raced, and gRPC's "Deadline Exceeded" sometimes won.
SDK_DEADLINE_GRACE = 1.0


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli), Go's crc32.Checksum(data, MakeTable(Castagnoli))."""
    import google_crc32c

    return int(google_crc32c.value(bytes(data)))


def go_grpc_error(e: Exception) -> str:
    """A gRPC failure the way Go's status error prints: `rpc error: code = X desc = ...`."""
    code = getattr(e, "grpc_status_code", None)
    if code is None:
        return f"{type(e).__name__}: {first_line(e)}"
    name = "Canceled" if code.name == "CANCELLED" else "".join(
        w.capitalize() for w in code.name.split("_")
    )
    return f"rpc error: code = {name} desc = {getattr(e, 'message', '') or first_line(e)}"


class GoogleCloudKMS(KMS):
    """One Cloud KMS CryptoKey; thread-safe (the gRPC client is)."""

    def __init__(self, parsed: KMSURI, env: KMSEnv) -> None:
        super().__init__(parsed)
        self._env = env
        self.endpoint = env.gcp_kms_endpoint or "cloudkms.googleapis.com:443"
        self._lock = threading.Lock()
        self._client: Any = None
        self._channel: Any = None

    def _credentials(self) -> Any:
        """google.auth credentials for the URI's params (KMSError naming the URI otherwise)."""
        import base64
        import json

        params = self.parsed.params
        implicit = params.get(AUTH_PARAM, "") == AUTH_IMPLICIT
        info = None
        if not implicit and params.get(CREDENTIALS):
            try:  # parse() already checked the base64 the way Go does
                info = json.loads(base64.b64decode(params[CREDENTIALS]))
            except (ValueError, TypeError) as e:
                reason = e.msg if isinstance(e, json.JSONDecodeError) else first_line(e)
                raise KMSError(
                    f"error getting credentials from {CREDENTIALS}: {type(e).__name__}: {reason}",
                    self.redacted_uri,
                ) from None
        derived = self.parsed.derived
        try:
            return google_credentials(
                implicit=implicit,
                service_account_info=info,
                bearer_token=params.get(BEARER_TOKEN),
                assume_role=derived.get("assume_role", ""),
                delegates=[d for d in derived.get("delegate_roles", "").split(",") if d],
                scopes=SCOPES,
            )
        except CredentialsError as e:
            raise KMSError(str(e), self.redacted_uri) from None

    def _build_client(self) -> Any:
        return self._connect()

    def _connect(self) -> Any:
        client = self._client  # built once, then shared lock-free
        if client is not None:
            return client
        with self._lock:
            if self._client is not None:
                return self._client
            from engine.sdklog import quiet_sdk_logging

            quiet_sdk_logging()
            from google.cloud import kms_v1

            endpoint = self._env.gcp_kms_endpoint
            implicit = self.parsed.params.get(AUTH_PARAM, "") == AUTH_IMPLICIT
            # Specified credentials are parsed (and so checked) even against a test endpoint;
            # the implicit chain is not looked for there (a test machine has none).
            credentials = None if endpoint and implicit else self._credentials()
            if endpoint:
                # Test only: api_endpoint alone would build a TLS channel to the plaintext fake
                # (tests/servers/fake_cloudkms.py), so hand the transport an insecure channel instead.
                import grpc
                from google.cloud.kms_v1.services.key_management_service.transports import (
                    KeyManagementServiceGrpcTransport,
                )

                self._channel = grpc.insecure_channel(endpoint)
                transport = KeyManagementServiceGrpcTransport(channel=self._channel)
                self._client = kms_v1.KeyManagementServiceClient(transport=transport)
            else:
                self._client = kms_v1.KeyManagementServiceClient(credentials=credentials)
            return self._client

    def _call(self, method: str, request: dict[str, Any]) -> Any:
        """One RPC within the KMS deadline (KMS.call): retries fit inside it."""
        op = "Encrypt" if method == "encrypt" else "Decrypt"
        return self.call(f"gcp kms {op}", lambda: self._rpc(method, request), go_grpc_error)

    def _rpc(self, method: str, request: dict[str, Any]) -> Any:
        from google.api_core import exceptions as api_exceptions
        from google.api_core.retry import Retry, if_exception_type
        from google.auth import exceptions as auth_exceptions

        client = self._connect()
        test = bool(self._env.gcp_kms_endpoint)
        deadline = limits().kms_timeout + SDK_DEADLINE_GRACE
        # Back off and retry on throttling and transient server errors only.
        retry = Retry(
            predicate=if_exception_type(
                api_exceptions.ServiceUnavailable,
                api_exceptions.TooManyRequests,  # RESOURCE_EXHAUSTED
                api_exceptions.InternalServerError,
                api_exceptions.DeadlineExceeded,
            ),
            initial=0.05 if test else 0.1,
            maximum=1.0 if test else 10.0,
            multiplier=2.0,
            timeout=min(TEST_RETRY_DEADLINE if test else RETRY_DEADLINE, deadline),
        )
        try:
            return getattr(client, method)(
                request=request, retry=retry, timeout=min(TEST_TIMEOUT if test else TIMEOUT, deadline)
            )
        except api_exceptions.RetryError as e:
            cause = e.cause if e.cause is not None else e
            raise KMSError(
                f"gave up after retries: {go_grpc_error(cause)}{self._no_answer(cause)}", self.redacted_uri
            ) from None
        except api_exceptions.GoogleAPICallError as e:
            raise KMSError(f"{go_grpc_error(e)}{self._no_answer(e)}", self.redacted_uri) from None
        except auth_exceptions.GoogleAuthError as e:
            what = "failed to assume role" if self.parsed.derived.get("assume_role") else "credentials refused"
            raise KMSError(f"{what}: {first_line(e)}", self.redacted_uri) from None

    def _no_answer(self, e: BaseException) -> str:
        """Names the endpoint when gRPC's own deadline ran out (it says only "Deadline Exceeded")."""
        from google.api_core import exceptions as api_exceptions

        if isinstance(e, api_exceptions.DeadlineExceeded):
            return f" (timed out: no answer from {self.endpoint})"
        if isinstance(e, api_exceptions.ServiceUnavailable):
            return f" (cannot reach {self.endpoint})"
        return ""

    def encrypt(self, plaintext: bytes) -> bytes:
        data = bytes(plaintext)
        response = self._call(
            "encrypt",
            {"name": self.master_key_id, "plaintext": data, "plaintext_crc32c": crc32c(data)},
        )
        if not response.verified_plaintext_crc32c:
            raise KMSError("Encrypt: request corrupted in-transit", self.redacted_uri)
        ciphertext = bytes(response.ciphertext)
        if crc32c(ciphertext) != response.ciphertext_crc32c:
            raise KMSError("Encrypt: response corrupted in-transit", self.redacted_uri)
        return ciphertext

    def decrypt(self, ciphertext: bytes) -> bytes:
        data = bytes(ciphertext)
        response = self._call(
            "decrypt",
            {"name": self.master_key_id, "ciphertext": data, "ciphertext_crc32c": crc32c(data)},
        )
        plaintext = bytes(response.plaintext)
        if crc32c(plaintext) != response.plaintext_crc32c:
            raise KMSError("Decrypt: response corrupted in-transit", self.redacted_uri)
        return plaintext

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            channel, self._channel = self._channel, None
        if client is not None:
            client.transport.close()
        if channel is not None:
            channel.close()


def open_kms(parsed: KMSURI, env: KMSEnv) -> KMS:
    return GoogleCloudKMS(parsed, env)
