"""Go's net/url parsing, as far as CockroachDB's KMS code depends on it.

Why our own: CockroachDB parses KMS URIs with Go's `url.ParseRequestURI` and reads params with
`URL.Query()`; the master key id is the *decoded* Go path, and several error texts (`parse
"invalid_old_kms": invalid URI for request`) are Go's. Python's urlsplit differs (it splits `#`
fragments, lowercases differently, never fails), so key ids and errors would drift.

Behaviour follows Go's `net/url` (`parse`, `getScheme`, `parseAuthority`, `parseHost`,
`unescape`, `ParseQuery`, `url.Error`). Host edge cases (IPv6 zones) are simplified: they only
matter for the error text of URIs that CockroachDB rejects anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

_HEX = "0123456789abcdefABCDEF"


class GoURLError(ValueError):
    """A Go `*url.Error`: `op "url": err`. `text` is the inner error alone."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def render(self, shown_url: str, op: str = "parse") -> str:
        """Go's url.Error.Error() with `shown_url` (already redacted by the caller) quoted."""
        return f"{op} {go_quote(shown_url)}: {self.text}"


@dataclass(frozen=True)
class GoURL:
    """The fields of Go's url.URL that CockroachDB's KMS factories read."""

    scheme: str  # lowercased, as Go does
    opaque: str
    host: str
    path: str  # percent-decoded, like Go's URL.Path
    raw_query: str
    user: str | None = None

    def query(self) -> dict[str, list[str]]:
        """Go's URL.Query(): ParseQuery with errors ignored (bad pairs are dropped)."""
        return parse_query(self.raw_query)


def go_quote(s: str) -> str:
    """Go's strconv.Quote (the `%q` verb) for a Python str."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                        "\t": "\\t", "\v": "\\v"}[ch])
        elif ch.isprintable() and not (0xD800 <= o <= 0xDFFF):
            out.append(ch)
        elif 0xDC80 <= o <= 0xDCFF:  # a surrogateescape'd raw byte
            out.append(f"\\x{o - 0xDC00:02x}")
        elif o < 0x80:
            out.append(f"\\x{o:02x}")
        elif o <= 0xFFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(f"\\U{o:08x}")
    out.append('"')
    return "".join(out)


def _get_scheme(raw: str) -> tuple[str, str]:
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                return "", raw
            continue
        if c == ":":
            if i == 0:
                raise GoURLError("missing protocol scheme")
            return raw[:i], raw[i + 1 :]
        return "", raw
    return "", raw


def _should_escape_host(c: str) -> bool:
    if c.isascii() and c.isalnum():
        return False
    if c in "-_.~":
        return False
    return c not in "!$&'()*+,;=:[]<>\""


def _unescape(s: str, mode: str) -> str:
    """Go's unescape for modes 'path', 'host', 'user', 'query'; returns a surrogateescape str."""
    out = bytearray()
    i = 0
    data = s.encode("utf-8", "surrogateescape")
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0x25:  # '%'
            if i + 2 >= n or chr(data[i + 1]) not in _HEX or chr(data[i + 2]) not in _HEX:
                bad = data[i : i + 3].decode("utf-8", "surrogateescape")
                raise GoURLError(f"invalid URL escape {go_quote(bad)}")
            if mode == "host" and int(chr(data[i + 1]), 16) < 8 and data[i : i + 3] != b"%25":
                raise GoURLError(
                    f"invalid URL escape {go_quote(data[i:i+3].decode('ascii'))}"
                )
            out.append(int(data[i + 1 : i + 3], 16))
            i += 3
            continue
        if c == 0x2B and mode == "query":  # '+'
            out.append(0x20)
        else:
            if mode == "host" and c < 0x80 and _should_escape_host(chr(c)):
                raise GoURLError(f"invalid character {go_quote(chr(c))} in host name")
            out.append(c)
        i += 1
    return out.decode("utf-8", "surrogateescape")


def _valid_optional_port(port: str) -> bool:
    if port == "":
        return True
    if port[0] != ":":
        return False
    return all(c.isascii() and c.isdigit() for c in port[1:])


def _parse_host(host: str) -> str:
    if host.startswith("["):
        i = host.rfind("]")
        if i < 0:
            raise GoURLError("missing ']' in host")
        colon_port = host[i + 1 :]
        if not _valid_optional_port(colon_port):
            raise GoURLError(f"invalid port {go_quote(colon_port)} after host")
        return host  # zones and literal checks simplified
    i = host.rfind(":")
    if i >= 0:
        colon_port = host[i:]
        if not _valid_optional_port(colon_port):
            raise GoURLError(f"invalid port {go_quote(colon_port)} after host")
    return _unescape(host, "host")


_USERINFO_OK = set("-._:~!$&'()*+,;=%@")


def _parse_authority(authority: str) -> tuple[str | None, str]:
    i = authority.rfind("@")
    if i < 0:
        return None, _parse_host(authority)
    host = _parse_host(authority[i + 1 :])
    userinfo = authority[:i]
    if not all((c.isascii() and c.isalnum()) or c in _USERINFO_OK for c in userinfo):
        raise GoURLError("net/url: invalid userinfo")
    user = _unescape(userinfo.split(":", 1)[0], "user")
    return user, host


def parse(raw: str, *, via_request: bool = False) -> GoURL:
    """Go's url.Parse (or url.ParseRequestURI with `via_request`); raises GoURLError."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        raise GoURLError("net/url: invalid control character in URL")
    if not via_request:
        raw = raw.split("#", 1)[0]
    if raw == "" and via_request:
        raise GoURLError("empty url")
    if raw == "*":
        return GoURL(scheme="", opaque="", host="", path="*", raw_query="")
    scheme, rest = _get_scheme(raw)
    scheme = scheme.lower()
    if rest.endswith("?") and rest.count("?") == 1:
        rest, raw_query = rest[:-1], ""
    else:
        rest, _, raw_query = rest.partition("?")
    if not rest.startswith("/"):
        if scheme:
            return GoURL(scheme=scheme, opaque=rest, host="", path="", raw_query=raw_query)
        if via_request:
            raise GoURLError("invalid URI for request")
        if ":" in rest.split("/", 1)[0]:
            raise GoURLError("first path segment in URL cannot contain colon")
    user: str | None = None
    host = ""
    if (scheme or (not via_request and not rest.startswith("///"))) and rest.startswith("//"):
        authority, slash, tail = rest[2:].partition("/")
        rest = slash + tail
        user, host = _parse_authority(authority)
    path = _unescape(rest, "path")
    return GoURL(scheme=scheme, opaque="", host=host, path=path, raw_query=raw_query, user=user)


def parse_request_uri(raw: str) -> GoURL:
    """Go's url.ParseRequestURI, which cloud.KMSFromURI and every KMS factory call first."""
    return parse(raw, via_request=True)


def parse_query(raw_query: str) -> dict[str, list[str]]:
    """Go's url.ParseQuery, dropping the pairs Go reports as errors (as URL.Query() does)."""
    values: dict[str, list[str]] = {}
    for piece in raw_query.split("&"):
        if ";" in piece or piece == "":
            continue
        key, _, value = piece.partition("=")
        try:
            key = _unescape(key, "query")
            value = _unescape(value, "query")
        except GoURLError:
            continue
        values.setdefault(key, []).append(value)
    return values
