"""Editor colours from syntax/'s one tokenizer: per-line highlight spans in UTF-8 byte columns.

Textual 8.2's TextArea paints `_highlights[row] = [(start_byte, end_byte | None, name)]` with the
theme's `syntax_styles[name]` (textual/widgets/_text_area.py, `_render_line`). We fill that map
from `syntax.tokenize(..., split_uris=True)` instead of tree-sitter, so there is no second grammar.

Tokenizing a 2,000-line buffer on every keystroke costs about a second, so lines are tokenized
one at a time, cached by their text, and only as far as the painter asks (LineHighlighter); the tokenizer restarts cleanly at any token boundary and
only strings, quoted identifiers and block comments can cross a line end, so a line whose last
token is such an unterminated construct is tokenized together with the lines that follow it
(a growing window) until the construct closes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.color import Color as RichColor
from rich.style import Style
from textual.color import Color

from syntax import Token, TokenKind, tokenize
from syntax.tokens import continues, significant

Span = tuple[int, int | None, str]

SECRET_STYLE = "rewrap.secret"  # painted as bullets by SQLEditor.get_line


NAMES: dict[TokenKind, str | None] = {
    TokenKind.KEYWORD: "keyword",
    TokenKind.IDENTIFIER: None,
    TokenKind.STRING: "string",
    TokenKind.PLACEHOLDER: "constant.builtin",
    TokenKind.NUMBER: "number",
    TokenKind.OPERATOR: "operator",
    TokenKind.PUNCTUATION: "punctuation.delimiter",
    TokenKind.COMMENT: "comment",
    TokenKind.WHITESPACE: None,
    TokenKind.ERROR: "rewrap.lex_error",
    TokenKind.URI_SCHEME: "rewrap.uri_scheme",
    TokenKind.URI_HOST: "rewrap.uri_host",
    TokenKind.URI_PATH: "string",
    TokenKind.URI_PARAM_NAME: "rewrap.uri_param",
    TokenKind.URI_PARAM_VALUE: "string",
    TokenKind.URI_SECRET: SECRET_STYLE,
    TokenKind.SECRET: SECRET_STYLE,
}

MIN_CONTRAST = 3.0  # WCAG's ratio for large text / UI parts: the least a token gets


def _luminance(c: Color) -> float:
    def ch(v: int) -> float:
        x = v / 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

    return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b)


def contrast(a: Color, b: Color) -> float:
    """WCAG 2 contrast ratio of two opaque colours (1..21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _readable(colour: Color, background: Color, foreground: Color) -> Color:
    """`colour`, moved toward `foreground` just enough to reach MIN_CONTRAST on `background`
    (an ANSI colour as it is: the terminal's palette decides how it looks)."""
    if colour.ansi is not None or background.ansi is not None:
        return colour
    colour = background.blend(colour, colour.a) if colour.a < 1 else colour
    for step in range(11):
        mixed = Color.parse(colour.blend(foreground, step / 10).hex)  # as painted: rounded
        if contrast(mixed, background) >= MIN_CONTRAST:
            return mixed
    return foreground


def theme_styles(variables: Mapping[str, str]) -> dict[str, Style]:
    """Every span name's style from an app theme's CSS variables (`App.theme_variables`): the
    `text-*` colours Textual derives for text on the theme's background, each kept at least
    MIN_CONTRAST from the editor's background (`surface`). Built once per theme, not per key."""

    def parse(name: str, fallback: str) -> Color:
        try:
            return Color.parse(variables.get(name) or fallback)
        except Exception:  # "auto 60%" and the like: not a colour of their own
            return Color.parse(fallback)

    background = parse("surface", parse("background", "#1e1e1e").hex)
    foreground = parse("foreground", "#e0e0e0")
    if foreground.a < 1:
        foreground = background.blend(foreground, foreground.a)
    if foreground.ansi is None and background.ansi is None and contrast(foreground, background) < MIN_CONTRAST:  # a theme whose foreground is not set
        foreground = background.get_contrast_text(1.0)

    def colour(name: str) -> RichColor:
        return _readable(parse(name, foreground.hex), background, foreground).rich_color

    ansi = background.ansi is not None or foreground.ansi is not None
    muted = foreground.rich_color if ansi else _readable(
        background.blend(foreground, 0.6), background, foreground).rich_color
    return {
        "keyword": Style(color=colour("text-primary"), bold=True),
        "string": Style(color=colour("text-success")),
        "constant.builtin": Style(color=colour("text-accent")),
        "number": Style(color=colour("text-warning")),
        "operator": Style(color=colour("text-accent")),
        "punctuation.delimiter": Style(color=foreground.rich_color),
        "comment": Style(color=muted, italic=True),
        "rewrap.lex_error": Style(color=colour("text-error"), underline=True),
        "rewrap.uri_scheme": Style(color=colour("text-secondary"), bold=True),
        "rewrap.uri_host": Style(color=colour("text-primary")),
        "rewrap.uri_param": Style(color=colour("text-warning")),
        # A secret value: its characters are replaced by bullets (SQLEditor.get_line).
        SECRET_STYLE: Style(color=muted, bgcolor=None if ansi else background.blend(foreground, 0.15).rich_color,
                            dim=ansi),
        "rewrap.diag.error": Style(underline=True, color=colour("text-error"), bold=True),
        "rewrap.diag.warning": Style(underline=True, color=colour("text-warning")),
    }


# Before an app theme is known (a TextArea built outside an app): Textual's default dark theme.
EXTRA_STYLES: dict[str, Style] = theme_styles({})

def _opens(tokens: Sequence[Token]) -> bool:
    """True when the next line is not read on its own: an unterminated string, identifier or
    comment, or an ENCRYPTION_PASSPHRASE waiting for its value (syntax.tokens.continues)."""
    return continues(list(tokens))


def _byte_col(line: str, col: int) -> int:
    return col if line.isascii() else len(line[:col].encode("utf-8"))


class LineHighlighter:
    """Turns a document's lines into TextArea highlight spans, reusing per-line work.

    Incremental use (the editor): `invalidate(lines, row)` after an edit whose first changed row
    is `row` keeps every segment (a line, or a group of lines an open construct ties together)
    that ends before it; `row_spans(lines, row)` computes segments from the first unknown one up
    to `row` only. So a keystroke re-tokenizes the line it changed and the painter asks only for
    the visible rows: the work per key is bounded by the viewport, not the buffer. A construct
    left open (a quote just typed) is read no further than `WINDOW` rows past the row asked for;
    rows after it are provisional and recomputed, with a doubled window, when asked for.
    """

    WINDOW = 64

    def __init__(self) -> None:
        self._cache: dict[str, tuple[list[Span], bool, list[int]]] = {}
        self._rows: list[list[Span]] = []  # spans per row; valid for rows < _done
        self._semis: list[list[int]] = []  # `;` columns per row
        self._seg: list[int] = []  # the first row of the segment each row belongs to
        self._done = 0  # rows [0, _done) are computed; _done starts a segment
        self._open_from: int | None = None  # rows [_open_from, _done): an unclosed group so far
        self.rows_computed = 0  # how many rows were (re)computed: tests bound the work per key

    def _line(self, line: str) -> tuple[list[Span], bool, list[int]]:
        hit = self._cache.get(line)
        if hit is None:
            tokens = tokenize(line, split_uris=True)
            spans: list[Span] = []
            for t in tokens:
                name = NAMES.get(t.kind)
                if name:
                    spans.append((_byte_col(line, t.start), _byte_col(line, t.end), name))
            semis = [t.start for t in tokens if t.kind is TokenKind.PUNCTUATION and t.text == ";"]
            hit = (spans, _opens(tokens), semis)
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[line] = hit
        return hit

    # -- whole document (tests, one-off callers) -------------------------------------------

    def spans(self, lines: Sequence[str]) -> dict[int, list[Span]]:
        self.invalidate(lines, 0)
        self._advance(lines, len(lines))
        return {r: self._rows[r] for r in range(len(lines)) if self._rows[r]}

    # -- incremental (the editor) ----------------------------------------------------------

    def invalidate(self, lines: Sequence[str], row: int) -> None:
        """The text changed from `row` on: forget the segments that reach it."""
        keep = self._seg[row] if row < self._done else self._done
        if self._open_from is not None:
            keep = min(keep, self._open_from)
            self._open_from = None
        self._done = min(keep, len(lines))

    def row_spans(self, lines: Sequence[str], row: int) -> list[Span]:
        if row >= len(lines):
            return []
        self._advance(lines, row + 1)
        return self._rows[row]

    def all_semicolons(self, lines: Sequence[str]) -> list[tuple[int, int]]:
        """Every `;` token's (row, column): the diagnostics' statement cuts (after a pause)."""
        self._advance(lines, len(lines))
        return [(r, c) for r in range(len(lines)) for c in self._semis[r]]

    def _put(self, row: int, first: int, spans: list[Span], semis: list[int]) -> None:
        self.rows_computed += 1
        if row < len(self._rows):
            self._rows[row], self._semis[row], self._seg[row] = spans, semis, first
        else:
            self._rows.append(spans)
            self._semis.append(semis)
            self._seg.append(first)

    def _advance(self, lines: Sequence[str], upto: int) -> None:
        n = len(lines)
        upto = min(upto, n)
        if upto <= self._done:
            return
        limit = upto + self.WINDOW
        while upto > self._done:
            if self._open_from is not None:  # asked past a provisional group: read it further
                first = self._open_from
                limit = max(limit, first + 2 * (self._done - first) + self.WINDOW)
                self._done, self._open_from = first, None
            row = self._done
            while row < upto:
                spans, opens, semis = self._line(lines[row])
                if not opens:
                    self._put(row, row, spans, semis)
                    row += 1
                    continue
                out: dict[int, list[Span]] = {}
                cuts: dict[int, list[int]] = {}
                nxt, closed = self._group(lines, row, out, cuts, limit)
                for r in range(row, nxt):
                    self._put(r, row, out.get(r, []), cuts.get(r, []))
                if not closed:
                    self._open_from = row
                    row = nxt
                    break
                row = nxt
            self._done = row

    def _group(self, lines: Sequence[str], first: int, out: dict[int, list[Span]],
               cuts: dict[int, list[int]], limit: int) -> tuple[int, bool]:
        """Tokenize lines[first:] in a doubling window until the open construct closes (or the
        window reaches `limit`); fill `out` and `cuts` for the rows it covers and return the next
        row to do line by line, and whether the construct closed (else rows up to it are
        provisional)."""
        n = len(lines)
        size = 2
        while True:
            last = min(n, first + size)
            text = "\n".join(lines[first:last])
            tokens = tokenize(text, split_uris=True)
            if last == n or not _opens(tokens):
                break
            if last >= limit and _row_of_text(text, tokens[-1].start) > 0:
                break  # rows before the open token are final; it and what follows wait
            size *= 2
        closed = last == n or not _opens(tokens)
        # Keep tokens up to the end of the construct's last line; later lines go back to the cache.
        starts = [0]
        for line in lines[first:last]:
            starts.append(starts[-1] + len(line) + 1)
        close = 0  # last row (relative) reached by a token chained from the first line
        done: list[Token] = []
        for t in tokens:
            r0 = _row_of(starts, t.start)
            if r0 > close:
                if not continues(significant(done)[-2:]):
                    break
                close = r0  # a secret option's value on a later line: read it in context
            done.append(t)
            r1 = _row_of(starts, max(t.start, t.end - 1))
            close = max(close, r1)
            if t.kind is TokenKind.PUNCTUATION and t.text == ";":
                cuts.setdefault(first + r0, []).append(t.start - starts[r0])
            name = NAMES.get(t.kind)
            if not name:
                continue
            for r in range(r0, r1 + 1):
                line = lines[first + r]
                s = t.start - starts[r] if r == r0 else 0
                e = t.end - starts[r] if r == r1 else None
                out.setdefault(first + r, []).append(
                    (_byte_col(line, s), None if e is None else _byte_col(line, e), name)
                )
        if not closed:
            return first + _row_of(starts, tokens[-1].start), False
        return first + close + 1, True


def _row_of_text(text: str, offset: int) -> int:
    return text.count("\n", 0, offset)


def _row_of(starts: list[int], offset: int) -> int:
    import bisect

    return bisect.bisect_right(starts, offset) - 1
