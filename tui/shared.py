"""What the faces (app, shell, batch) share."""

from __future__ import annotations

from engine.errors import RewrapError
from syntax import SQLSyntaxError
from syntax.uri import redact_text


def check_kms_uri(uri: str) -> str | None:
    """Diagnostics' KMS checker: CockroachDB's rules, no network (engine.kms.parse_kms_uri)."""
    from engine.kms import parse_kms_uri

    try:
        parse_kms_uri(uri)
    except RewrapError as e:
        return str(e)
    return None


def safe_error(e: BaseException) -> str:
    """A message fit for the screen: our errors say what and where; anything else only its type
    (a library's text may quote a URI with its secret)."""
    if isinstance(e, (RewrapError, SQLSyntaxError)):
        return redact_text(str(e))
    return f"internal error ({type(e).__name__})"
