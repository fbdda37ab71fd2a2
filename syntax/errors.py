"""The one error the parser raises, laid out like CockroachDB's.

pkg/sql/parser/lexer.go (populateErrorDetails) renders a parse error as
`at or near "<token>": syntax error[: <detail>]` (or `lexical error: <what>` for a bad token),
then `DETAIL: source SQL:` followed by the statement's text up to the end of the line holding
the token, and a caret under the token's first character. pkg/sql/parser/testdata/errors has
examples; `EOF` stands for the end of the statement.
"""

from __future__ import annotations

from syntax.redact import redact_text


class SQLSyntaxError(Exception):
    """A statement that does not parse.

    `position` is a character offset into the text given to `parse`; `line` and `column` are
    1-based in that text; `source_line` is that whole line. `str()` is CockroachDB's layout.
    """

    def __init__(
        self,
        message: str,
        *,
        position: int,
        line: int,
        column: int,
        source_line: str,
        source_sql: str,
        caret_column: int,
        hint: str | None = None,
        expected: tuple[str, ...] = (),
        code: str = "syntax",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.line = line
        self.column = column
        self.source_line = source_line
        self.source_sql = source_sql
        self.caret_column = caret_column
        self.hint = hint
        self.expected = expected
        """What the grammar accepted at the token, as phrases ("WITH OLD_KMS = ..."); not part of
        `str()` (CockroachDB's text), diagnostics show it."""
        self.code = code
        """"syntax", or "duplicate-option" for a repeated SHOW BACKUP option."""

    def expected_text(self) -> str:
        """`expected A, B or C`, or "" when nothing is known."""
        if not self.expected:
            return ""
        *head, last = self.expected
        return "expected " + (f"{', '.join(head)} or {last}" if head else last)

    def __str__(self) -> str:
        text = f"{self.message}\nDETAIL: source SQL:\n{self.source_sql}\n{' ' * self.caret_column}^"
        if self.hint:
            text += f"\nHINT: {self.hint}"
        return text


def make_error(
    text: str,
    message: str,
    position: int,
    stmt_start: int,
    stmt_end: int,
    hint: str | None = None,
    *,
    expected: tuple[str, ...] = (),
    code: str = "syntax",
) -> SQLSyntaxError:
    """Build the error for `message` at `position` in the statement text[stmt_start:stmt_end].

    As in CockroachDB the DETAIL shows the statement alone (from its first token), up to the end
    of the line holding the token, with the caret column counted from that line's start.
    Secrets never reach the error: the statement's secrets (URI values, passwords, passphrases)
    are redacted in the whole text before it is cut into lines, and the message is redacted too
    (the caret column is counted on the redacted text, so it still points at the token).
    """
    from syntax.tokens import apply_edits, redaction_edits  # tokens imports syntax.uri first

    edits = redaction_edits(text)  # on the whole text: a slice could cut a literal in two
    stmt_end = max(stmt_end, position)
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    if line_end < 0:
        line_end = len(text)
    stmt_line_start = max(line_start, stmt_start)
    source_end = min(line_end, stmt_end) if position < stmt_end else stmt_end
    source_end = max(source_end, position)
    return SQLSyntaxError(
        redact_text(message),
        position=position,
        line=text.count("\n", 0, position) + 1,
        column=position - line_start + 1,
        source_line=apply_edits(text, edits, line_start, line_end),
        source_sql=apply_edits(text, edits, stmt_start, source_end),
        caret_column=len(apply_edits(text, edits, stmt_line_start, position)),
        hint=hint,
        expected=expected,
        code=code,
    )
