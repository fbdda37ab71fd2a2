"""AWS pieces shared by engine/storage/s3.py and engine/kms/aws.py.

From cockroachdb/cockroach pkg/cloud/amazon (s3_storage.go constructEndpointURI, aws_kms.go) and
pkg/cloud/roles.go (ParseRoleProvidersString). boto3 is passed in, never imported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engine.cloud.gourl import GoURLError
from engine.cloud.gourl import parse as go_parse


@dataclass(frozen=True)
class RoleProvider:
    """One ASSUME_ROLE entry: a role ARN and an optional external id."""

    role_arn: str
    external_id: str = ""


def parse_role_providers(value: str) -> tuple[RoleProvider, ...]:
    """`arn[;external_id=id]` entries separated by commas; the last is the role to end up in."""
    if not value:
        return ()
    out = []
    for entry in value.split(","):
        arn, *opts = entry.split(";")
        external_id = ""
        for opt in opts:
            name, _, v = opt.partition("=")
            if name == "external_id":
                external_id = v
        out.append(RoleProvider(arn, external_id))
    return tuple(out)


def endpoint_url(endpoint: str) -> str:
    """constructEndpointURI: Go url.Parse; keep an endpoint that has a scheme, else prefix
    https://. Go reads `localhost:4566` as scheme `localhost` (kept as is) and refuses
    `127.0.0.1:4566`; so do we. Raises ValueError with CockroachDB's text."""
    try:
        parsed = go_parse(endpoint)
    except GoURLError as e:
        raise ValueError(f"error parsing URL: {e.render(endpoint)}") from None
    return endpoint if parsed.scheme else f"https://{endpoint}"


def botocore_cause(e: Exception) -> str:
    """A one-line cause from a botocore error: code, message, HTTP status. Never credentials."""
    response = getattr(e, "response", None)
    if isinstance(response, dict):
        err = response.get("Error", {})
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        text = ": ".join(str(p) for p in (err.get("Code", ""), err.get("Message", "")) if p)
        text = text or "error"
        return f"{text} (HTTP {status})" if status else text
    return f"{type(e).__name__}: {e}"


class AssumeRoleFailed(Exception):
    """One AssumeRole of the chain failed; callers turn it into their own error type."""

    def __init__(self, role_arn: str, cause: str) -> None:
        super().__init__(f"AssumeRole {role_arn}: {cause}")


def assume_role_chain(
    session: Any, roles: Sequence[RoleProvider], creds: dict[str, Any], **sts_kwargs: Any
) -> dict[str, Any]:
    """Credentials of the last role, each role assumed with the previous one's credentials.

    `creds` holds aws_access_key_id / aws_secret_access_key / aws_session_token (or nothing, for
    implicit credentials); `sts_kwargs` are passed to session.client("sts", ...). Temporary
    credentials last an hour; no refresh is attempted.
    """
    for role in roles:
        sts = session.client("sts", **sts_kwargs, **creds)
        args: dict[str, Any] = {"RoleArn": role.role_arn, "RoleSessionName": "rewrap"}
        if role.external_id:
            args["ExternalId"] = role.external_id
        try:
            got = sts.assume_role(**args)["Credentials"]
        except Exception as e:  # botocore errors: name the role, never the credentials
            raise AssumeRoleFailed(role.role_arn, botocore_cause(e)) from None
        creds = {
            "aws_access_key_id": got["AccessKeyId"],
            "aws_secret_access_key": got["SecretAccessKey"],
            "aws_session_token": got["SessionToken"],
        }
    return creds
