"""The one tokenizer: the parser, the editor colours, the shell colours and rendering all use it.

Lexing follows CockroachDB's scanner (pkg/sql/scanner/scan.go) where it matters for meaning:
`'...'` strings with `''` escapes, `e'...'` escape strings, `"..."` identifiers, unquoted words
folded to lower case by the parser, `$n` placeholders (1..65536), `--` and nested `/* */`
comments. Unterminated strings, identifiers and comments and out-of-range placeholders become
ERROR tokens (never exceptions), so a half-typed statement still colours.
"""

from __future__ import annotations

import bisect
import enum
import functools
import re
from collections.abc import Sequence
from typing import NamedTuple

from syntax.uri import REDACTED, parse_uri, secret_spans


class TokenKind(enum.Enum):
    KEYWORD = "keyword"
    IDENTIFIER = "identifier"
    STRING = "string"
    PLACEHOLDER = "placeholder"
    NUMBER = "number"
    OPERATOR = "operator"
    PUNCTUATION = "punctuation"
    COMMENT = "comment"
    WHITESPACE = "whitespace"
    ERROR = "error"
    # Pieces of a string literal that holds a URI (see uri_parts).
    URI_SCHEME = "uri_scheme"
    URI_HOST = "uri_host"
    URI_PATH = "uri_path"
    URI_PARAM_NAME = "uri_param_name"
    URI_PARAM_VALUE = "uri_param_value"
    URI_SECRET = "uri_secret"
    # The value of a secret option (ENCRYPTION_PASSPHRASE), inside its quotes.
    SECRET = "secret"


class Token(NamedTuple):
    """One token; `start`/`end` are character offsets into the tokenized text."""

    kind: TokenKind
    text: str
    start: int
    end: int


# CockroachDB's reserved keywords (pkg/sql/parser/sql.y: reserved_keyword plus
# cockroachdb_extra_reserved_keyword). A bare word in a string_or_placeholder position must not be
# one of these; ALL being reserved is what makes `ALTER BACKUP ALL IN` unambiguous.
RESERVED: frozenset[str] = frozenset(
    """all analyse analyze and any array as asc asymmetric both case cast check collate column
    concurrently constraint create current_catalog current_date current_role current_schema
    current_time current_timestamp current_user default deferrable desc distinct do else end
    except false fetch for foreign from grant group having in index initially intersect into
    lateral leading limit localtime localtimestamp not nothing null offset on only or order
    placing primary references returning select session_user some symmetric table then to
    trailing true union unique user using variadic when where window with""".split()
)

# Words coloured as keywords: the reserved ones and those of the statements rewrap knows.
KEYWORDS: frozenset[str] = RESERVED | frozenset(
    """alter backup backups show add new_kms old_kms latest schemas files ranges validate keys
    options as_json check_files skip size nowait debug_ids privileges incremental_location kms
    encryption_passphrase encryption_info_dir restore database system users of time detached
    revision_history execution locality include_all_virtual_clusters
    include_all_secondary_tenants updates_cluster_monitoring_metrics into_db new_db_name
    skip_missing_foreign_keys skip_missing_sequences skip_missing_sequence_owners
    skip_missing_views skip_missing_udfs skip_localities_check virtual_cluster_name
    virtual_cluster tenant tenant_name schema_only verify_backup_table_data
    unsafe_restore_incompatible_version experimental deferred copy remove_regions connection
    schedule retirement""".split()
)

MAX_PLACEHOLDER = 65536  # pkg/sql/scanner: "placeholder index must be between 1 and 65536"

