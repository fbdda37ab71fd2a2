"""Parser: statement forms to AST, and CockroachDB-style errors with positions."""

from __future__ import annotations

import pytest

from syntax import SQLSyntaxError, parse, split_statements
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

P = Placeholder

CASES = [
    (
        "ALTER BACKUP 'foo' ADD NEW_KMS = 'a' WITH OLD_KMS = 'b'",
        AlterBackup("foo", None, (KMSChange(("a",), ("b",)),)),
    ),
    (
        "alter backup LATEST in 'bar' add new_kms = ('a','b') with old_kms = ($1, \"K\")",
        AlterBackup("latest", "bar", (KMSChange(("a", "b"), (P(1), "K")),)),
    ),
    (
        "ALTER BACKUP 'LATEST' IN $2 ADD NEW_KMS=k2 WITH OLD_KMS=k1 ADD NEW_KMS='x' WITH OLD_KMS='y'",
        AlterBackup(
            "LATEST", P(2), (KMSChange(("k2",), ("k1",)), KMSChange(("x",), ("y",)))
        ),
    ),
    (
        "ALTER BACKUP ALL IN 's3://b' ADD NEW_KMS='n' WITH OLD_KMS='o'",
        AlterBackup(None, "s3://b", (KMSChange(("n",), ("o",)),), all_in=True),
    ),
    ("SHOW BACKUPS IN 'c'", ShowBackups(("c",))),
    ("SHOW BACKUPS IN ('a', $1)", ShowBackups(("a", P(1)))),
    ("SHOW BACKUP LATEST IN 'c'", ShowBackup("latest", ("c",))),
    ("SHOW BACKUP FROM '2024/01/02-030405.00' IN 'c'", ShowBackup("2024/01/02-030405.00", ("c",))),
    (
        "SHOW BACKUP FILES FROM $1 IN ('a','b') WITH OPTIONS (as_json, check_files, skip size)",
        ShowBackup(
            P(1), ("a", "b"), "FILES", ShowBackupOptions(as_json=True, check_files=True, skip_size=True)
        ),
    ),
    ("SHOW BACKUP VALIDATE FROM latest IN 'c'", ShowBackup("latest", ("c",), "VALIDATE")),
    ("SHOW BACKUP SCHEMAS FROM latest IN 'c'", ShowBackup("latest", ("c",), "SCHEMAS")),
    ("SHOW BACKUP RANGES FROM latest IN 'c'", ShowBackup("latest", ("c",), "RANGES")),
    (
        "SHOW BACKUP latest IN 'c' WITH kms = ('k1', 'k2'), incremental_location = 'i', "
        "encryption_info_dir = 'd', debug_ids, privileges, nowait",
        ShowBackup(
            "latest",
            ("c",),
            None,
            ShowBackupOptions(
                kms=("k1", "k2"),
                incremental_location=("i",),
                encryption_info_dir="d",
                debug_ids=True,
                privileges=True,
                skip_size=True,
            ),
        ),
    ),
    (
        "SHOW BACKUP FROM latest IN 'c' WITH ENCRYPTION_PASSPHRASE = 'pw'",
        ShowBackup("latest", ("c",), None, ShowBackupOptions(encryption_passphrase="pw")),
    ),
    ("SHOW BACKUP KEYS FROM LATEST IN 'c'", ShowBackupKeys("latest", "c")),
    ("SHOW BACKUP KEYS FROM 'x' IN 'c' WITH KMS = ('a', 'b')", ShowBackupKeys("x", "c", ("a", "b"))),
    ("SHOW BACKUP KEYS FROM 'x' IN 'c' WITH OPTIONS (KMS = 'a')", ShowBackupKeys("x", "c", ("a",))),
    ("SHOW BACKUP keys IN 'c'", ShowBackup("keys", ("c",))),
    ("BACKUP INTO 'c'", ClusterStatement("BACKUP", "BACKUP INTO 'c'")),
    (
        "BACKUP DATABASE d INTO LATEST IN ('a', 'b') AS OF SYSTEM TIME '-1s' WITH OPTIONS (kms = 'k')",
        ClusterStatement(
            "BACKUP",
            "BACKUP DATABASE d INTO LATEST IN ('a', 'b') AS OF SYSTEM TIME '-1s' WITH OPTIONS (kms = 'k')",
        ),
    ),
    (
        "RESTORE TABLE t FROM LATEST IN 'c' WITH kms = 'k', detached",
        ClusterStatement("RESTORE", "RESTORE TABLE t FROM LATEST IN 'c' WITH kms = 'k', detached"),
    ),
]


@pytest.mark.parametrize("text, expected", CASES, ids=[c[0][:50] for c in CASES])
def test_statement_forms(text: str, expected: object) -> None:
    assert parse(text) == [expected]


def test_multiple_statements_and_spans() -> None:
    text = "  SHOW BACKUPS IN 'a';;\n -- c\n SHOW BACKUP KEYS FROM latest IN 'b' ; "
    stmts = parse(text)
    assert [type(s) for s in stmts] == [ShowBackups, ShowBackupKeys]
    assert split_statements(text) == [(2, 21), (31, 66)]
    assert [s.span for s in stmts] == split_statements(text)
    assert text[31:66] == "SHOW BACKUP KEYS FROM latest IN 'b'"


def test_semicolon_inside_string_or_comment_does_not_split() -> None:
    assert parse("SHOW BACKUPS IN 'a;b' /* ; */") == [ShowBackups(("a;b",))]


