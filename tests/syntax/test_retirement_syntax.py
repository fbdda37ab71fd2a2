"""SHOW KMS RETIREMENT (rewrap extension) in the one grammar: parser, formatter (canonical,
redacted, anonymized), highlighting, completion and diagnostics."""

from __future__ import annotations

import pytest

from syntax import RewrapLexer, SQLSyntaxError, complete, diagnose, format_statement, parse
from syntax.ast import ShowKMSRetirement

SECRET = "s3cr3tValue"
AWS = f"aws:///alias/new?REGION=us-east-1&AWS_ACCESS_KEY_ID=AK&AWS_SECRET_ACCESS_KEY={SECRET}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SHOW KMS RETIREMENT 'testkms:///old' IN 'nodelocal://self/c' WITH KMS = 'testkms:///new'",
         ShowKMSRetirement("testkms:///old", ("nodelocal://self/c",), ("testkms:///new",))),
        ("show kms retirement 'o' in 'a', 'b' with kms = ('n1', 'n2')",
         ShowKMSRetirement("o", ("a", "b"), ("n1", "n2"))),
        ("SHOW KMS RETIREMENT 'o' IN ('a', 'b') WITH OPTIONS (KMS = 'n')",
         ShowKMSRetirement("o", ("a", "b"), ("n",))),
    ],
)
def test_parses(text: str, expected: ShowKMSRetirement) -> None:
    assert parse(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "SHOW KMS RETIREMENT 'o' IN 'c'",  # WITH KMS is required: the keys that stay
        "SHOW KMS RETIREMENT IN 'c' WITH KMS = 'n'",
        "SHOW KMS 'o' IN 'c' WITH KMS = 'n'",
        "SHOW KMS RETIREMENT 'o' IN 'c' WITH KMS = 'n' extra",
        "SHOW KMS RETIREMENT 'o' IN 'c', WITH KMS = 'n'",
    ],
)
def test_rejects(text: str) -> None:
    with pytest.raises(SQLSyntaxError):
        parse(text)


def test_formats_canonical_redacted_and_anonymized_and_round_trips() -> None:
    text = f"show kms retirement 'testkms:///old' in ('nodelocal://self/a', 'nodelocal://self/b') with kms = ('{AWS}', 'testkms:///n')"
    (stmt,) = parse(text)
    canonical = format_statement(stmt)
    assert canonical == (
        "SHOW KMS RETIREMENT 'testkms:///old' IN 'nodelocal://self/a', 'nodelocal://self/b' "
        f"WITH KMS = ('{AWS}', 'testkms:///n')"
    )
    assert parse(canonical) == [stmt]
    redacted = format_statement(stmt, redact=True)
    assert SECRET not in redacted and "AWS_SECRET_ACCESS_KEY=redacted" in redacted
    assert format_statement(stmt, hide_uris=True) == (
        "SHOW KMS RETIREMENT '*****' IN '*****', '*****' WITH KMS = ('*****', '*****')"
    )


def test_highlighting_colours_the_new_keywords() -> None:
    from pygments.token import Keyword

    toks = list(RewrapLexer().get_tokens("SHOW KMS RETIREMENT 'o' IN 'c' WITH KMS = 'n'"))
    kinds = {text.upper(): kind for kind, text in toks if text.strip()}
    assert kinds["RETIREMENT"] in Keyword and kinds["KMS"] in Keyword


@pytest.mark.parametrize(
    ("text", "offered"),
    [
        ("SHOW ", "KMS"),
        ("SHOW KMS ", "RETIREMENT"),
        ("SHOW KMS RETIREMENT 'testkms:///o' ", "IN"),
        ("SHOW KMS RETIREMENT 'testkms:///o' IN 'nodelocal://self/c' ", "WITH"),
        ("SHOW KMS RETIREMENT 'testkms:///o' IN 'nodelocal://self/c' WITH ", "KMS"),
    ],
)
def test_completion(text: str, offered: str) -> None:
    assert offered in [c.text for c in complete(text, len(text))]


def test_completion_offers_kms_history_for_the_remaining_keys() -> None:
    text = "SHOW KMS RETIREMENT 'testkms:///o' IN 'nodelocal://self/c' WITH KMS = "
    got = [c.text for c in complete(text, len(text), kms_history=["testkms:///n"])]
    assert "'testkms:///n'" in got


def test_diagnostics_old_key_among_remaining_and_bad_uris() -> None:
    text = "SHOW KMS RETIREMENT 'testkms:///o' IN 'nodelocal://self/c' WITH KMS = ('testkms:///n', 'testkms:///o')"
    (d,) = diagnose(text)
    assert d.code == "retired-key-remaining" and d.severity == "error"
    assert text[d.start : d.end] == "'testkms:///o'" and d.start > text.index("WITH")
    bad = "SHOW KMS RETIREMENT 'nope' IN 'ftp://x/c' WITH KMS = 'foo:///k'"
    codes = {(bad[d.start : d.end], d.code) for d in diagnose(bad)}
    assert ("'nope'", "invalid-uri") in {(t, c) for t, c in codes} or any(c == "invalid-uri" for _, c in codes)
    assert any(c == "unknown-scheme" for _, c in codes)
    assert len(diagnose(bad)) >= 3


def test_diagnostics_clean_statement_has_none() -> None:
    assert diagnose(f"SHOW KMS RETIREMENT 'testkms:///o' IN 'nodelocal://self/c' WITH KMS = '{AWS}'") == []
