"""Formatter: canonical outputs from CockroachDB's parser testdata, string quoting, redaction."""

from __future__ import annotations

import pytest

from syntax import format_statement, parse, quote_string
from syntax.ast import ClusterStatement

# (input, canonical, hide_uris) — canonical is the "passwords exposed" line and hide_uris the
# "normalized!" line of pkg/sql/parser/testdata/{alter_backup,backup_restore}, except that we also
# hide ALTER BACKUP's URIs (spec §3: every URI prints as '*****' in anonymized mode).
CANONICAL = [
    (
        "ALTER BACKUP 'foo' ADD NEW_KMS = 'a' WITH OLD_KMS = 'b'",
        "ALTER BACKUP 'foo' ADD NEW_KMS='a' WITH OLD_KMS='b'",
        "ALTER BACKUP '*****' ADD NEW_KMS='*****' WITH OLD_KMS='*****'",
    ),
    (
        "ALTER BACKUP 'foo' in 'bar' ADD NEW_KMS = ('a','b') WITH OLD_KMS = 'c'",
        "ALTER BACKUP 'foo' IN 'bar' ADD NEW_KMS=('a', 'b') WITH OLD_KMS='c'",
        "ALTER BACKUP 'foo' IN '*****' ADD NEW_KMS=('*****', '*****') WITH OLD_KMS='*****'",
    ),
    (
        "ALTER BACKUP 'foo' in 'bar' ADD NEW_KMS = 'a' WITH OLD_KMS = ('b', 'c')",
        "ALTER BACKUP 'foo' IN 'bar' ADD NEW_KMS='a' WITH OLD_KMS=('b', 'c')",
        "ALTER BACKUP 'foo' IN '*****' ADD NEW_KMS='*****' WITH OLD_KMS=('*****', '*****')",
    ),
    (
        "SHOW BACKUP LATEST IN 'bar' WITH ENCRYPTION_PASSPHRASE = 'secret', CHECK_FILES",
        "SHOW BACKUP 'latest' IN 'bar' WITH OPTIONS (check_files, encryption_passphrase = 'secret')",
        "SHOW BACKUP 'latest' IN '*****' WITH OPTIONS (check_files, encryption_passphrase = '*****')",
    ),
    (
        "SHOW BACKUP FROM LATEST IN 'bar' WITH incremental_location = 'baz', skip size",
        "SHOW BACKUP FROM 'latest' IN 'bar' WITH OPTIONS (incremental_location = 'baz', skip size)",
        "SHOW BACKUP FROM 'latest' IN '*****' WITH OPTIONS (incremental_location = '*****', skip size)",
    ),
    (
        "SHOW BACKUP FROM LATEST IN ('bar','bar1') WITH KMS = ('foo', 'bar'), "
        "incremental_location=('hi','hello')",
        "SHOW BACKUP FROM 'latest' IN ('bar', 'bar1') WITH OPTIONS "
        "(incremental_location = ('hi', 'hello'), kms = ('foo', 'bar'))",
        "SHOW BACKUP FROM 'latest' IN ('*****', '*****') WITH OPTIONS "
        "(incremental_location = ('*****', '*****'), kms = ('*****', '*****'))",
    ),
    ("SHOW BACKUPS IN 'bar'", "SHOW BACKUPS IN 'bar'", "SHOW BACKUPS IN '*****'"),
    ("SHOW BACKUPS IN $1", "SHOW BACKUPS IN $1", "SHOW BACKUPS IN $1"),
    ("SHOW BACKUP 'foo' IN 'bar'", "SHOW BACKUP 'foo' IN 'bar'", "SHOW BACKUP 'foo' IN '*****'"),
    (
        "SHOW BACKUP FROM $1 IN $2 WITH privileges",
        "SHOW BACKUP FROM $1 IN $2 WITH OPTIONS (privileges)",
        "SHOW BACKUP FROM $1 IN $2 WITH OPTIONS (privileges)",
    ),
    (
        "SHOW BACKUP FILES FROM 'foo' IN 'bar'",
        "SHOW BACKUP FILES FROM 'foo' IN 'bar'",
        "SHOW BACKUP FILES FROM 'foo' IN '*****'",
    ),
    (
        "SHOW BACKUP $1 IN $2 WITH ENCRYPTION_PASSPHRASE = 'secret', "
        "ENCRYPTION_INFO_DIR = 'long_live_backupper'",
        "SHOW BACKUP $1 IN $2 WITH OPTIONS (encryption_passphrase = 'secret', "
        "encryption_info_dir = 'long_live_backupper')",
        "SHOW BACKUP $1 IN $2 WITH OPTIONS (encryption_passphrase = '*****', "
        "encryption_info_dir = 'long_live_backupper')",
    ),
    # rewrap's own forms
    (
        "alter backup all in 'c' add new_kms=n with old_kms=o",
        "ALTER BACKUP ALL IN 'c' ADD NEW_KMS='n' WITH OLD_KMS='o'",
        "ALTER BACKUP ALL IN '*****' ADD NEW_KMS='*****' WITH OLD_KMS='*****'",
    ),
    (
        "show backup keys from latest in 'c' with kms = ('a', 'b')",
        "SHOW BACKUP KEYS FROM 'latest' IN 'c' WITH OPTIONS (kms = ('a', 'b'))",
        "SHOW BACKUP KEYS FROM 'latest' IN '*****' WITH OPTIONS (kms = ('*****', '*****'))",
    ),
    (
        "SHOW BACKUP VALIDATE FROM 'x' IN 'c'",
        "SHOW BACKUP VALIDATE FROM 'x' IN 'c'",
        "SHOW BACKUP VALIDATE FROM 'x' IN '*****'",
    ),
]


