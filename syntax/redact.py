"""The one redaction of secrets in text: SQL, an error message, a server's reply.

Its own module because it reads text with syntax.tokens' tokenizer, which itself builds on
syntax.uri (what a secret is): uri <- tokens <- redact, no cycle.
"""

from __future__ import annotations

from collections.abc import Iterable

from syntax.tokens import redaction_edits
from syntax.uri import REDACTED


def redact_text(text: str, *, secrets: Iterable[str] = ()) -> str:
    """`text` (SQL, an error message, a server's reply) with every secret in it redacted.

    SQL is read with syntax.tokens' one tokenizer, so a URI inside any string literal (`'...'`
    with `''`, `e'...'` with escapes, `"..."`, finished or not) loses each secret value up to its
    real end, whatever it holds (quotes, spaces, newlines), and an ENCRYPTION_PASSPHRASE value
    becomes `'*****'` as in CockroachDB's redacted form. URIs in plain text lose their secrets
    too. `secrets` are values known to be secret (a token a server may echo back): every
    occurrence of each is replaced as well.
    """
    out = text
    for a, b, replacement in reversed(redaction_edits(text)):
        out = out[:a] + replacement + out[b:]
    for value in sorted({s for s in secrets if s}, key=len, reverse=True):
        out = out.replace(value, REDACTED)
    return out
