"""The one statement splitter: the parser, diagnostics, completion, the shell's "is the input
complete", the batch script reader and the editor's F5 all cut a script here.

A statement ends at a `;` token, exactly as CockroachDB's scanner splits (pkg/sql/parser
lexer/scanner): a `;` inside a string, quoted identifier or comment is part of that token, and an
unterminated string or comment runs to the end of the text (so its `;` never ends anything).
"""

from __future__ import annotations

from dataclasses import dataclass

from syntax.tokens import Token, TokenKind, significant, tokenize


@dataclass(frozen=True)
class Piece:
    """One `;`-terminated piece of a script (the last may lack its `;`).

    `start`..`end` is the whole piece: from just after the previous `;` (or 0) to just after its
    own `;` (or the end of the text). `tokens` are its significant tokens, the `;` excluded.
    """

    start: int
    end: int
    tokens: tuple[Token, ...]
    terminated: bool

    @property
    def span(self) -> tuple[int, int] | None:
        """First token start to last token end (no `;`), or None for an empty statement."""
        if not self.tokens:
            return None
        return (self.tokens[0].start, self.tokens[-1].end)


def _is_semicolon(tok: Token) -> bool:
    return tok.kind is TokenKind.PUNCTUATION and tok.text == ";"


def pieces(text: str, tokens: list[Token] | None = None) -> list[Piece]:
    """Every piece of `text`, empty ones included (so the statement after a trailing `;` exists
    for completion); `tokens` if the caller already tokenized `text`."""
    toks = significant(tokens if tokens is not None else tokenize(text))
    out: list[Piece] = []
    start = 0
    cur: list[Token] = []
    for tok in toks:
        if _is_semicolon(tok):
            out.append(Piece(start, tok.end, tuple(cur), True))
            start, cur = tok.end, []
        else:
            cur.append(tok)
    out.append(Piece(start, len(text), tuple(cur), False))
    return out


def split_statements(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-empty statement: first token start to last token end, no `;`."""
    return [p.span for p in pieces(text) if p.span is not None]


def ends_statement(text: str) -> bool:
    """Whether the text's last significant token is a `;` (a `;` in a string, an unterminated
    string or a comment does not count): what makes Enter run the shell's input."""
    toks = significant(tokenize(text))
    return bool(toks) and _is_semicolon(toks[-1])


def statements_at(text: str, cursor: int, selection: tuple[int, int] | None = None) -> list[str]:
    """What "run" means at `cursor`: the statements of the selection if there is one; else every
    statement when the cursor is past the last `;` and nothing follows it; else the statement
    whose piece holds the cursor (just after its `;` still counts as that statement)."""
    if selection and selection[0] != selection[1]:
        lo, hi = sorted(selection)
        part = text[lo:hi]
        return [part[s:e] for s, e in split_statements(part)]
    allp = pieces(text)
    ps = [p for p in allp if p.span is not None]
    if not ps:
        return []
    if len(allp) > 1 and allp[-1].span is None and cursor >= allp[-1].start:
        return [text[p.tokens[0].start : p.tokens[-1].end] for p in ps]
    for p in ps:
        if cursor <= p.end:
            return [text[p.tokens[0].start : p.tokens[-1].end]]
    last = ps[-1]
    return [text[last.tokens[0].start : last.tokens[-1].end]]
