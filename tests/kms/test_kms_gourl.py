"""Go net/url and encoding/base64 behaviour that CockroachDB's KMS code inherits."""

from __future__ import annotations

import pytest

from engine.kms.gcp import go_base64_error
from engine.cloud.gourl import GoURLError, go_quote, parse, parse_query, parse_request_uri


def test_request_uri_keeps_hash_and_decodes_path() -> None:
    u = parse_request_uri("AWS://h:8080/a%20b#c?X=1#2")
    assert (u.scheme, u.host, u.path, u.raw_query) == ("aws", "h:8080", "/a b#c", "X=1#2")


def test_opaque_and_force_query() -> None:
    u = parse_request_uri("aws:key-id?REGION=r")
    assert (u.opaque, u.path, u.raw_query) == ("key-id", "", "REGION=r")
    assert parse_request_uri("testkms:///cmk?").raw_query == ""


def test_plain_parse_splits_fragment_and_rejects_colon_segment() -> None:
    assert parse("http://x/p#frag").path == "/p"
    with pytest.raises(GoURLError, match="first path segment in URL cannot contain colon"):
        parse("1b:c:d")  # a scheme cannot start with a digit, so "1b:c" is a path segment


def test_query_semantics() -> None:
    q = parse_query("A=1&A=2&B=x+y%21&C&;bad=1&D=%zz&=e&&")
    assert q == {"A": ["1", "2"], "B": ["x y!"], "C": [""], "": ["e"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [('a"b\\c', '"a\\"b\\\\c"'), ("tab\t", '"tab\\t"'), ("\x01", '"\\x01"'), ("é", '"é"')],
)
def test_go_quote(text: str, expected: str) -> None:
    assert go_quote(text) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", None),
        ("e30=", None),
        ("YQ==", None),
        ("YWJj", None),
        ("YW\nJj", None),
        ("YQ", "illegal base64 data at input byte 0"),
        ("YQ=", "illegal base64 data at input byte 3"),
        ("Y===", "illegal base64 data at input byte 1"),
        ("YQ==x", "illegal base64 data at input byte 4"),
        ("YWJj!", "illegal base64 data at input byte 4"),
        ("YQ=x", "illegal base64 data at input byte 2"),
        ("e30", "illegal base64 data at input byte 0"),
        ("YWJjZA", "illegal base64 data at input byte 4"),
    ],
)
def test_go_base64_errors(text: str, error: str | None) -> None:
    assert go_base64_error(text) == error
