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
