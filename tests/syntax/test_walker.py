"""The one grammar walker: what it records per position, how it recovers, and that completion,
diagnostics and the parser agree because they read the same walk."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syntax import SQLSyntaxError, complete, parse, slot_at
from syntax.completion import complete_strict
from syntax.diagnostics import diagnose_strict
from syntax.parser import (
    COLLECTION,
    KMS,
    OLD_KMS,
    PASSPHRASE,
    SUBDIR,
    Walk,
    bare_word,
    walk,
)
from syntax.split import pieces
from syntax.tokens import RESERVED, Token, TokenKind

C = "'nodelocal://1/c'"

# Every statement form rewrap runs, each option and list shape at least once.
FORMS = [
    f"ALTER BACKUP LATEST IN {C} ADD NEW_KMS = 'testkms:///n' WITH OLD_KMS = 'testkms:///o'",
    f"ALTER BACKUP '2024/01/01-000000.00' IN {C} ADD NEW_KMS = ('testkms:///n', $1) "
    "WITH OLD_KMS = ('testkms:///o', 'testkms:///p')",
    "ALTER BACKUP 'nodelocal://1/c/2024/01/01-000000.00' ADD NEW_KMS = 'testkms:///n' "
    "WITH OLD_KMS = 'testkms:///o'",
    f"ALTER BACKUP ALL IN {C} ADD NEW_KMS = 'testkms:///n' WITH OLD_KMS = 'testkms:///o'",
    f"SHOW BACKUPS IN {C}",
    f"SHOW BACKUPS IN ({C}, 'nodelocal://1/d')",
    f"SHOW BACKUP FROM LATEST IN {C}",
    f"SHOW BACKUP LATEST IN {C} WITH check_files, kms = 'testkms:///k', skip size",
    f"SHOW BACKUP SCHEMAS FROM LATEST IN {C} WITH OPTIONS (as_json, encryption_passphrase = 'pw', "
    "incremental_location = 'nodelocal://1/i')",
    f"SHOW BACKUP FILES FROM 'x' IN {C} WITH encryption_info_dir = 'nodelocal://1/e', debug_ids, "
    "privileges, nowait",
    f"SHOW BACKUP KEYS FROM LATEST IN {C}",
    f"SHOW BACKUP KEYS FROM LATEST IN {C} WITH OPTIONS (KMS = 'testkms:///k')",
    f"SHOW KMS RETIREMENT 'testkms:///old' IN {C}, 'nodelocal://1/d' WITH KMS = 'testkms:///k'",
    f"SHOW KMS RETIREMENT 'testkms:///old' IN ({C}) WITH OPTIONS (KMS = ('testkms:///k', 'testkms:///j'))",
]


def walked(text: str) -> Walk:
    (piece,) = [p for p in pieces(text) if p.tokens]
    return walk(text, piece.tokens)


def tokens(text: str) -> list[Token]:
    return list(walked(text).tokens)


def admits(w: Walk, k: int, tok: Token) -> bool:
    """Whether what the walk expects at position k admits `tok`."""
    exp = w.expect_at(k)
    word = bare_word(tok)
    if word is not None and word in exp.keywords:
        return True
    if tok.kind in (TokenKind.PUNCTUATION, TokenKind.OPERATOR):
        return tok.text in exp.punct
    is_value = tok.kind in (TokenKind.STRING, TokenKind.PLACEHOLDER) or (
        word is not None and word not in RESERVED
    )
    return is_value and exp.role is not None


# --- per position: what may come next -------------------------------------------------------


@pytest.mark.parametrize("text", FORMS)
def test_every_position_of_every_form_expects_the_token_there(text: str) -> None:
    full = walked(text)
    assert full.error is None and full.statement == parse(text)[0]
    toks = list(full.tokens)
    assert set(full.expected) <= set(range(len(toks) + 1))
    for k, tok in enumerate(toks):
        prefix = walk(text, toks[:k])  # the statement typed up to here
        assert admits(prefix, k, tok), (k, tok, prefix.expect_at(k))
        assert admits(full, k, tok), (k, tok, full.expect_at(k))


@pytest.mark.parametrize("text", FORMS)
def test_completion_at_every_keyword_and_value_of_every_form(text: str) -> None:
    full = walked(text)
    for tok in full.tokens:
        typed = text[: tok.start]  # cursor after a space, the token not typed yet
        got = complete_strict(typed, len(typed))
        word = bare_word(tok)
        slot = full.slot_of(tok)
        if slot is not None:
            if slot.role != PASSPHRASE:
                assert got, (typed, slot)
            inside = slot_at(text, tok.start + 1) if tok.kind is TokenKind.STRING else None
            if inside is not None:  # inside the literal: the same slot, the same role
                assert (inside.role, inside.clause, inside.in_string) == (slot.role, slot.clause, True)
        elif word is not None:
            assert word.upper() in [c.text for c in got], (typed, word)


def test_every_string_value_has_a_slot_with_its_role() -> None:
    roles = [(s.role, s.clause) for s in walked(FORMS[1]).slots]
    assert roles == [
        (SUBDIR, "ALTER BACKUP"), (COLLECTION, "IN"), (KMS, "NEW_KMS"), (KMS, "NEW_KMS"),
        (OLD_KMS, "OLD_KMS"), (OLD_KMS, "OLD_KMS"),
    ]
    assert [s.role for s in walked(FORMS[2]).slots][0] == "backup"


def test_latest_needs_in_so_add_is_not_offered() -> None:
    assert [c.text for c in complete("ALTER BACKUP LATEST ", 20)] == ["IN"]
    assert [c.text for c in complete("ALTER BACKUP 'LATEST' ", 22)] == ["IN"]
    assert [c.text for c in complete("ALTER BACKUP 'x' ", 17)] == ["IN", "ADD"]
    assert [c.text for c in complete(f"ALTER BACKUP LATEST IN {C} ", 24 + len(C))] == ["ADD"]
    assert [c.text for c in complete("alter backup latest a", 21)] == []


def test_after_in_quote_the_slot_is_a_collection() -> None:
    for text in (f"ALTER BACKUP LATEST IN '", "SHOW BACKUPS IN 'nodelocal://1/", "SHOW BACKUP KEYS FROM LATEST IN '",
                 "SHOW KMS RETIREMENT 'testkms:///o' IN 'a', '", "SHOW BACKUP FROM LATEST IN ('x', '"):
        slot = slot_at(text, len(text))
        assert slot is not None and slot.role == COLLECTION and slot.in_string, text
        assert slot.end == len(text) and text[slot.start - 1] == "'"
        assert slot.typed == text[slot.start :]
    bare = slot_at("SHOW BACKUPS IN ", 16)
    assert bare is not None and (bare.role, bare.in_string, bare.start) == (COLLECTION, False, 16)
    assert slot_at("SHOW BACKUPS ", 13) is None  # a keyword position
    assert slot_at("SHOW BACKUPS IN 'x' -- '", 24) is None  # a comment


def test_collections_provider_fills_the_collection_slot_once() -> None:
    calls: list[str] = []

    def known(typed: str) -> list[str]:
        calls.append(typed)
        return ["nodelocal://1/c", "s3://b/p?AWS_SECRET_ACCESS_KEY=hush", "nodelocal://1/d"]

    text = "ALTER BACKUP LATEST IN 'nodelocal://1/"
    got = [c for c in complete_strict(text, len(text), collections=known) if c.kind == "collection"]
    assert calls == ["nodelocal://1/"]
    assert [c.text for c in got] == ["nodelocal://1/c", "nodelocal://1/d"]
    assert got[0].start == text.index("nodelocal") and got[0].end == len(text)
    bare = complete_strict("SHOW BACKUPS IN ", 16, collections=known)
    secret = [c for c in bare if c.kind == "collection"][1]
    assert secret.text.startswith("'s3://") and "hush" not in secret.detail
    assert complete_strict("SHOW BACKUPS IN '", 17, collections=lambda _: 1 / 0)  # schemes still


# --- recovery -------------------------------------------------------------------------------


def test_an_error_mid_statement_still_yields_the_slots_after_it() -> None:
    text = f"ALTER BACKUP LATEST IN {C} ADD NEW_KMS 'testkms:///n' WITH OLD_KMS = 'bogus'"
    w = walked(text)
    assert w.error is not None and w.error.message == 'at or near "testkms:///n": syntax error'
    assert [(s.role, s.token.text) for s in w.slots][-2:] == [
        (KMS, "'testkms:///n'"), (OLD_KMS, "'bogus'")]
    codes = [d.code for d in diagnose_strict(text)]
    assert codes == ["syntax", "invalid-uri"]  # the OLD_KMS after the error is still checked
    assert "expected = <kmsURI>" in diagnose_strict(text)[0].message


def test_junk_and_missing_values_are_recovered_from() -> None:
    junk = walked(f"ALTER BACKUP LATEST IN {C} 42 ADD NEW_KMS = 'a' WITH OLD_KMS = 'b'")
    assert junk.error is not None and [s.role for s in junk.slots][-2:] == [KMS, OLD_KMS]
    missing = walked(f"SHOW BACKUP FROM  IN {C} WITH kms = 'testkms:///k'")
    assert missing.error is not None and missing.error.message == 'at or near "in": syntax error'
    assert [s.role for s in missing.slots] == [COLLECTION, KMS]
    assert [k for k, _ in missing.options] == ["kms"]


def test_completion_goes_on_after_an_error() -> None:
    text = f"ALTER BACKUP LATEST IN {C} ADD NEW_KMS 'a' WITH "
    assert [c.text for c in complete_strict(text, len(text))] == ["OLD_KMS"]


def test_parse_raises_the_first_error_and_not_a_later_one() -> None:
    text = "SHOW BACKUP 'x' IN 'c' WITH kms = 'a', kms = 'b', bogus"
    with pytest.raises(SQLSyntaxError) as info:
        parse(text)
    assert info.value.message == 'at or near "kms": syntax error: kms option specified multiple times'
    syntax = [d for d in diagnose_strict(text) if d.code == "syntax"]
    assert [text[d.start : d.end] for d in syntax] == ["bogus"]  # the real one, not hidden by it


ALTER_AND_KEYS = [f for f in FORMS if f.startswith(("ALTER", "SHOW BACKUP KEYS", "SHOW BACKUPS"))]


@pytest.mark.parametrize("text", FORMS)
def test_a_missing_equals_sign_keeps_every_slot_and_its_role(text: str) -> None:
    want = [(s.role, s.token.text) for s in walked(text).slots]
    for tok in tokens(text):
        if tok.text == "=":
            broken = text[: tok.start] + text[tok.end :]
            w = walked(broken)
            assert w.error is not None
            assert [(s.role, s.token.text) for s in w.slots] == want, broken


@pytest.mark.parametrize("text", ALTER_AND_KEYS)
def test_a_stray_token_before_a_required_keyword_keeps_every_slot(text: str) -> None:
    want = [(s.role, s.token.text) for s in walked(text).slots]
    for tok in tokens(text):
        if bare_word(tok) in ("add", "with", "in"):
            broken = f"{text[: tok.start]}42 {text[tok.start :]}"
            w = walked(broken)
            assert w.error is not None and w.error.message == 'at or near "42": syntax error'
            assert [(s.role, s.token.text) for s in w.slots] == want, broken


# --- property tests -------------------------------------------------------------------------

JUNK = ["ADD", "IN", "WITH", "=", "(", ")", ",", "'x'", "$1", "42", "foo", "LATEST", "KMS",
        "OPTIONS", "'open", "/* c */", "--c\n", "$0", "e'\\z'", '"q;"']


@st.composite
def mutated(draw: st.DrawFn) -> str:
    words = [t.text for t in tokens(draw(st.sampled_from(FORMS)))]
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(words)))
        action = draw(st.sampled_from(["drop", "insert", "duplicate"]))
        if action == "drop" and at < len(words):
            del words[at]
        elif action == "duplicate" and at < len(words):
            words.insert(at, words[at])
        else:
            words.insert(at, draw(st.sampled_from(JUNK)))
    return " ".join(words)


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_the_walk_of_any_mutation_is_whole_and_agrees_with_parse(text: str) -> None:
    for piece in pieces(text):
        if not piece.tokens:
            continue
        w = walk(text, piece.tokens)
        assert set(w.expected) <= set(range(len(piece.tokens) + 1))
        for s in w.slots:
            assert piece.tokens[s.index] == s.token
        if w.error is None:
            assert w.statement is not None
        else:
            assert piece.start <= w.error.position <= piece.end
    try:
        stmts = parse(text)
    except SQLSyntaxError as e:
        assert 0 <= e.position <= len(text)
    else:
        assert len(stmts) == len([p for p in pieces(text) if p.tokens])
    diagnose_strict(text)
    for cursor in range(0, len(text) + 1, 7):
        complete_strict(text, cursor)
        slot_at(text, cursor)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(FORMS), st.data())
def test_a_prefix_is_an_unfinished_statement_that_says_what_comes_next(text: str, data: st.DataObject) -> None:
    toks = tokens(text)
    k = data.draw(st.integers(1, len(toks) - 1))
    prefix = text[: toks[k - 1].end]
    w = walked(prefix)
    if w.error is not None:  # some prefixes are whole statements (SHOW BACKUP ... IN 'c')
        assert w.error.message.startswith('at or near "EOF": syntax error')
        (d,) = [d for d in diagnose_strict(prefix) if d.code == "syntax"]
        assert d.start == len(prefix)
        if not w.error.message.endswith("."):  # not one of CockroachDB's legacy-form texts
            assert ": expected " in d.message
        assert "expected" not in str(w.error)  # parse's error stays CockroachDB's text
