"""The one tokenizer: the parser, the editor colours, the shell colours and rendering all use it.

Lexing follows CockroachDB's scanner (pkg/sql/scanner/scan.go) where it matters for meaning:
`'...'` strings with `''` escapes, `e'...'` escape strings, `"..."` identifiers, unquoted words
folded to lower case by the parser, `$n` placeholders (1..65536), `--` and nested `/* */`
comments. Unterminated strings, identifiers and comments and out-of-range placeholders become
ERROR tokens (never exceptions), so a half-typed statement still colours.
"""

from __future__ import annotations

import enum
import re
from typing import NamedTuple

from syntax.uri import parse_uri


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
    schedule""".split()
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


def tokenize(text: str, *, split_uris: bool = False) -> list[Token]:
    """All tokens of `text`, covering it without gaps; never raises.

    With `split_uris`, string literals holding a URI are replaced by their `uri_parts`.
    """
    out: list[Token] = []
    append = out.append
    match = _MASTER.match
    pos = 0
    n = len(text)
    while pos < n:
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
            ok = 1 <= int(m.group()[1:]) <= MAX_PLACEHOLDER
            append(Token(TokenKind.PLACEHOLDER if ok else TokenKind.ERROR, m.group(), pos, end))
        elif group == "estring":
            try:
                decode_string(m.group())
                kind = TokenKind.STRING
            except ValueError:
                kind = TokenKind.ERROR
            tok = Token(kind, m.group(), pos, end)
            if split_uris and kind is TokenKind.STRING:
                out.extend(uri_parts(tok))
            else:
                append(tok)
        else:
            tok = Token(_SIMPLE_KINDS[group], m.group(), pos, end)  # type: ignore[index]
            if split_uris and group == "string":
                out.extend(uri_parts(tok))
            else:
                append(tok)
        pos = end
    return out


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
    separators stay STRING); any other token comes back unchanged as a one-element list."""
    if token.kind is not TokenKind.STRING:
        return [token]
    try:
        value, offs = decode_with_offsets(token.text)
    except ValueError:
        return [token]
    if not looks_like_uri(value):
        return [token]
    parsed = parse_uri(value)
    spans: list[tuple[int, int, TokenKind]] = []
    scheme_end = value.index("://")
    spans.append((0, scheme_end, TokenKind.URI_SCHEME))
    host_start = scheme_end + 3
    q = value.find("?")
    h = value.find("#")
    rest_end = min(x for x in (q, h, len(value)) if x >= 0)
    host_end = host_start
    while host_end < rest_end and value[host_end] != "/":
        host_end += 1
    spans.append((host_start, host_end, TokenKind.URI_HOST))
    spans.append((host_end, rest_end, TokenKind.URI_PATH))
    for p in parsed.params:
        has_eq = p.value_start > p.name_start and value[p.value_start - 1] == "="
        name_end = p.value_start - 1 if has_eq else p.value_start
        spans.append((p.name_start, name_end, TokenKind.URI_PARAM_NAME))
        if p.value_end > p.value_start:
            kind = TokenKind.URI_SECRET if p.secret else TokenKind.URI_PARAM_VALUE
            spans.append((p.value_start, p.value_end, kind))
    base = token.start
    out: list[Token] = []
    cursor = 0  # offset into token.text
    for a, b, kind in spans:
        if b <= a:
            continue
        sa, sb = offs[a], offs[b]
        if sa > cursor:
            out.append(Token(TokenKind.STRING, token.text[cursor:sa], base + cursor, base + sa))
        out.append(Token(kind, token.text[sa:sb], base + sa, base + sb))
        cursor = sb
    if cursor < len(token.text):
        out.append(Token(TokenKind.STRING, token.text[cursor:], base + cursor, token.end))
    return out
