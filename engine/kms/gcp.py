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
the CryptoKey resource name (Cloud KMS picks the version from the ciphertext). Encrypt/Decrypt
with CRC32C integrity checks come with google-cloud-kms in a later issue (PlannedKMS for now).
"""

from __future__ import annotations

from types import MappingProxyType

from .base import KMS, KMSEnv, KMSError, KMSURI, checked_key_id
from .gourl import GoURL
from .params import AUTH_IMPLICIT, AUTH_PARAM, AUTH_SPECIFIED, ConsumeURL, parse_role_chain
from .params import unsupported_auth
from .planned import PlannedKMS
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
    return KMSURI(
        uri=uri,
        scheme=url.scheme,
        master_key_id=key_id,
        key_ids=(key_id,),
        write_key_ids=(key_id,),
        params=MappingProxyType(dict(q.consumed)),
        derived=MappingProxyType(derived),
    )


def open_kms(parsed: KMSURI, env: KMSEnv) -> KMS:
    return PlannedKMS(parsed)
