"""Diagnostics, one rule per row, with exact positions (found by the substring they cover)."""

from __future__ import annotations

import pytest

from syntax import Diagnostic, SQLSyntaxError, diagnose, parse
from syntax.diagnostics import diagnose_strict

C = "IN 'nodelocal://1/c'"
OK_KMS = "'aws:///k?REGION=r&AUTH=implicit'"


def alter(new: str = OK_KMS, old: str = "'testkms:///a'", target: str = "LATEST", coll: str = C) -> str:
    return f"ALTER BACKUP {target} {coll} ADD NEW_KMS = {new} WITH OLD_KMS = {old}"


def at(text: str, piece: str, nth: int = 0) -> tuple[int, int]:
    i = -1
    for _ in range(nth + 1):
        i = text.index(piece, i + 1)
    return i, i + len(piece)


# (text, piece the diagnostic covers, severity, code, message)
CASES = [
    # syntax errors are values, at the token (or EOF)
    ("SELECT 1", "SELECT", "error", "syntax",
     'at or near "select": syntax error: expected ALTER, SHOW, BACKUP or RESTORE'),
    ("ALTER BACKUP LATEST IN 'x'", None, "error", "syntax",
     'at or near "EOF": syntax error: expected ADD NEW_KMS = ... WITH OLD_KMS = ...'),
    # unknown schemes, per position
    (alter(new="'vault:///k'"), "vault", "error", "unknown-scheme", "no factory method found for scheme vault"),
    (alter(coll="IN 'ftp://h/c'"), "ftp", "error", "unknown-scheme",
     'unsupported storage scheme: "ftp" - refer to docs to find supported storage schemes'),
    (alter(coll="IN 'just/a/path'"), "'just/a/path'", "error", "unknown-scheme",
     'unsupported storage scheme: "" - refer to docs to find supported storage schemes'),
    (alter(new="'invalid_kms'"), "'invalid_kms'", "error", "invalid-uri",
     'parse "invalid_kms": invalid URI for request'),
    (alter(old="'invalid_kms'"), "'invalid_kms'", "warning", "invalid-uri",
     'parse "invalid_kms": invalid URI for request (CockroachDB skips OLD_KMS entries it cannot use)'),
    # unknown / missing parameters
    (alter(new="'aws:///k?REGION=r&AUTH=implicit&FOO=1'"), "FOO", "error", "unknown-param",
     "unknown KMS query parameters: FOO"),
    (alter(new="'aws:///k?AUTH=implicit'"), "'aws:///k?AUTH=implicit'", "error", "missing-param",
     "aws kms REGION parameter not specified"),
    (alter(new="'aws:///k?REGION=r&AWS_ACCESS_KEY_ID=a'"), "'aws:///k?REGION=r&AWS_ACCESS_KEY_ID=a'",
     "error", "missing-param", "AUTH is set to 'specified', but AWS_SECRET_ACCESS_KEY is not set"),
    (alter(new="'gs:///projects/p/locations/l/keyRings/r/cryptoKeys/k?AUTH=specified'"),
     "'gs:///projects/p/locations/l/keyRings/r/cryptoKeys/k?AUTH=specified'", "error", "missing-param",
     'CREDENTIALS or BEARER_TOKEN must be set if "AUTH" is "specified"'),
    (alter(new="'azure-kms:///k/v?AUTH=implicit'"), "'azure-kms:///k/v?AUTH=implicit'", "error",
     "missing-param", "kms URI expected but did not receive: AZURE_VAULT_NAME"),
    (alter(new="'azure-kms:///k/v?AZURE_VAULT_NAME=v&AZURE_CLIENT_ID=c'"),
     "'azure-kms:///k/v?AZURE_VAULT_NAME=v&AZURE_CLIENT_ID=c'", "error", "missing-param",
     "kms URI expected but did not receive: AZURE_CLIENT_SECRET, AZURE_TENANT_ID"),
    (alter(new="'azure-kms:///k/v?AZURE_VAULT_NAME=v&AUTH=implicit&AZURE_TENANT_ID=t'"),
     "AZURE_TENANT_ID=t", "error", "implicit-conflict", "kms URI does not support: AZURE_TENANT_ID"),
    (alter(new="'azure-kms:///k/v?AZURE_VAULT_NAME=v&AZURE_ACCOUNT_KEY=s'"), "AZURE_ACCOUNT_KEY", "error",
     "unknown-param", "azure kms requires explicit auth (RBAC) or implicit auth"),
    (alter(coll="IN 's3://b/c?AUTH=implicit&AWS_REGION=x&REGION=y'"), "REGION", "error", "unknown-param",
     "unknown S3 query parameters: REGION"),
    (alter(coll="IN 'azure-blob://c/p?AUTH=implicit'"), "'azure-blob://c/p?AUTH=implicit'", "error",
     "missing-param", 'azure uri missing "AZURE_ACCOUNT_NAME" parameter'),
    (alter(coll="IN 's3://b/c?AUTH=implicit&AWS_SERVER_ENC_MODE=rot13'"), "rot13", "error", "bad-value",
     "unsupported server encryption mode rot13. Supported values are `aws:kms` and `AES256`."),
    (alter(coll="IN 'nodelocal://one/c'"), "one", "error", "bad-host",
     "host component of nodelocal URI must be a node ID: one"),
    # AUTH enum
    (alter(new="'aws:///k?REGION=r&AUTH=magic'"), "magic", "error", "bad-value", "unsupported value magic for AUTH"),
    # duplicates
    ("SHOW BACKUP FROM LATEST IN 'nodelocal://1/c' WITH check_files, KMS = 'testkms:///a', kms = 'testkms:///b'",
     "kms", "error", "duplicate-option", "kms option specified multiple times"),
    ("SHOW BACKUP FROM LATEST IN 'nodelocal://1/c' WITH OPTIONS (skip size, nowait)", "nowait", "error",
     "duplicate-option", "skip size option specified multiple times"),
    (alter(new="'aws:///k?REGION=r&AUTH=implicit&REGION=s'"), "REGION", "warning", "duplicate-param",
     "REGION is given more than once; CockroachDB uses the first value"),
    # azure-kms path
    (alter(new="'azure-kms:///only-name?AZURE_VAULT_NAME=v&AUTH=implicit'"), "/only-name", "error",
     "azure-key-path", "azure kms key must be of form 'id/version'"),
    (alter(new="'gs:///?AUTH=implicit'"), ("gs:///?", 5, 6), "error", "empty-key-path",
     "path component of the KMS cannot be empty; must contain the Customer Managed Key"),
]
# pieces found at their n-th occurrence; a tuple piece is (anchor, start, end) within the anchor
PIECE_NTH = {"REGION": 1}