_MASTER = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<lcomment>--[^\n]*)
    |(?P<bcomment>/\*)
    |(?P<estring>[eE]'(?:[^'\\]|\\[\s\S]|'')*+')
    |(?P<uestring>[eE]'[\s\S]*)
    |(?P<string>'(?:[^']|'')*+')
    |(?P<ustring>'[\s\S]*)
    |(?P<qident>"(?:[^"]|"")*+")
    |(?P<uqident>"[\s\S]*)
    |(?P<placeholder>\$\d+)
    |(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<word>[^\W\d][\w$]*)
    |(?P<punct>[(),;])
    |(?P<op>::|<=|>=|<>|!=|\|\||[\s\S])
    """,
    re.VERBOSE,
)

_SIMPLE_KINDS = {
    "ws": TokenKind.WHITESPACE,
    "lcomment": TokenKind.COMMENT,
    "string": TokenKind.STRING,
    "qident": TokenKind.IDENTIFIER,
    "number": TokenKind.NUMBER,
    "punct": TokenKind.PUNCTUATION,
    "op": TokenKind.OPERATOR,
    "ustring": TokenKind.ERROR,
    "uestring": TokenKind.ERROR,
    "uqident": TokenKind.ERROR,
}


def _block_comment_end(text: str, pos: int) -> int:
    """End offset of the (nested) block comment opening at `pos`, or -1 if unterminated."""
    depth = 0
    n = len(text)
    i = pos
    while i < n:
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            nxt = text.find("/*", i)
            cls = text.find("*/", i)
            cands = [c for c in (nxt, cls) if c >= 0]
            if not cands:
                return -1
            i = min(cands)
    return -1


def _raw_tokens(text: str, *, bare_uris: bool = False) -> list[Token]:
    """The scanner proper. With `bare_uris`, an unquoted `scheme://...` (up to white space, a
    quote or `;`: a `,` or `)` may be part of a secret) is one IDENTIFIER token, so its secrets
    can be found (for painting and redaction, never for parsing)."""
    out: list[Token] = []
    append = out.append
    match = _MASTER.match
    pos = 0
    n = len(text)
    while pos < n:
        if bare_uris and (text[pos].isascii() and text[pos].isalpha()):
            bare = _BARE_URI.match(text, pos)
            if bare is not None:
                append(Token(TokenKind.IDENTIFIER, bare.group(), pos, bare.end()))
                pos = bare.end()
                continue
        m = match(text, pos)
        assert m is not None  # the last alternative matches any character
        group = m.lastgroup
        end = m.end()
        if group == "word":
            word = m.group()
            kind = TokenKind.KEYWORD if word.lower() in KEYWORDS else TokenKind.IDENTIFIER
            append(Token(kind, word, pos, end))
        elif group == "bcomment":
            cend = _block_comment_end(text, pos)
            if cend < 0:
                append(Token(TokenKind.ERROR, text[pos:], pos, n))
                end = n
            else:
                append(Token(TokenKind.COMMENT, text[pos:cend], pos, cend))
                end = cend
        elif group == "placeholder":
            # Compare digits, not int(): Python refuses to convert more than 4,300 of them.
            digits = m.group()[1:].lstrip("0")
            ok = 0 < len(digits) <= len(str(MAX_PLACEHOLDER)) and int(digits) <= MAX_PLACEHOLDER
            append(Token(TokenKind.PLACEHOLDER if ok else TokenKind.ERROR, m.group(), pos, end))
        elif group == "estring":
            try:
                decode_string(m.group())
                kind = TokenKind.STRING
            except ValueError:
                kind = TokenKind.ERROR
            append(Token(kind, m.group(), pos, end))
        else:
            append(Token(_SIMPLE_KINDS[group], m.group(), pos, end))  # type: ignore[index]
        pos = end
    return out


def tokenize(text: str, *, split_uris: bool = False) -> list[Token]:
    """All tokens of `text`, covering it without gaps; never raises.

    With `split_uris` (every screen uses it), string literals holding a URI are replaced by their
    `uri_parts`, and every secret becomes its own piece wherever it is: URI_SECRET for a secret
    URI value or password (in any string, finished or not, in a quoted identifier or an unquoted
    URI), SECRET for an ENCRYPTION_PASSPHRASE value. Painters hide exactly those pieces.
    """
    if not split_uris:
        return _raw_tokens(text)
    raw = _raw_tokens(text, bare_uris=True)
    out: list[Token] = []
    for tok, marks in _with_marks(text, raw):
        if not marks:
            out.append(tok)
            continue
        base = tok.kind
        cursor = tok.start
        for a, b, kind in marks:
            if a > cursor:
                out.append(Token(base, text[cursor:a], cursor, a))
            out.append(Token(kind, text[a:b], a, b))
            cursor = b
        if cursor < tok.end:
            out.append(Token(base, text[cursor : tok.end], cursor, tok.end))
    return out


Edit = tuple[int, int, str]


@functools.lru_cache(maxsize=8)
def redaction_edits(text: str) -> tuple[Edit, ...]:
    """(start, end, replacement) for every secret in `text`, sorted and disjoint (cached: the
    parser asks again for each error in one text, diagnostics for each statement): a secret URI
    value or password becomes `redacted`, an ENCRYPTION_PASSPHRASE value (its whole literal)
    `'*****'`. The same pieces `tokenize(split_uris=True)` hides on screen; syntax.redact.redact_text
    applies them. URIs in plain text (an error message) are found by a scan of the raw text too.
    """
    edits: list[tuple[int, int, str]] = []
    for tok, marks in _with_marks(text, _raw_tokens(text, bare_uris=True)):
        if any(kind is TokenKind.SECRET for _, _, kind in marks):
            edits.append((tok.start, tok.end, HIDDEN))
        else:
            edits.extend((a, b, REDACTED) for a, b, kind in marks if kind is TokenKind.URI_SECRET)
    for m in _URI_IN_TEXT.finditer(text):
        edits.extend((m.start() + a, m.start() + b, REDACTED) for a, b in secret_spans(m.group()))
    merged: list[Edit] = []
    for a, b, rep in sorted(edits):
        if merged and a < merged[-1][1]:
            pa, pb, prep = merged[-1]
            merged[-1] = (pa, max(pb, b), HIDDEN if HIDDEN in (rep, prep) else REDACTED)
        else:
            merged.append((a, b, rep))
    return tuple(merged)


def apply_edits(text: str, edits: Sequence[Edit], start: int = 0, end: int | None = None) -> str:
    """text[start:end] with `edits` (offsets into `text`, sorted, disjoint) applied; an edit cut
    by the range still replaces the part inside it."""
    end = len(text) if end is None else end
    out: list[str] = []
    cursor = start
    for k in range(bisect.bisect_right(edits, start, key=lambda e: e[1]), len(edits)):
        a, b, rep = edits[k]
        if a >= end:
            break
        a, b = max(a, start), min(b, end)
        out.append(text[cursor:a])
        out.append(rep)
        cursor = b
    out.append(text[cursor:end])
    return "".join(out)


def continues(tokens: list[Token]) -> bool:
    """True when what follows `tokens` (split or not) is not read on its own: the last token is
    an unterminated string, identifier or comment or a secret piece, or a secret option still
    waits for its value. The editor's line-by-line painter reads such lines together."""
    if not tokens:
        return False
    last = tokens[-1]
    if last.kind is TokenKind.ERROR and last.text.startswith(_OPENERS):
        return True
    if last.kind in (TokenKind.URI_SECRET, TokenKind.SECRET):
        return True  # a split literal ends with a secret: it may go on past the line
    return _awaiting_secret(significant(tokens))


HIDDEN = "'*****'"
"""CockroachDB's stand-in for a password or passphrase (tree.PasswordSubstitution)."""

# Options whose value is a secret: the next literal after them (an optional `=` between).
SECRET_OPTIONS: frozenset[str] = frozenset({"encryption_passphrase"})

_OPENERS = ("'", '"', "e'", "E'", "/*")
_URI_IN_TEXT = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"]*")  # lookbehind: linear on long words
_BARE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\";]*")
_EMBEDDED_END = re.compile(r"[\s'\"]")


