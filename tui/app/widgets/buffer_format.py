"""Format the editor's buffer: each statement through syntax.format_statement, unredacted (the
buffer keeps secrets as typed; the editor paints them as dots), one statement per line.

A piece that does not parse, or that holds a comment (formatting would drop it), stays exactly as
typed, so formatting never loses text.
"""

from __future__ import annotations

from dataclasses import dataclass

from syntax import SQLSyntaxError, TokenKind, format_statement, parse, tokenize
from syntax.split import pieces


@dataclass(frozen=True)
class Formatted:
    text: str
    formatted: int  # statements rewritten
    kept: int  # statements left as typed (do not parse, or hold a comment)


def format_buffer(text: str) -> Formatted:
    """`text` with every statement in canonical form; blank pieces dropped."""
    toks = tokenize(text)
    comments = [t for t in toks if t.kind is TokenKind.COMMENT]
    out: list[str] = []
    done = kept = 0
    for p in pieces(text, toks):
        span = p.span
        if span is None:
            continue
        a, b = span
        source = text[a:b]
        end = ";" if p.terminated else ""
        if any(p.start <= c.start < p.end for c in comments):
            out.append(text[p.start:p.end].strip())
            kept += 1
            continue
        try:
            stmts = parse(source)
        except SQLSyntaxError:
            stmts = []
        if len(stmts) != 1:
            out.append(source + end)
            kept += 1
            continue
        out.append(format_statement(stmts[0]) + end)
        done += 1
    trailing = "\n" if text.endswith("\n") else ""
    return Formatted("\n".join(out) + trailing, done, kept)