@pytest.mark.parametrize("text,piece,severity,code,message", CASES)
def test_rule(text: str, piece: object, severity: str, code: str, message: str) -> None:
    got = [d for d in diagnose_strict(text) if d.code == code]
    if piece is None:
        start = end = len(text)
    elif isinstance(piece, tuple):
        anchor, a, b = piece
        base = text.index(anchor)
        start, end = base + a, base + b
    else:
        nth = PIECE_NTH.get(piece, 0)
        if code == "duplicate-option" and piece == "kms":
            start, end = text.lower().rindex("kms ="), text.lower().rindex("kms =") + 3
        else:
            start, end = at(text, piece, nth)
    assert Diagnostic(start, end, severity, message, code) in got, got  # type: ignore[arg-type]


INCREMENTALS = [
    "'incrementals/2024/01/01-000000.00/20240101/010000.00'",
    "'/2024/01/01-000000.00/20240101/010000.00'",
    "'2024/01/01-000000.00/20240101/010000.00-20240101-000000.00'",
]


@pytest.mark.parametrize("subdir", INCREMENTALS)
def test_incremental_subdir(subdir: str) -> None:
    for text in (alter(target=subdir), f"SHOW BACKUP FROM {subdir} IN 'nodelocal://1/c'"):
        (d,) = [d for d in diagnose_strict(text) if d.code == "incremental-path"]
        assert (d.start, d.end, d.severity) == (*at(text, subdir), "warning")
        assert ("ALTER BACKUP" if text.startswith("ALTER") else "SHOW BACKUP") in d.message


def test_full_backup_uri_pointing_at_incremental() -> None:
    uri = "'nodelocal://1/c/incrementals/2024/01/01-000000.00/20240101/010000.00'"
    text = f"ALTER BACKUP {uri} ADD NEW_KMS = {OK_KMS} WITH OLD_KMS = 'testkms:///a'"
    (d,) = [d for d in diagnose_strict(text) if d.code == "incremental-path"]
    assert (d.start, d.end) == at(text, uri)


def test_full_subdirs_are_fine() -> None:
    assert diagnose_strict(alter(target="'2024/01/01-000000.00'")) == []
    assert diagnose_strict(alter(target="'/2024/01/01-000000.00'")) == []


def test_repeated_add_clauses_are_errors_as_the_engine_refuses_them() -> None:
    from syntax.rules import repeated_add_message

    first = f"ADD NEW_KMS = {OK_KMS} WITH OLD_KMS = 'testkms:///a'"
    second = "ADD NEW_KMS = 'testkms:///b' WITH OLD_KMS = ('testkms:///a', 'testkms:///c')"
    third = "ADD NEW_KMS = 'testkms:///d' WITH OLD_KMS = 'testkms:///a'"
    text = f"ALTER BACKUP LATEST {C} {first} {second}\n  {third}"
    got = [d for d in diagnose_strict(text) if d.code == "repeated-add"]
    assert [(d.start, d.end) for d in got] == [at(text, second), at(text, third)]
    assert {(d.severity, d.message) for d in got} == {("error", repeated_add_message(3))}
    assert not [d for d in diagnose_strict(text) if "ignored" in d.message]
    assert not [d for d in diagnose_strict(f"ALTER BACKUP LATEST {C} {first}") if d.code == "repeated-add"]