def _awaiting_secret(sig: list[Token]) -> bool:
    """Whether the next significant token would be a secret option's value."""
    def word(t: Token) -> str:
        return t.text.lower() if t.kind in (TokenKind.KEYWORD, TokenKind.IDENTIFIER) else ""

    if sig and word(sig[-1]) in SECRET_OPTIONS:
        return True
    return len(sig) >= 2 and sig[-1].text == "=" and word(sig[-2]) in SECRET_OPTIONS


def _with_marks(text: str, raw: list[Token]) -> list[tuple[Token, list[tuple[int, int, TokenKind]]]]:
    """Each token with its pieces (absolute offsets, sorted, disjoint) that get a URI or secret
    kind; tokens holding none come with an empty list."""
    out: list[tuple[Token, list[tuple[int, int, TokenKind]]]] = []
    sig: list[Token] = []
    for tok in raw:
        marks: list[tuple[int, int, TokenKind]] = []
        if tok.kind not in (TokenKind.WHITESPACE, TokenKind.COMMENT):
            awaiting = _awaiting_secret(sig)
            # Right after the option name only a quoted value counts (`encryption_passphrase
            # 'x'` is a typo to catch; `encryption_passphrase option ...` is prose).
            quoted = tok.kind is TokenKind.STRING or tok.kind is TokenKind.ERROR or tok.text[:1] == '"'
            if awaiting and _holds_value(tok) and (sig[-1].text == "=" or quoted):
                a, b = _content(tok)
                if b > a:
                    marks = [(a, b, TokenKind.SECRET)]
            else:
                marks = _uri_marks(tok)
            sig.append(tok)
            if len(sig) > 2:
                del sig[0]
        out.append((tok, marks))
    return out


def _holds_value(tok: Token) -> bool:
    if tok.kind in (TokenKind.STRING, TokenKind.IDENTIFIER, TokenKind.KEYWORD, TokenKind.NUMBER):
        return True
    return tok.kind is TokenKind.ERROR and tok.text.startswith(("'", '"', "e'", "E'"))


