"""External storage / KMS URIs as CockroachDB reads them, and the one redaction function.

Every place that shows or stores a URI (screen, history, logs, errors, audit journal) calls
`redact_uri`. It lives in syntax/ because syntax/ depends on nothing of ours, so the formatter, the
engine and the UI can all share it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

# pkg/cloud/uris.go: the union of the storage providers' registered secret params.
SECRET_PARAMS: frozenset[str] = frozenset(
    {
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "CREDENTIALS",
        "BEARER_TOKEN",
        "AZURE_ACCOUNT_KEY",
        "AZURE_CLIENT_SECRET",
    }
)
REDACTED = "redacted"

# Every parameter whose value is safe to show (spec §1-§2: not registered as secret by
# CockroachDB). The value of any other parameter is redacted too: a mistyped or unknown name
# (`aws_secret_access_key=...`, `AWS_SECRET_KEY=...`) is far more likely a misplaced secret than
# something a person needs to read back. tests/test_catalog_matches_engine.py keeps this list in
# step with syntax/catalog.py.
PUBLIC_PARAMS: frozenset[str] = frozenset(
    {
        "AUTH",
        "ASSUME_ROLE",
        "AWS_ACCESS_KEY_ID",
        "AWS_REGION",
        "AWS_ENDPOINT",
        "AWS_USE_PATH_STYLE",
        "AWS_SERVER_ENC_MODE",
        "AWS_SERVER_KMS_ID",
        "S3_STORAGE_CLASS",
        "REGION",
        "GOOGLE_BILLING_PROJECT",
        "AZURE_ACCOUNT_NAME",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_ENVIRONMENT",
        "AZURE_VAULT_NAME",
        "COCKROACH_LOCALITY",
        "TEST_REPLICA_IDS",
    }
)


def is_secret_param(name: str) -> bool:
    """True unless `name` is a parameter known to be safe to show (case and spaces ignored)."""
    return name.strip().upper() not in PUBLIC_PARAMS


@dataclass(frozen=True)
class QueryParam:
    """One `NAME=value` pair; offsets index into the whole URI string (for colouring)."""

    name: str  # percent-decoded
    value: str  # percent-decoded
    name_start: int
    value_start: int  # == end of the pair's name when there is no '=' (value_start == value_end)
    value_end: int

    @property
    def secret(self) -> bool:
        return is_secret_param(self.name)


@dataclass(frozen=True)
class ParsedURI:
    """A URI split the way Go's url.Parse does, keeping the query pairs in their written order."""

    raw: str
    scheme: str
    netloc: str
    host: str
    path: str
    params: tuple[QueryParam, ...]

    def param(self, name: str) -> str | None:
        """The first value given for `name`, as Go's url.Values.Get (which CockroachDB uses)."""
        for p in self.params:
            if p.name == name:
                return p.value
        return None

    def param_names(self) -> list[str]:
        return [p.name for p in self.params]


def parse_uri(uri: str) -> ParsedURI:
    """Split `uri` into scheme, host, path and query pairs; never raises on odd input.

    The query runs to the end of the string: CockroachDB parses KMS URIs with Go's
    ParseRequestURI, which keeps a '#...' inside the query, so secrets after a '#' are params too.
    """
    try:
        parts = urlsplit(uri, allow_fragments=False)
    except ValueError:  # e.g. an unbalanced '[' in the host: keep going with what we can split
        parts = urlsplit(uri.replace("[", "%5B").replace("]", "%5D"), allow_fragments=False)
    query_start = uri.find("?")
    params: list[QueryParam] = []
    if query_start >= 0:
        # The query runs to the end: Go's ParseRequestURI (used for KMS URIs) does not split off
        # a '#fragment', so a secret after '#' is still a parameter to CockroachDB.
        end = len(uri)
        pos = query_start + 1
        while pos <= end:
            amp = uri.find("&", pos, end)
            stop = end if amp < 0 else amp
            piece = uri[pos:stop]
            if piece:
                eq = piece.find("=")
                if eq < 0:
                    name, value, vstart = piece, "", stop
                else:
                    name, value, vstart = piece[:eq], piece[eq + 1 :], pos + eq + 1
                params.append(
                    QueryParam(
                        name=unquote(name.replace("+", " ")),
                        value=unquote(value.replace("+", " ")),
                        name_start=pos,
                        value_start=vstart,
                        value_end=stop,
                    )
                )
            pos = stop + 1
    return ParsedURI(
        raw=uri,
        scheme=parts.scheme.lower(),
        netloc=parts.netloc,
        host=parts.hostname or "",
        path=unquote(parts.path),
        params=tuple(params),
    )


def secret_spans(uri: str) -> list[tuple[int, int]]:
    """Offsets in `uri` of every secret it holds: each non-public param value (to the pair's
    real end, the next `&` or the end of the text, whatever it contains) and a userinfo
    password. The one place that decides what a secret is: redact_uri, redact_text, the
    tokenizer's secret pieces (editor, shell) and therefore every screen use it."""
    spans = [
        (p.value_start, p.value_end)
        for p in parse_uri(uri).params
        if p.secret and p.value_end > p.value_start
    ]
    m = _SCHEME.match(uri)
    if m:
        # userinfo ends at the last '@' before the query; the password at its first ':'. Looser
        # than Go (which stops the authority at the first '/'), so a '/' in a password is hidden.
        head_end = uri.find("?", m.end())
        head_end = len(uri) if head_end < 0 else head_end
        at = uri.rfind("@", m.end(), head_end)
        colon = uri.find(":", m.end(), at) if at >= 0 else -1
        slash = uri.find("/", m.end(), at) if at >= 0 else -1
        if colon >= 0 and colon + 1 < at and (slash < 0 or colon < slash):
            spans.append((colon + 1, at))
    return _merged(spans)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def redact_uri(uri: str, *, hide_path: bool = False) -> str:
    """The URI with every secret param value and any userinfo password replaced by `redacted`.

    Like CockroachDB's SanitizeExternalStorageURI, param names, order and everything else stay as
    written; stricter than it, the value of every param not known to be public (PUBLIC_PARAMS) is
    redacted, whatever its case. With `hide_path` the path (a KMS key id) becomes `/redacted`
    too (RedactKMSURI).
    """
    out = uri
    for a, b in reversed(secret_spans(uri)):  # from the end, so earlier offsets stay valid
        out = out[:a] + REDACTED + out[b:]
    if hide_path:
        m = _AUTHORITY.match(out)
        if m:
            path, sep, query = m.group(3).partition("?")
            if path not in ("", "/"):
                out = m.group(1) + m.group(2) + "/" + REDACTED + sep + query
    return out


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
# scheme://authority then the rest (path and query); the authority holds no '/' or '?'.
_AUTHORITY = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)([^/?]*)(.*)$", re.DOTALL)


def contains_secret(uri: str) -> bool:
    """True when `uri` carries a secret value that redaction would hide."""
    return bool(secret_spans(uri))