def test_clean_statements_have_no_diagnostics() -> None:
    script = ";\n".join([
        alter(),
        "SHOW BACKUPS IN 's3://b/c?AUTH=implicit'",
        "SHOW BACKUP FROM LATEST IN 'gs://b/c?CREDENTIALS=e30=' WITH kms = 'testkms:///a', check_files",
        "SHOW BACKUP KEYS FROM LATEST IN 'azure-blob://c/p?AZURE_ACCOUNT_NAME=a&AZURE_ACCOUNT_KEY=k'",
        "ALTER BACKUP ALL IN 'file:///tmp/c' ADD NEW_KMS = ($1, 'azure-kms:///k/v?AZURE_VAULT_NAME=v"
        "&AZURE_CLIENT_ID=i&AZURE_CLIENT_SECRET=s&AZURE_TENANT_ID=t') WITH OLD_KMS = 'testkms:///a'",
    ])
    assert diagnose_strict(script) == []


def test_each_statement_reports_its_own_syntax_error() -> None:
    text = "SHOW BACKUPS;\nSHOW BACKUPS IN 'nodelocal://1/c';\nALTER BACKUP x"
    got = [(d.start, d.code) for d in diagnose_strict(text)]
    assert got == [(12, "syntax"), (len(text), "syntax")]


def test_checkers_are_called_with_the_value_and_may_raise() -> None:
    seen: list[str] = []

    def kms(uri: str) -> str | None:
        seen.append(uri)
        return "failed KMS check" if "bad" in uri else None

    def storage(uri: str) -> str | None:
        raise RuntimeError("slow bucket")

    text = alter(new="'testkms:///bad'", old="'testkms:///good'")
    got = diagnose_strict(text, check_kms_uri=kms, check_storage_uri=storage)
    assert seen == ["testkms:///bad", "testkms:///good"]
    assert got == [Diagnostic(*at(text, "'testkms:///bad'"), "error", "failed KMS check", "kms-check")]


def test_checker_not_called_when_static_rules_already_failed() -> None:
    calls: list[str] = []
    diagnose(alter(new="'vault:///k'"), check_kms_uri=lambda u: calls.append(u) or None)
    assert "vault:///k" not in calls


def test_messages_never_show_secrets() -> None:
    text = alter(new="'aws:///k?AWS_SECRET_ACCESS_KEY=hunter2&FOO=1'", old="'k?AWS_SECRET_ACCESS_KEY=hunter3'")
    for d in diagnose_strict(text):
        assert "hunter" not in d.message, d


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"ALTER BACKUP LATEST {C} ADD NEW_KMS = 'testkms:///n'", "expected WITH OLD_KMS = ..."),
        (f"ALTER BACKUP LATEST {C} ADD NEW_KMS = 'testkms:///n' WITH", "expected OLD_KMS = ..."),
        (f"ALTER BACKUP LATEST {C} ADD NEW_KMS", "expected = <kmsURI>"),
        (f"ALTER BACKUP LATEST {C} ADD NEW_KMS = ('testkms:///n'", "expected ',' or ')'"),
        (f"ALTER BACKUP LATEST {C}", "expected ADD NEW_KMS = ... WITH OLD_KMS = ..."),
        ("ALTER BACKUP LATEST", "expected IN <collectionURI>"),
        ("ALTER BACKUP '2024/01/01-000000.00'",
         "expected IN <collectionURI> or ADD NEW_KMS = ... WITH OLD_KMS = ..."),
        ("ALTER BACKUP", "expected ALL or <subdirectory>"),
        ("ALTER BACKUP ALL", "expected IN <collectionURI>"),
        ("SHOW BACKUPS", "expected IN <collectionURI>"),
        ("SHOW BACKUPS IN", "expected <collectionURI>"),
        ("SHOW", "expected BACKUP, BACKUPS or KMS"),
        ("SHOW BACKUP KEYS FROM LATEST IN 'nodelocal://1/c' WITH", "expected OPTIONS or KMS = ..."),
        ("SHOW KMS RETIREMENT 'testkms:///o' IN 'nodelocal://1/c'", "expected ',' or WITH KMS = ..."),
        ("SHOW KMS RETIREMENT 'testkms:///o' IN 'nodelocal://1/c' WITH KMS =", "expected <kmsURI>"),
        ("SHOW BACKUPS IN 'nodelocal://1/c' 'x'", "expected end of statement"),
    ],
)
def test_an_unfinished_statement_says_what_may_come_next(text: str, expected: str) -> None:
    (d,) = [d for d in diagnose_strict(text) if d.code == "syntax"]
    near = "EOF" if d.start == len(text) else text[d.start : d.end].strip("'").lower()
    assert d.message == f'at or near "{near}": syntax error: {expected}'
    with pytest.raises(SQLSyntaxError) as info:
        parse(text)
    assert "expected" not in str(info.value)  # the parser's own error stays CockroachDB's text
    assert info.value.expected_text() == expected


def test_cockroachdb_legacy_texts_get_no_expected_list() -> None:
    (d,) = diagnose_strict("SHOW BACKUP 'nodelocal://1/c'")
    assert d.message.endswith("Please use `SHOW BACKUP FROM <subdirectory> IN <collectionURI>`.")