def _content(tok: Token) -> tuple[int, int]:
    """Absolute offsets of what is inside a literal's quotes (all of a bare word)."""
    t = tok.text
    if t[:2] in ("e'", "E'"):
        a = 2
    elif t[:1] in ("'", '"'):
        a = 1
    else:
        return tok.start, tok.end
    closed = len(t) > a and t[-1] == t[a - 1] and tok.kind is not TokenKind.ERROR
    return tok.start + a, tok.end - (1 if closed else 0)


def _uri_marks(tok: Token) -> list[tuple[int, int, TokenKind]]:
    """URI pieces of a token: all parts for a finished string holding a URI (as uri_parts),
    only the secret values for any other literal, quoted identifier or bare URI."""
    t = tok.text
    if tok.kind is TokenKind.STRING:
        pieces = uri_parts(tok)
        if len(pieces) > 1:
            return [(p.start, p.end, p.kind) for p in pieces if p.kind is not TokenKind.STRING]
    elif not (
        tok.kind is TokenKind.IDENTIFIER
        or (tok.kind is TokenKind.ERROR and t.startswith(("'", '"', "e'", "E'")))
    ):
        return []
    if "://" not in t:
        return []
    value, offs = decode_lenient(t)
    spans: list[tuple[int, int]] = []
    covered = 0
    for m in _URI_START.finditer(value):
        if m.start() < covered:
            continue
        if m.start() == 0:
            stop = len(value)  # the whole value is the URI: its last pair runs to the end
        else:
            e = _EMBEDDED_END.search(value, m.start())
            stop = e.start() if e else len(value)
        spans.extend((m.start() + a, m.start() + b) for a, b in secret_spans(value[m.start() : stop]))
        covered = stop
    return [(tok.start + offs[a], tok.start + offs[b], TokenKind.URI_SECRET) for a, b in spans]


def decode_lenient(text: str) -> tuple[str, list[int]]:
    """The value of a literal as far as it goes, and per value character its offset in `text`
    (plus one for the end): `'..'`, `e'..'` or `".."`, finished or not; a bad escape is kept as
    written. Anything else is its own value. Never raises (for painting and redaction)."""
    if text[:2] in ("e'", "E'"):
        i, quote, escaped = 2, "'", True
    elif text[:1] in ("'", '"'):
        i, quote, escaped = 1, text[0], False
    else:
        return text, list(range(len(text) + 1))
    n = len(text)
    chars: list[str] = []
    offs: list[int] = []
    while i < n:
        c = text[i]
        if c == quote:
            if i + 1 < n and text[i + 1] == quote:
                chars.append(quote)
                offs.append(i)
                i += 2
                continue
            break
        if escaped and c == "\\" and i + 1 < n:
            j = _escape_end(text, i)
            try:
                value = decode_with_offsets("e'" + text[i:j] + "'")[0]
            except ValueError:
                value, j = "\\", i + 1  # not a valid escape: the backslash stands for itself
            chars.append(value)
            offs.append(i)
            i = j
            continue
        chars.append(c)
        offs.append(i)
        i += 1
    offs.append(i)
    return "".join(chars), offs


def _escape_end(text: str, i: int) -> int:
    """End of the backslash escape at text[i] (as decode_with_offsets reads it)."""
    e = text[i + 1]
    if e in "xuU":
        return min(len(text), i + 2 + {"x": 2, "u": 4, "U": 8}[e])
    if e in "01234567":
        j = i + 1
        while j < len(text) and j < i + 4 and text[j] in "01234567":
            j += 1
        return j
    return i + 2


def significant(tokens: list[Token]) -> list[Token]:
    """The tokens the parser sees: no whitespace, no comments."""
    return [t for t in tokens if t.kind is not TokenKind.WHITESPACE and t.kind is not TokenKind.COMMENT]


# --- string literal values -------------------------------------------------------------------

_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "a": "\a"}


def lexical_error(tok: Token) -> str:
    """CockroachDB's text for an ERROR token (pkg/sql/scanner/scan.go)."""
    t = tok.text
    if t.startswith("/*"):
        return "unterminated comment"
    if t.startswith('"'):
        return "unterminated identifier"
    if t.startswith("$"):
        return f"placeholder index must be between 1 and {MAX_PLACEHOLDER}"
    if t[:1] in ("e", "E") and t.endswith("'") and len(t) > 2 and _estring_closed(t):
        return "invalid escape sequence"
    return "unterminated string"


def _estring_closed(t: str) -> bool:
    try:
        decode_with_offsets(t)
    except _Unterminated:
        return False
    except ValueError:
        return True
    return True


class _Unterminated(ValueError):
    pass


