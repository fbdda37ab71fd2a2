"""Redaction of KMS URIs: the shared `syntax.uri.redact_uri`, checked against Go's query parse.

Why a check: CockroachDB reads KMS URIs with Go's ParseRequestURI, which does not split off a
`#fragment`, so in `aws:///k?REGION=r#&AWS_SECRET_ACCESS_KEY=s` Go sees the secret while a
urlsplit-based redactor treats it as fragment text. When the shared function leaves any secret
value Go would read (or raises on odd input), we mask every secret `NAME=value` piece of the raw
query ourselves. The key id (path) is always kept: a person must see which key is meant.
"""

from __future__ import annotations

from urllib.parse import unquote

from syntax.uri import REDACTED, SECRET_PARAMS, redact_uri

from .gourl import GoURLError, parse_query


def _secret_values(uri: str) -> list[str]:
    _, sep, query = uri.partition("?")
    if not sep:
        return []
    return [v for k, vs in parse_query(query).items() if k in SECRET_PARAMS for v in vs if v]


def _mask_pieces(uri: str) -> str:
    base, sep, query = uri.partition("?")
    try:
        base = redact_uri(base)
    except ValueError:
        pass
    if not sep:
        return base
    pieces = []
    for piece in query.split("&"):
        name, eq, _ = piece.partition("=")
        clean = unquote(name.replace("+", " ")).split("#")[-1]
        if eq and (clean in SECRET_PARAMS or unquote(name.replace("+", " ")) in SECRET_PARAMS):
            piece = f"{name}={REDACTED}"
        pieces.append(piece)
    return f"{base}?{'&'.join(pieces)}"


def redact_kms_uri(uri: str) -> str:
    """`uri` with secret values and any userinfo password replaced by `redacted`."""
    try:
        out = redact_uri(uri)
    except ValueError:
        return _mask_pieces(uri)
    try:
        leaked = any(v in out for v in _secret_values(uri) if v != REDACTED)
    except GoURLError:  # pragma: no cover - parse_query never raises
        leaked = True
    return _mask_pieces(uri) if leaked else out
