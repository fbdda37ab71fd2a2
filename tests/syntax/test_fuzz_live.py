"""Fuzzing the live paths: random text and random cursors. diagnose and complete must never
raise (their strict forms are fuzzed, so a bug of ours fails here instead of being swallowed by
the safety net); parse raises only SQLSyntaxError; ranges always splice."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

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


@settings(max_examples=500, deadline=None)
@given(texts, st.data())
def test_complete_never_raises_and_ranges_splice(text: str, data: st.DataObject) -> None:
    cursor = data.draw(st.integers(-2, len(text) + 2))
    got = complete_strict(text, cursor, subdirs=provider, kms_history=["aws:///k?AWS_SECRET_ACCESS_KEY=s"])
    clamped = max(0, min(cursor, len(text)))
    for c in got:
        assert 0 <= c.start <= c.end == clamped
        assert c.kind in ("keyword", "subdir", "scheme", "param", "value", "uri")
        assert "AWS_SECRET_ACCESS_KEY=s" not in c.detail


@settings(max_examples=500, deadline=None)
@given(texts)
def test_diagnose_never_raises_and_positions_are_in_text(text: str) -> None:
    for d in diagnose_strict(text, check_kms_uri=lambda u: None, check_storage_uri=lambda u: 1 / 0):
        assert 0 <= d.start <= d.end <= len(text)
        assert d.severity in ("error", "warning") and d.message and d.code


@settings(max_examples=400, deadline=None)
@given(texts)
def test_parse_raises_only_the_syntax_error(text: str) -> None:
    try:
        parse(text)
    except SQLSyntaxError:
        pass
