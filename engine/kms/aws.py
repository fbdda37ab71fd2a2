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
entries). KMS calls (kms:Encrypt / kms:Decrypt with KeyId = that string, no encryption context)
come with boto3 in a later issue; until then the opened KMS is a PlannedKMS.
"""

from __future__ import annotations

from types import MappingProxyType

from .base import KMS, KMSEnv, KMSError, KMSURI, checked_key_id
from .gourl import GoURL, GoURLError
from .gourl import parse as go_parse
from .params import AUTH_IMPLICIT, AUTH_PARAM, AUTH_SPECIFIED, ConsumeURL, parse_role_chain
from .params import unsupported_auth
from .planned import PlannedKMS
from syntax.uri import redact_uri as redact_kms_uri

ACCESS_KEY = "AWS_ACCESS_KEY_ID"
SECRET = "AWS_SECRET_ACCESS_KEY"
SESSION_TOKEN = "AWS_SESSION_TOKEN"
ENDPOINT = "AWS_ENDPOINT"
REGION = "REGION"
ASSUME_ROLE = "ASSUME_ROLE"


def endpoint_url(endpoint: str) -> str:
    """constructEndpointURI: keep an endpoint that has a scheme, else prefix https://."""
    try:
        parsed = go_parse(endpoint)
    except GoURLError as e:
        raise ValueError(f"error parsing URL: {e.render(endpoint)}") from None
    return endpoint if parsed.scheme else f"https://{endpoint}"


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
    return KMSURI(
        uri=uri,
        scheme=url.scheme,
        master_key_id=key_id,
        key_ids=(key_id,),
        write_key_ids=(key_id,),
        params=MappingProxyType(params),
        derived=MappingProxyType(derived),
    )


def open_kms(parsed: KMSURI, env: KMSEnv) -> KMS:
    return PlannedKMS(parsed)
