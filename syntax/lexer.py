"""Pygments lexer built on syntax.tokens.tokenize, so every screen colours what the parser sees.

Token types: keywords Keyword, identifiers Name, strings String.Single, placeholders
Name.Variable, numbers Number, operators Operator, punctuation Punctuation, comments Comment,
whitespace Whitespace, lexical errors (unterminated string/comment, bad placeholder) Error.
URI pieces inside strings use dedicated subtypes of String so styles without rules for them
still show a string colour: String.URI.Scheme / .Host / .Path / .ParamName / .ParamValue, and
secret values (URI params, passwords, ENCRYPTION_PASSPHRASE) String.URI.Secret (style it
loudly, e.g. reverse video; screens draw it as bullets).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from pygments.lexer import Lexer
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
    _TokenType,
)

from syntax.tokens import TokenKind, tokenize

URI = String.URI
SECRET = String.URI.Secret

PYGMENTS_TYPES: dict[TokenKind, _TokenType] = {
    TokenKind.KEYWORD: Keyword,
    TokenKind.IDENTIFIER: Name,
    TokenKind.STRING: String.Single,
    TokenKind.PLACEHOLDER: Name.Variable,
    TokenKind.NUMBER: Number,
    TokenKind.OPERATOR: Operator,
    TokenKind.PUNCTUATION: Punctuation,
    TokenKind.COMMENT: Comment,
    TokenKind.WHITESPACE: Whitespace,
    TokenKind.ERROR: Error,
    TokenKind.URI_SCHEME: URI.Scheme,
    TokenKind.URI_HOST: URI.Host,
    TokenKind.URI_PATH: URI.Path,
    TokenKind.URI_PARAM_NAME: URI.ParamName,
    TokenKind.URI_PARAM_VALUE: URI.ParamValue,
    TokenKind.URI_SECRET: SECRET,
    TokenKind.SECRET: SECRET,  # a passphrase: painted like any secret
}


class RewrapLexer(Lexer):
    """rewrap's SQL dialect: ALTER BACKUP, SHOW BACKUP(S), SHOW BACKUP KEYS, SHOW KMS
    RETIREMENT, BACKUP, RESTORE."""

    name = "rewrap-sql"
    aliases = ["rewrap-sql", "rewrap"]
    filenames = ["*.rewrap.sql"]
    mimetypes: ClassVar[Sequence[str]] = []

    def __init__(self, **options: Any) -> None:
        # Offsets must match the text as given: no newline stripping or adding.
        options.setdefault("stripnl", False)
        options.setdefault("ensurenl", False)
        super().__init__(**options)

    def get_tokens_unprocessed(self, text: str) -> Iterator[tuple[int, _TokenType, str]]:
        for tok in tokenize(text, split_uris=True):
            yield tok.start, PYGMENTS_TYPES[tok.kind], tok.text
