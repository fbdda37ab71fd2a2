"""rewrap's SQL front end: one tokenizer, one splitter, one grammar walker (the parser, which
completion and diagnostics read too), a formatter.

Pure Python; it imports nothing of ours (engine data reaches completion through callables).
Names are loaded on first use so that `import syntax` stays cheap (the Pygments lexer, in
particular, is only imported by whoever asks for RewrapLexer).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "tokenize": "syntax.tokens",
    "uri_parts": "syntax.tokens",
    "Token": "syntax.tokens",
    "TokenKind": "syntax.tokens",
    "parse": "syntax.parser",
    "walk": "syntax.parser",
    "Walk": "syntax.parser",
    "split_statements": "syntax.split",
    "statements_at": "syntax.split",
    "ends_statement": "syntax.split",
    "SQLSyntaxError": "syntax.errors",
    "format_statement": "syntax.formatter",
    "quote_string": "syntax.formatter",
    "RewrapLexer": "syntax.lexer",
    "complete": "syntax.completion",
    "Completion": "syntax.completion",
    "slot_at": "syntax.completion",
    "CursorSlot": "syntax.completion",
    "diagnose": "syntax.diagnostics",
    "Diagnostic": "syntax.diagnostics",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from syntax.completion import Completion, CursorSlot, complete, slot_at
    from syntax.diagnostics import Diagnostic, diagnose
    from syntax.errors import SQLSyntaxError
    from syntax.formatter import format_statement, quote_string
    from syntax.lexer import RewrapLexer
    from syntax.parser import Walk, parse, walk
    from syntax.split import ends_statement, split_statements, statements_at
    from syntax.tokens import Token, TokenKind, tokenize, uri_parts


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'syntax' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
