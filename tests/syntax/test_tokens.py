"""Tokenizer: kinds, offsets, escapes, error tokens and URI pieces, against hand-written answers."""

from __future__ import annotations

import pytest

from syntax.tokens import Token, TokenKind, decode_string, tokenize, uri_parts

K = TokenKind


def kinds(text: str, **kw: bool) -> list[tuple[TokenKind, str]]:
    return [(t.kind, t.text) for t in tokenize(text, **kw) if t.kind is not K.WHITESPACE]


def test_tokens_cover_text_without_gaps() -> None:
    text = "SHOW BACKUP FROM $1 IN 'a''b' -- c\n/* x /* y */ z */ ;(1.5e3)"
    toks = tokenize(text)
    assert "".join(t.text for t in toks) == text
    assert all(a.end == b.start for a, b in zip(toks, toks[1:]))
    assert all(text[t.start : t.end] == t.text for t in toks)


def test_kinds() -> None:
    assert kinds("Alter backup foo = $12, 3 ;") == [
        (K.KEYWORD, "Alter"),
        (K.KEYWORD, "backup"),
        (K.IDENTIFIER, "foo"),
        (K.OPERATOR, "="),
        (K.PLACEHOLDER, "$12"),
        (K.PUNCTUATION, ","),
        (K.NUMBER, "3"),
        (K.PUNCTUATION, ";"),
    ]


def test_comments_nest_like_cockroachdb() -> None:
    assert kinds("/* a /* b */ c */ x -- y") == [
        (K.COMMENT, "/* a /* b */ c */"),
        (K.IDENTIFIER, "x"),
        (K.COMMENT, "-- y"),
    ]


@pytest.mark.parametrize(
    "text, bad",
    [
        ("SHOW 'abc", "'abc"),
        ("SHOW 'a''", "'a''"),  # '' is an escaped quote, so the literal never closes
        ("x /* never", "/* never"),
        ("x /* a /* b */", "/* a /* b */"),
        ('x "ident', '"ident'),
        ("$0", "$0"),
        ("$65537", "$65537"),
        ("e'\\x4'", "e'\\x4'"),
    ],
)
def test_error_tokens(text: str, bad: str) -> None:
    toks = tokenize(text)
    assert toks[-1] == Token(K.ERROR, bad, len(text) - len(bad), len(text))


def test_placeholder_bounds() -> None:
    assert kinds("$1 $65536") == [(K.PLACEHOLDER, "$1"), (K.PLACEHOLDER, "$65536")]


@pytest.mark.parametrize(
    "literal, value",
    [
        ("'plain'", "plain"),
        ("'it''s'", "it's"),
        ("''", ""),
        ("e'a\\nb'", "a\nb"),
        ("E'\\'q\\\\'", "'q\\"),
        ("e'\\x41\\u00e9\\U0001F600'", "A\u00e9\U0001f600"),
        ("e'\\101'", "A"),
        ("e'it''s'", "it's"),
    ],
)
def test_string_values(literal: str, value: str) -> None:
    (tok,) = tokenize(literal)
    assert tok.kind is K.STRING
    assert decode_string(tok.text) == value


def test_uri_parts_offsets_and_secret() -> None:
    text = "x 's3://bkt/a/b?AWS_ACCESS_KEY_ID=id&AWS_SECRET_ACCESS_KEY=se''cret&AUTH'"
    string = tokenize(text)[-1]
    parts = uri_parts(string)
    assert "".join(p.text for p in parts) == string.text
    assert all(text[p.start : p.end] == p.text for p in parts)
    assert [(p.kind, p.text) for p in parts] == [
        (K.STRING, "'"),
        (K.URI_SCHEME, "s3"),
        (K.STRING, "://"),
        (K.URI_HOST, "bkt"),
        (K.URI_PATH, "/a/b"),
        (K.STRING, "?"),
        (K.URI_PARAM_NAME, "AWS_ACCESS_KEY_ID"),
        (K.STRING, "="),
        (K.URI_PARAM_VALUE, "id"),
        (K.STRING, "&"),
        (K.URI_PARAM_NAME, "AWS_SECRET_ACCESS_KEY"),
        (K.STRING, "="),
        (K.URI_SECRET, "se''cret"),
        (K.STRING, "&"),
        (K.URI_PARAM_NAME, "AUTH"),
        (K.STRING, "'"),
    ]


def test_uri_parts_in_escape_string_map_to_source() -> None:
    text = "e'gs://b/p?CREDENTIALS=a\\x62c'"
    parts = tokenize(text, split_uris=True)
    secret = [p for p in parts if p.kind is K.URI_SECRET]
    assert [(p.text, p.start) for p in secret] == [("a\\x62c", 23)]


def test_non_uri_strings_are_not_split() -> None:
    assert kinds("'latest' 'a:b'", split_uris=True) == [(K.STRING, "'latest'"), (K.STRING, "'a:b'")]