def decode_string(text: str) -> str:
    """The value of a string literal token (`'..'` or `e'..'`); ValueError if malformed."""
    if text.startswith("'") and not text.startswith("e"):
        return text[1:-1].replace("''", "'")
    return decode_with_offsets(text)[0]


def decode_with_offsets(text: str) -> tuple[str, list[int]]:
    """The value of a string literal and, per value character, its offset in `text` (plus end).

    Used to colour pieces of a URI at the right place even when the literal has escapes.
    """
    escaped = text[:1] in ("e", "E")
    n = len(text)
    if not escaped and n >= 2 and text[-1] == "'" and "'" not in text[1:-1]:
        return text[1:-1], list(range(1, n))  # the common case: no escapes at all
    i = 2 if escaped else 1
    chars: list[str] = []
    offs: list[int] = []
    while True:
        if i >= n:
            raise _Unterminated("unterminated string")
        c = text[i]
        if c == "'":
            if i + 1 < n and text[i + 1] == "'":
                chars.append("'")
                offs.append(i)
                i += 2
                continue
            offs.append(i)
            if i + 1 != n:
                raise ValueError("trailing text after string")
            return "".join(chars), offs
        if escaped and c == "\\":
            if i + 1 >= n:
                raise _Unterminated("unterminated string")
            e = text[i + 1]
            start = i
            if e in _SIMPLE_ESCAPES:
                chars.append(_SIMPLE_ESCAPES[e])
                i += 2
            elif e in "xuU":
                width = {"x": 2, "u": 4, "U": 8}[e]
                digits = text[i + 2 : i + 2 + width]
                if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
                    raise ValueError("invalid escape sequence")
                cp = int(digits, 16)
                if cp > 0x10FFFF:
                    raise ValueError("invalid escape sequence")
                chars.append(chr(cp))
                i += 2 + width
            elif e in "01234567":
                j = i + 1
                while j < n and j < i + 4 and text[j] in "01234567":
                    j += 1
                chars.append(chr(int(text[i + 1 : j], 8)))
                i = j
            else:
                chars.append(e)
                i += 2
            offs.append(start)
            continue
        chars.append(c)
        offs.append(i)
        i += 1


# --- URIs inside string literals -------------------------------------------------------------

_URI_START = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")


def looks_like_uri(value: str) -> bool:
    """True for `scheme://...` values, the ones split into parts and hidden when anonymizing."""
    return _URI_START.match(value) is not None


def uri_parts(token: Token) -> list[Token]:
    """Split a string token holding a URI into scheme/host/path/param pieces (quotes and
    separators stay STRING; every secret of syntax.uri.secret_spans is URI_SECRET); any other
    token comes back unchanged as a one-element list."""
    if token.kind is not TokenKind.STRING:
        return [token]
    try:
        value, offs = decode_with_offsets(token.text)
    except ValueError:
        return [token]
    if not looks_like_uri(value):
        return [token]
    kinds: list[TokenKind] = [TokenKind.STRING] * len(value)

    def paint(a: int, b: int, kind: TokenKind) -> None:
        kinds[a:b] = [kind] * (b - a)

    scheme_end = value.index("://")
    paint(0, scheme_end, TokenKind.URI_SCHEME)
    host_start = scheme_end + 3
    rest_end = min(x for x in (value.find("?"), value.find("#"), len(value)) if x >= 0)
    host_end = value.find("/", host_start, rest_end)
    host_end = rest_end if host_end < 0 else host_end
    paint(host_start, host_end, TokenKind.URI_HOST)
    paint(host_end, rest_end, TokenKind.URI_PATH)
    for p in parse_uri(value).params:
        has_eq = p.value_start > p.name_start and value[p.value_start - 1] == "="
        paint(p.name_start, p.value_start - 1 if has_eq else p.value_start, TokenKind.URI_PARAM_NAME)
        paint(p.value_start, p.value_end, TokenKind.URI_PARAM_VALUE)
    for a, b in secret_spans(value):
        paint(a, b, TokenKind.URI_SECRET)
    base = token.start
    out: list[Token] = []
    cursor = 0  # offset into token.text
    i = 0
    while i < len(value):
        j = i
        while j < len(value) and kinds[j] is kinds[i]:
            j += 1
        if kinds[i] is not TokenKind.STRING:
            sa, sb = offs[i], offs[j]
            if sa > cursor:
                out.append(Token(TokenKind.STRING, token.text[cursor:sa], base + cursor, base + sa))
            out.append(Token(kinds[i], token.text[sa:sb], base + sa, base + sb))
            cursor = sb
        i = j
    if cursor < len(token.text):
        out.append(Token(TokenKind.STRING, token.text[cursor:], base + cursor, token.end))
    return out
