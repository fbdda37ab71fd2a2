"""The one redaction function: secret values and passwords never survive, everything else does."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from syntax.uri import SECRET_PARAMS, contains_secret, redact_uri

secret = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="&#"), min_size=8, max_size=30).map(
    lambda s: "S3CR3T" + s
)


@given(secret, st.sampled_from(sorted(SECRET_PARAMS)), st.sampled_from(["s3://bkt/p", "aws:///alias/k", "gs:///projects/p/x", "azure-kms:///n/v"]))
def test_secret_values_never_survive(value: str, name: str, base: str) -> None:
    for v in (value, quote(value, safe="")):
        uri = f"{base}?AUTH=specified&{name}={v}&REGION=us-east-1"
        out = redact_uri(uri)
        assert v not in out and value not in out
        assert f"{name}=redacted" in out and "REGION=us-east-1" in out and out.startswith(base)
        assert contains_secret(uri)


def test_forms_go_would_read() -> None:
    assert redact_uri("aws:///k?REGION=r#&AWS_SECRET_ACCESS_KEY=s") == "aws:///k?REGION=r#&AWS_SECRET_ACCESS_KEY=redacted"
    assert redact_uri("s3://b/p?AWS%5FSECRET%5FACCESS%5FKEY=s") == "s3://b/p?AWS%5FSECRET%5FACCESS%5FKEY=redacted"
    assert redact_uri("https://user:pw@host/p") == "https://user:redacted@host/p"
    assert redact_uri("http://u:p@[::1/x") == "http://u:redacted@[::1/x"


def test_hide_path_and_non_secrets() -> None:
    uri = "aws:///arn:aws:kms:us-east-1:1:key/abc?AWS_ACCESS_KEY_ID=AKIA&REGION=us-east-1"
    assert redact_uri(uri) == uri and not contains_secret(uri)
    assert redact_uri(uri, hide_path=True) == "aws:///redacted?AWS_ACCESS_KEY_ID=AKIA&REGION=us-east-1"
    assert redact_uri("testkms:///cmk") == "testkms:///cmk"


def test_misspelled_and_unknown_params_are_redacted_too() -> None:
    for uri in (
        "s3://b/p?AWS_ACCESS_KEY_ID=a&aws_secret_access_key=SEKRIT",
        "aws:///k?REGION=r&Aws_Session_Token=SEKRIT",
        "aws:///k?REGION=r&%20AWS_SECRET_ACCESS_KEY=SEKRIT",
        "s3://b/p?AWS_SECRET_KEY=SEKRIT",
    ):
        out = redact_uri(uri)
        assert "SEKRIT" not in out and "redacted" in out, out
    assert redact_uri("aws:///k?REGION=us-east-1&AUTH=implicit") == "aws:///k?REGION=us-east-1&AUTH=implicit"


# --- issue 15 item 2: every secret, whole, in any quoting, at every syntax exit ---------------

import pytest  # noqa: E402

from syntax import SQLSyntaxError, format_statement, parse, tokenize  # noqa: E402
from syntax.tokens import TokenKind  # noqa: E402
from syntax.redact import redact_text  # noqa: E402


def _error(sql: str) -> SQLSyntaxError:
    with pytest.raises(SQLSyntaxError) as info:
        parse(sql)
    return info.value


@pytest.mark.parametrize(
    "value",
    ["ZQX''UOTE17", "ZQX UOTE17", "ZQX\tUOTE17", "ZQX\u00a0UOTE17", "ZQX\nUOTE17", 'ZQX"UOTE17', "ZQX\\UOTE17"],
)
def test_a_secret_value_is_redacted_to_its_real_end(value: str) -> None:
    sql = f"SHOW BACKUPS IN 's3://b/p?AUTH=specified&AWS_SECRET_ACCESS_KEY={value}&REGION=r'"
    assert redact_text(sql) == "SHOW BACKUPS IN 's3://b/p?AUTH=specified&AWS_SECRET_ACCESS_KEY=redacted&REGION=r'"
    unfinished = f"SHOW BACKUPS IN 's3://b/p?aws_secret_access_key={value}"
    assert redact_text(unfinished) == "SHOW BACKUPS IN 's3://b/p?aws_secret_access_key=redacted"
    err = _error(unfinished + " x")
    assert "UOTE17" not in str(err) and "ZQX" not in str(err)


def test_escape_strings_double_quotes_and_userinfo() -> None:
    assert redact_text(r"IN e's3://b?AWS_SESSION_TOKEN=a\'b\nc\x41d'") == "IN e's3://b?AWS_SESSION_TOKEN=redacted'"
    assert redact_text('IN "gs://b?CREDENTIALS=a""b c"') == 'IN "gs://b?CREDENTIALS=redacted"'
    assert redact_text("IN 'https://me:pa''ss word@host/p'") == "IN 'https://me:redacted@host/p'"
    # unquoted, a value ends only at white space or a quote (a ',' may be part of it)
    assert redact_text("bare aws:///k?Aws_Secret_Access_Key=s3,cr3t next") == "bare aws:///k?Aws_Secret_Access_Key=redacted next"


@pytest.mark.parametrize(
    "sql",
    [
        "SHOW BACKUP LATEST IN 'x' WITH encryption_passphrase = 'hun''ter2'",
        "SHOW BACKUP LATEST IN 'x' WITH ENCRYPTION_PASSPHRASE = e'hun\\'ter2'",
        "SHOW BACKUP LATEST IN 'x' WITH Encryption_Passphrase = \"hun ter2\"",
        "SHOW BACKUP LATEST IN 'x' WITH encryption_passphrase = hunter2",
        "SHOW BACKUP LATEST IN 'x' WITH encryption_passphrase 'hunter2'",
        "SHOW BACKUP LATEST IN 'x' WITH encryption_passphrase = 'hunter2",
        "RESTORE FROM LATEST IN 'x' WITH encryption_passphrase = 'hunter2'",
    ],
)
def test_encryption_passphrase_never_shows(sql: str) -> None:
    assert "ter2" not in redact_text(sql) and "'*****'" in redact_text(sql)
    secret = [t for t in tokenize(sql, split_uris=True) if t.kind is TokenKind.SECRET]
    assert secret and "ter2" in secret[0].text  # what the editor and the shell draw as bullets
    try:
        shown = [format_statement(s, redact=True) for s in parse(sql)]
    except SQLSyntaxError as e:
        shown = [str(e), e.message, e.source_line]
    assert all("ter2" not in s for s in shown), shown


def test_specified_multiple_times_hides_both_passphrases() -> None:
    err = _error("SHOW BACKUP LATEST IN 'x' WITH encryption_passphrase = 'first1', encryption_passphrase = 'second2'")
    assert "first1" not in str(err) and "second2" not in str(err)
    assert err.message.endswith("encryption_passphrase option specified multiple times")
    assert "encryption_passphrase = '*****', encryption_passphrase = '*****'" in err.source_sql
    # redacting twice changes nothing (the shell and the app redact what the parser redacted)
    assert redact_text(str(err)) == str(err)


def test_the_caret_still_points_at_the_token_after_redaction() -> None:
    err = _error("SHOW BACKUPS IN 's3://b?AWS_SECRET_ACCESS_KEY=a''b c' junk")
    line = err.source_sql.splitlines()[-1]
    assert line[err.caret_column :].startswith("junk")


def test_known_secrets_in_server_text() -> None:
    body = "403: <Header>X-Amz-Security-Token: FwoGZXIvYXdz</Header>"
    assert redact_text(body, secrets=["FwoGZXIvYXdz", ""]) == "403: <Header>X-Amz-Security-Token: redacted</Header>"


def test_collections_json_strips_secrets_of_any_case(tmp_path) -> None:  # noqa: ANN001
    from tui.collections_store import CollectionStore

    store = CollectionStore(tmp_path / "collections.json")
    entry = store.add("s3://b/p?AWS_ACCESS_KEY_ID=AKIA&aws_secret_access_key=SEKRIT1&Aws_Session_Token=SEKRIT2")
    text = (tmp_path / "collections.json").read_text()
    assert "SEKRIT" not in text and "AWS_ACCESS_KEY_ID=AKIA" in text
    assert entry.secrets == ("aws_secret_access_key", "Aws_Session_Token")
    assert entry.with_secrets({"aws_secret_access_key": "x", "Aws_Session_Token": "y"}).endswith(
        "aws_secret_access_key=x&Aws_Session_Token=y"
    )


def test_redact_text_is_linear_on_long_words() -> None:
    """A long run of letters with no '://' once made the URI finder retry the scheme at every
    offset (40k characters: 7.9 s). Measured as a ratio in one run: 20x the text may cost at most
    ~20x (bounded here at 60x to absorb noise), never the quadratic 400x."""
    import time

    def cost(n: int) -> float:
        text = "x" * n
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            redact_text(text)
            best = min(best, time.perf_counter() - t)
        return best

    small, large = cost(20_000), cost(400_000)
    assert large / max(small, 1e-6) < 60, (small, large)