@pytest.mark.parametrize("text, canonical, hidden", CANONICAL, ids=[c[0][:50] for c in CANONICAL])
def test_canonical_and_anonymized(text: str, canonical: str, hidden: str) -> None:
    (stmt,) = parse(text)
    assert format_statement(stmt) == canonical
    assert format_statement(stmt, hide_uris=True) == hidden
    assert parse(canonical) == [stmt]


def test_two_add_clauses_keep_cockroachdbs_double_space() -> None:
    # AlterBackupCmds joins with " " and every AlterBackupKMS starts with " ADD".
    (stmt,) = parse("ALTER BACKUP 'f' ADD NEW_KMS='a' WITH OLD_KMS='b' ADD NEW_KMS='c' WITH OLD_KMS='d'")
    assert format_statement(stmt) == (
        "ALTER BACKUP 'f' ADD NEW_KMS='a' WITH OLD_KMS='b'  ADD NEW_KMS='c' WITH OLD_KMS='d'"
    )


@pytest.mark.parametrize(
    "value, literal",
    [
        ("abc", "'abc'"),
        ("", "''"),
        ("it's", "e'it\\'s'"),
        ("a\\b", "e'a\\\\b'"),
        ("tab\there\n", "e'tab\\there\\n'"),
        ("\x01\x7f", "e'\\x01\\x7f'"),
        ("caf\u00e9", "e'caf\\u00E9'"),
        ("\u20ac", "e'\\U000020AC'"),
        ("\U0001f600", "e'\\U0001F600'"),
    ],
)
def test_quote_string_like_encode_sql_string(value: str, literal: str) -> None:
    assert quote_string(value) == literal
    (stmt,) = parse(f"SHOW BACKUPS IN {literal}")
    assert stmt.collections == (value,)


SECRET_URI = "s3://bkt/p?AWS_ACCESS_KEY_ID=AKIA&AWS_SECRET_ACCESS_KEY=hunter2&AWS_SESSION_TOKEN=tok"


def test_redact_masks_secret_params_everywhere() -> None:
    text = (
        f"ALTER BACKUP LATEST IN '{SECRET_URI}' "
        "ADD NEW_KMS='aws:///new?AWS_SECRET_ACCESS_KEY=s1' "
        "WITH OLD_KMS=('azure-kms:///k/v?AZURE_CLIENT_SECRET=s2&AZURE_CLIENT_ID=id', "
        "'gs:///k?CREDENTIALS=s3')"
    )
    (stmt,) = parse(text)
    out = format_statement(stmt, redact=True)
    for secret in ("hunter2", "tok", "s1", "s2", "s3"):
        assert f"={secret}'" not in out and f"={secret}&" not in out
    assert out == (
        "ALTER BACKUP 'latest' IN 's3://bkt/p?AWS_ACCESS_KEY_ID=AKIA&AWS_SECRET_ACCESS_KEY=redacted"
        "&AWS_SESSION_TOKEN=redacted' ADD NEW_KMS='aws:///new?AWS_SECRET_ACCESS_KEY=redacted' "
        "WITH OLD_KMS=('azure-kms:///k/v?AZURE_CLIENT_SECRET=redacted&AZURE_CLIENT_ID=id', "
        "'gs:///k?CREDENTIALS=redacted')"
    )


def test_redact_show_backup_passphrase_and_kms() -> None:
    (stmt,) = parse(
        f"SHOW BACKUP FROM latest IN '{SECRET_URI}' WITH encryption_passphrase = 'pw', "
        "kms = 'aws:///k?AWS_SECRET_ACCESS_KEY=zz'"
    )
    out = format_statement(stmt, redact=True)
    assert "hunter2" not in out and "'pw'" not in out and "zz" not in out
    assert "encryption_passphrase = '*****'" in out
    assert "kms = 'aws:///k?AWS_SECRET_ACCESS_KEY=redacted'" in out


def test_cluster_statements_keep_text_but_mask_secrets() -> None:
    text = (
        f"BACKUP INTO LATEST IN '{SECRET_URI}' WITH kms = 'aws:///k?AWS_SECRET_ACCESS_KEY=zz', "
        "encryption_passphrase = 'pw'"
    )
    (stmt,) = parse(text)
    assert isinstance(stmt, ClusterStatement) and format_statement(stmt) == text
    red = format_statement(stmt, redact=True)
    assert "hunter2" not in red and "zz" not in red and "'pw'" not in red
    assert "AWS_ACCESS_KEY_ID=AKIA" in red
    assert format_statement(stmt, hide_uris=True) == (
        "BACKUP INTO LATEST IN '*****' WITH kms = '*****', encryption_passphrase = '*****'"
    )
