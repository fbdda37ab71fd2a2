"""Secrets out of text that came back from a server (SDK error messages, error bodies).

A KMS or storage service may echo the request in its error body: headers such as
X-Amz-Security-Token or Authorization, or the URI's own secret values. Every such text is
cleaned here, where it enters rewrap, before it can reach stdout, stderr, the journal or a
screen: each secret value the URI holds is replaced (as typed, percent-encoded and
percent-decoded), header-like `Name: value` pairs of credential headers lose their value, and
`syntax.redact.redact_text` (the one redaction) redacts any URI left in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from syntax.uri import REDACTED, parse_uri

from syntax.redact import redact_text

MIN_SECRET = 4  # shorter values would blot out ordinary words; no real credential is this short

# Credential-bearing request headers and fields an error body may echo, with their value (to the
# end of the line, a quote or a closing bracket: an Authorization value holds spaces and commas).
_HEADER = re.compile(
    r"(?i)\b(x-amz-security-token|x-amz-credential|x-amz-signature|authorization|"
    r"x-ms-authorization-auxiliary|x-goog-iam-authorization-token|x-api-key|cookie|set-cookie|"
    r"security-token|session-token|sessiontoken|client_secret|access_token|refresh_token|"
    r"aws_session_token|aws_secret_access_key)(\"?\s*[:=]\s*\"?)([^\r\n\"'<>}\]]*)"
)


def uri_secrets(uri: str) -> tuple[str, ...]:
    """The secret values `uri` carries: every non-public query value, and a userinfo password."""
    parsed = parse_uri(uri)
    values = [p.value for p in parsed.params if p.secret and p.value]
    # a secret may also be used with '+' read as space (AWS secrets: CockroachDB does so)
    values += [v.replace(" ", "+") for v in values if " " in v]
    netloc = parsed.netloc
    if "@" in netloc:
        userinfo = netloc.rsplit("@", 1)[0]
        if ":" in userinfo:
            values.append(userinfo.split(":", 1)[1])
    return tuple(values)


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every given secret value, every credential header value and every URI's
    secrets replaced by `redacted`."""
    forms: set[str] = set()
    for s in secrets:
        if len(s) >= MIN_SECRET:
            forms.update({s, quote(s, safe=""), quote(s, safe="/")})
    for s in sorted(forms, key=len, reverse=True):
        text = text.replace(s, REDACTED)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}" if m.group(3).strip() else m.group(0), text)
    return redact_text(text)
