"""The Pygments lexer is the tokenizer: same offsets, same pieces, mapped token types."""

from __future__ import annotations

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.token import Error, Keyword, Name, String

from syntax import RewrapLexer
from syntax.lexer import SECRET
from syntax.tokens import tokenize

TEXT = (
    "\n-- rotate\nALTER BACKUP LATEST IN 's3://b/p?AWS_SECRET_ACCESS_KEY=sk' "
    "ADD NEW_KMS = $1 WITH OLD_KMS = 'k1';\nSHOW BACKUP 'oops\n"
)


def test_same_tokens_as_tokenizer() -> None:
    got = list(RewrapLexer().get_tokens_unprocessed(TEXT))
    want = tokenize(TEXT, split_uris=True)
    assert [(s, v) for s, _, v in got] == [(t.start, t.text) for t in want]
    assert "".join(v for _, _, v in got) == TEXT


def test_token_types() -> None:
    types = {v: t for _, t, v in RewrapLexer().get_tokens_unprocessed(TEXT)}
    assert types["ALTER"] is Keyword
    assert types["$1"] is Name.Variable
    assert types["sk"] is SECRET and SECRET in String
    assert types["AWS_SECRET_ACCESS_KEY"] in String
    assert types["'oops\n"] is Error


def test_get_tokens_keeps_leading_newline() -> None:
    # stripnl would shift every offset the editor relies on.
    assert "".join(v for _, v in RewrapLexer().get_tokens(TEXT)) == TEXT


def test_renders_with_pygments() -> None:
    html = highlight("SHOW BACKUPS IN 's3://x'", RewrapLexer(), HtmlFormatter())
    assert "SHOW" in html
