"""Fuzzing the live paths: random text and random cursors. diagnose and complete must never
raise (their strict forms are fuzzed, so a bug of ours fails here instead of being swallowed by
the safety net); parse raises only SQLSyntaxError; ranges always splice."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz_budget import budget

from syntax import SQLSyntaxError, parse
from syntax.completion import complete_strict
from syntax.diagnostics import diagnose_strict

FRAGMENTS = [
    "ALTER", "BACKUP", "SHOW", "BACKUPS", "KEYS", "FROM", "IN", "ALL", "ADD", "NEW_KMS", "OLD_KMS",
    "WITH", "OPTIONS", "KMS", "LATEST", "SKIP", "SIZE", "NOWAIT", "CHECK_FILES", "RESTORE", "=",
    "(", ")", ",", ";", "'", "''", "e'\\", "$1", "/*", "*/", "--", "\n", " ", '"', "x",
    "'nodelocal://1/c'", "'s3://b/p?AUTH=", "'aws:///k?REGION=r&", "'azure-kms:///a/b/c?AUTH=implicit'",
    "'gs:///?CREDENTIALS=%zz&BEARER_TOKEN'", "'2024/01/01-000000.00/20240101/000000.00'",
    "'incrementals/x'", "'testkms:///a'", "'foo://", "?", "&", "'::'", "'[::1'", "ENCRYPTION_PASSPHRASE",
]
texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.sampled_from(FRAGMENTS), max_size=30).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join),
)
SUBDIRS = ("2024/01/01-000000.00", "2024/02/01-000000.00", "LATEST", "it's")


def provider(uri: str) -> tuple[str, ...]:
    if "s3" in uri:
        raise OSError("unreachable")
    return SUBDIRS


@budget(250)
@given(texts, st.data())
def test_complete_never_raises_and_ranges_splice(text: str, data: st.DataObject) -> None:
    cursor = data.draw(st.integers(-2, len(text) + 2))
    got = complete_strict(text, cursor, subdirs=provider, kms_history=["aws:///k?AWS_SECRET_ACCESS_KEY=s"])
    clamped = max(0, min(cursor, len(text)))
    for c in got:
        assert 0 <= c.start <= c.end == clamped
        assert c.kind in ("keyword", "subdir", "scheme", "param", "value", "uri")
        assert "AWS_SECRET_ACCESS_KEY=s" not in c.detail


@budget(250)
@given(texts)
def test_diagnose_never_raises_and_positions_are_in_text(text: str) -> None:
    for d in diagnose_strict(text, check_kms_uri=lambda u: None, check_storage_uri=lambda u: 1 / 0):
        assert 0 <= d.start <= d.end <= len(text)
        assert d.severity in ("error", "warning") and d.message and d.code


@budget(200)
@given(texts)
def test_parse_raises_only_the_syntax_error(text: str) -> None:
    try:
        parse(text)
    except SQLSyntaxError:
        pass


# --- issue 15 item 8: no traceback for any input, nasty ones included ---------------------------

from syntax import format_statement, tokenize  # noqa: E402
from syntax.tokens import TokenKind, decode_lenient, looks_like_uri, uri_parts  # noqa: E402
from syntax.uri import contains_secret, parse_uri, redact_uri, secret_spans  # noqa: E402
from syntax.redact import redact_text

NASTY = [
    "$" + "9" * 5000,  # Python refuses int() of more than 4,300 digits
    "$" + "0" * 5000 + "1",
    "$0", "$65537", "\x00", "'\x00'", "\ud800", "'\udfff'", "e'\\U0011FFFF'", "e'\\x'", "e'\\u12'",
    "e'\\", "'s3://b?AWS_SECRET_ACCESS_KEY=\x00\ud800'", "ENCRYPTION_PASSPHRASE =", "encryption_passphrase",
    "s3://u:p@h?CREDENTIALS=x", '"azure-kms:///a/b?AZURE_CLIENT_SECRET=', "/*/*", "*/", "e'\\'", "''''",
]
nasty_texts = st.one_of(
    texts,
    st.lists(st.sampled_from(FRAGMENTS + NASTY), max_size=12).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS + NASTY), max_size=12).map("".join),
    st.text(st.characters(categories=["Cs", "Cc", "Zs", "Lo", "So"]), max_size=30),  # lone surrogates, NUL
    st.tuples(st.sampled_from(FRAGMENTS + NASTY), st.integers(200, 3000)).map(lambda t: t[0] * t[1]),  # long
)


@budget(120)
@given(nasty_texts, st.data())
def test_statement_fuzzer_only_syntax_errors(text: str, data: st.DataObject) -> None:
    """parse / format / diagnose / complete / tokenize / redact_text on anything: no exception
    but SQLSyntaxError, and what redaction leaves holds no secret the tokenizer still marks."""
    for split in (False, True):
        assert "".join(t.text for t in tokenize(text, split_uris=split)) == text
    try:
        stmts = parse(text)
    except SQLSyntaxError as e:
        assert 0 <= e.position <= len(text) and str(e)
    else:
        for s in stmts:
            for kw in ({}, {"redact": True}, {"hide_uris": True}):
                assert isinstance(format_statement(s, **kw), str)  # type: ignore[arg-type]
    diagnose_strict(text, check_kms_uri=lambda u: None)
    for cursor in {0, len(text) // 2, len(text), data.draw(st.integers(0, len(text)))}:
        complete_strict(text, cursor, subdirs=provider, kms_history=["aws:///k?AWS_SECRET_ACCESS_KEY=s"])
    clean = redact_text(text)
    left = [t for t in tokenize(clean, split_uris=True) if t.kind in (TokenKind.URI_SECRET, TokenKind.SECRET)]
    assert all(t.text in ("redacted", "*****") for t in left), (clean, left)


uri_chars = st.characters(codec="utf-8", exclude_categories=("Cs",))
uri_pieces = st.sampled_from(
    ["?", "&", "=", "#", "%", "%zz", "%41", "@", ":", "/", "[", "]", "[::1", "'", "''", '"', " ", "\t", "\n",
     "AWS_SECRET_ACCESS_KEY=", "aws_session_token=", "AUTH=implicit", "REGION=", "CREDENTIALS=", "u:p@",
     "s3://", "gs:///", "aws:///", "azure-kms:///", "nodelocal://1/", "https://", "x", "é", "\x00"]
)
uris = st.one_of(
    st.lists(uri_pieces, max_size=15).map("".join),
    st.tuples(st.sampled_from(["s3://", "aws:///", "gs://", "nodelocal://"]), st.text(uri_chars, max_size=40)).map("".join),
)


@budget(200)
@given(uris)
def test_uri_fuzzer(uri: str) -> None:
    """The URI helpers on any string: no exception; spans inside the text; redaction hides every
    span and is stable; the URI as a SQL literal parses or fails with SQLSyntaxError only."""
    parse_uri(uri)
    spans = secret_spans(uri)
    assert all(0 <= a < b <= len(uri) for a, b in spans)
    out = redact_uri(uri)
    assert contains_secret(uri) == bool(spans)
    assert redact_uri(out) == out
    redact_uri(uri, hide_path=True)
    literal = "'" + uri.replace("'", "''") + "'"
    for tok in tokenize(literal):
        uri_parts(tok)
    for sql in (f"SHOW BACKUPS IN {literal}", f"SHOW BACKUP LATEST IN 'x' WITH KMS = {literal}"):
        try:
            parse(sql)
        except SQLSyntaxError:
            pass
        diagnose_strict(sql, check_kms_uri=lambda u: None)
    if looks_like_uri(uri):
        for quoted in (literal, literal[:-1], '"' + uri.replace('"', '""') + '"'):  # '', unfinished, ""
            value = decode_lenient(redact_text(quoted))[0]
            assert redact_uri(value) == value, (quoted, value)  # nothing left to redact


def test_five_thousand_digit_placeholder_is_a_syntax_error() -> None:
    """Issue 15 #8: `$` + 4,301 digits used to raise ValueError (the shell's 'Unhandled
    exception in event loop')."""
    import pytest

    for text in ("SHOW BACKUP $" + "9" * 5000 + " IN 'x'", "$" + "1" * 4301):
        with pytest.raises(SQLSyntaxError, match="placeholder index must be between 1 and 65536"):
            parse(text)
        diagnose_strict(text, check_kms_uri=lambda u: None)
        complete_strict(text, len(text))
    (stmt,) = parse("SHOW BACKUP $" + "0" * 5000 + "1 IN $2")
    assert format_statement(stmt) == "SHOW BACKUP $1 IN $2"
