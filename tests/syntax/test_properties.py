"""Property tests: parse(format(ast)) == ast over generated ASTs; parse never raises anything but
SQLSyntaxError; tokens always cover the text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz_budget import budget

from syntax import SQLSyntaxError, format_statement, parse, tokenize
from syntax.ast import (
    AlterBackup,
    ClusterStatement,
    KMSChange,
    Placeholder,
    ShowBackup,
    ShowBackupKeys,
    ShowBackupOptions,
    ShowBackups,
)

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
values = st.one_of(
    texts,
    st.sampled_from(["latest", "LATEST", "s3://b/p?AWS_SECRET_ACCESS_KEY=x", "it's", "a\\b"]),
    st.integers(1, 65536).map(Placeholder),
)
value_lists = st.lists(values, min_size=1, max_size=3).map(tuple)
opt = lambda s: st.none() | s  # noqa: E731

kms_changes = st.builds(KMSChange, value_lists, value_lists)
alters = st.one_of(
    st.builds(AlterBackup, values, st.none(), st.lists(kms_changes, min_size=1, max_size=3).map(tuple)),
    st.builds(AlterBackup, values, values, st.lists(kms_changes, min_size=1, max_size=3).map(tuple)),
    st.builds(
        AlterBackup, st.none(), values, st.lists(kms_changes, min_size=1, max_size=2).map(tuple),
        all_in=st.just(True),
    ),
)
options = st.builds(
    ShowBackupOptions,
    as_json=st.booleans(),
    check_files=st.booleans(),
    skip_size=st.booleans(),
    debug_ids=st.booleans(),
    privileges=st.booleans(),
    incremental_location=opt(value_lists),
    kms=opt(value_lists),
    encryption_passphrase=opt(values),
    encryption_info_dir=opt(values),
)
show_backups = st.builds(
    ShowBackup,
    values,
    value_lists,
    st.sampled_from([None, "SCHEMAS", "FILES", "RANGES", "VALIDATE"]),
    options,
    explicit_from=st.booleans(),
)
statements = st.one_of(
    alters,
    st.builds(ShowBackups, value_lists),
    show_backups,
    st.builds(ShowBackupKeys, values, values, opt(value_lists)),
    st.sampled_from(
        [
            ClusterStatement("BACKUP", "BACKUP DATABASE d INTO 'x' WITH OPTIONS (detached)"),
            ClusterStatement("RESTORE", "RESTORE FROM LATEST IN ('a', $1) AS OF SYSTEM TIME '-1s'"),
        ]
    ),
)


@budget(150)
@given(statements)
def test_parse_format_round_trip(stmt: object) -> None:
    text = format_statement(stmt)  # type: ignore[arg-type]
    assert parse(text) == [stmt]


@budget(75)
@given(st.lists(statements, min_size=1, max_size=4))
def test_scripts_round_trip(stmts: list[object]) -> None:
    script = ";\n".join(format_statement(s) for s in stmts)  # type: ignore[arg-type]
    assert parse(script) == stmts


@budget(100)
@given(statements)
def test_redacted_and_hidden_forms_still_parse(stmt: object) -> None:
    for kw in ({"redact": True}, {"hide_uris": True}):
        (again,) = parse(format_statement(stmt, **kw))  # type: ignore[arg-type]
        assert type(again) is type(stmt)


FRAGMENTS = [
    "ALTER", "BACKUP", "SHOW", "BACKUPS", "KEYS", "FROM", "IN", "ALL", "ADD", "NEW_KMS", "OLD_KMS",
    "WITH", "OPTIONS", "KMS", "LATEST", "SKIP", "SIZE", "RESTORE", "INTO", "TO", "AS", "OF",
    "SYSTEM", "TIME", "=", "(", ")", ",", ";", "'s3://x?A=b'", "'", "e'\\", "$1", "$0", "/*", "*/",
    "--", "\n", " ", "\"", "x", "1.5",
]


@budget(200)
@given(st.one_of(texts, st.lists(st.sampled_from(FRAGMENTS), max_size=25).map(" ".join)))
def test_fuzz_parse_raises_only_syntax_errors(text: str) -> None:
    try:
        parse(text)
    except SQLSyntaxError as e:
        assert 0 <= e.position <= len(text)
        assert e.line >= 1 and e.column >= 1
        assert str(e).startswith(e.message)


@budget(150)
@given(st.text(max_size=60), st.booleans())
def test_tokens_cover_any_text(text: str, split: bool) -> None:
    toks = tokenize(text, split_uris=split)
    assert "".join(t.text for t in toks) == text
    assert all(text[t.start : t.end] == t.text for t in toks)