def test_kms_change_span() -> None:
    text = "ALTER BACKUP 'f' ADD NEW_KMS='a' WITH OLD_KMS='b'"
    (stmt,) = parse(text)
    assert text[slice(*stmt.commands[0].span)] == "ADD NEW_KMS='a' WITH OLD_KMS='b'"


def test_empty_input() -> None:
    assert parse("") == [] and parse(" ; -- x\n;") == []


def error(text: str) -> SQLSyntaxError:
    with pytest.raises(SQLSyntaxError) as info:
        parse(text)
    return info.value


def test_error_layout_matches_cockroachdb() -> None:
    e = error("SHOW BACKUP FROM latest IN 'c' WITH bogus")
    assert e.message == 'at or near "bogus": syntax error'
    assert str(e) == (
        'at or near "bogus": syntax error\n'
        "DETAIL: source SQL:\n"
        "SHOW BACKUP FROM latest IN 'c' WITH bogus\n"
        "                                    ^"
    )
    assert (e.position, e.line, e.column) == (36, 1, 37)


def test_error_at_eof() -> None:
    e = error("ALTER BACKUP 'a' IN 'b' ADD NEW_KMS = 'x' WITH OLD_KMS =")
    assert e.message == 'at or near "EOF": syntax error'
    assert str(e).endswith("WITH OLD_KMS =\n" + " " * 56 + "^")


def test_error_multiline_shows_statement_up_to_token_line() -> None:
    text = "SHOW BACKUPS IN 'x';\nALTER BACKUP 'a'\n  IN 'b' ADD OLD_KMS = 'x'\n  -- tail"
    e = error(text)
    assert e.message == 'at or near "old_kms": syntax error'
    assert (e.line, e.column) == (3, 14)
    assert e.source_line == "  IN 'b' ADD OLD_KMS = 'x'"
    assert str(e).split("\n", 2)[2] == "ALTER BACKUP 'a'\n  IN 'b' ADD OLD_KMS = 'x'\n             ^"


def test_error_names_string_by_value() -> None:
    assert error("SHOW BACKUPS IN 'a' 'b'").message == 'at or near "b": syntax error'


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "SHOW BACKUP 's3://x'",
            'at or near "EOF": syntax error: The `SHOW BACKUP` syntax without the `IN` keyword is '
            "no longer supported. Please use `SHOW BACKUP FROM <subdirectory> IN <collectionURI>`.",
        ),
        (
            "SHOW BACKUP SCHEMAS 's3://x'",
            'at or near "EOF": syntax error: The `SHOW BACKUP SCHEMAS` syntax without the `IN` '
            "keyword is no longer supported. Please use `SHOW BACKUP SCHEMAS FROM <subdirectory> "
            "IN <collectionURI>`.",
        ),
        (
            "SHOW BACKUP CONNECTION 's3://x'",
            'at or near "EOF": syntax error: The `SHOW BACKUP CONNECTION` syntax is no longer '
            "supported. Please use `CHECK EXTERNAL CONNECTION`.",
        ),
        (
            "BACKUP TABLE t TO 's3://x'",
            'at or near "EOF": syntax error: The `BACKUP TO` syntax is no longer supported. '
            "Please use `BACKUP INTO` to create a backup collection.",
        ),
        (
            "RESTORE FROM 's3://x'",
            'at or near "EOF": syntax error: The `RESTORE FROM <backupURI>` syntax is no longer '
            "supported. Please use `RESTORE FROM <subdirectory> IN <collectionURI>`.",
        ),
        ("SHOW BACKUP 'x' IN 'c' WITH kms = 'a', KMS = 'b'", 'at or near "kms": syntax error: kms option specified multiple times'),
        ("SHOW BACKUP 'x' IN 'c' WITH skip size, nowait", 'at or near "nowait": syntax error: skip size option specified multiple times'),
        ("ALTER BACKUP 'x' IN 'c'", 'at or near "EOF": syntax error'),
        ("ALTER BACKUP FROM IN 'c'", 'at or near "from": syntax error'),
        ("ALTER BACKUP 'x' IN ('a', 'b') ADD NEW_KMS='a' WITH OLD_KMS='b'", 'at or near "(": syntax error'),
        ("ALTER BACKUP 'x' ADD NEW_KMS=() WITH OLD_KMS='b'", 'at or near ")": syntax error'),
        ("SHOW BACKUP SCHEMAS 'x' IN 'c'", 'at or near "x": syntax error'),
        ("SHOW BACKUPS IN 'c' WITH index", 'at or near "with": syntax error'),
        ("SHOW BACKUP 'x' IN 'c' /* open", "lexical error: unterminated comment"),
        ("SHOW BACKUP 'x IN c", "lexical error: unterminated string"),
        ("SHOW BACKUP $70000 IN 'c'", "lexical error: placeholder index must be between 1 and 65536"),
    ],
)
def test_error_messages(text: str, message: str) -> None:
    assert error(text).message == message


def test_unknown_statement_has_hint() -> None:
    e = error("SELECT 1")
    assert e.message == 'at or near "select": syntax error'
    assert e.hint and "ALTER BACKUP" in e.hint and str(e).endswith(e.hint)


def test_lexical_error_caret_at_token_start() -> None:
    e = error("SHOW BACKUP 'x' IN 'c\n;more")
    assert (e.position, e.line, e.column) == (19, 1, 20)
