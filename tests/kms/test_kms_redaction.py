"""Secrets never leave engine.kms: not in redacted_uri, not in errors, not in reprs."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.kms import KMSError, open_kms, parse_kms_uri, redact_kms_uri

# Secret-bearing params each provider reads, with a base URI that is otherwise valid or not.
CASES = [
    ("aws:///alias/key-one?REGION=r&AWS_ACCESS_KEY_ID=AKIA", "AWS_SECRET_ACCESS_KEY"),
    ("aws:///alias/key-one?REGION=r&AWS_ACCESS_KEY_ID=AKIA&AWS_SECRET_ACCESS_KEY=x", "AWS_SESSION_TOKEN"),
    ("aws:///alias/key-one?AWS_ACCESS_KEY_ID=AKIA", "AWS_SECRET_ACCESS_KEY"),  # fails: no REGION
    ("aws:///alias/key-one?REGION=r&BOGUS=1", "AWS_SECRET_ACCESS_KEY"),  # fails: unknown param
    ("gs:///projects/p/cryptoKeys/key-one?AUTH=specified", "CREDENTIALS"),  # usually bad base64
    ("gs:///projects/p/cryptoKeys/key-one?AUTH=specified", "BEARER_TOKEN"),
    ("azure-kms:///key-one/v1?AZURE_VAULT_NAME=v&AZURE_CLIENT_ID=c&AZURE_TENANT_ID=t", "AZURE_CLIENT_SECRET"),
    ("azure-kms:///key-one/v1?AZURE_VAULT_NAME=v", "AZURE_ACCOUNT_KEY"),  # fails: legacy auth
    ("azure-kms:///key-one?AZURE_VAULT_NAME=v&AUTH=implicit", "AZURE_CLIENT_SECRET"),  # fails: extra
    ("testkms:///key-one?AUTH=implicit", "AWS_SECRET_ACCESS_KEY"),
    ("nope:///key-one?A=1", "AWS_SECRET_ACCESS_KEY"),  # fails: unknown scheme
]

secrets = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="&;#"),
    min_size=4,
    max_size=40,
).map(lambda s: "S3cr" + s)


def _surfaces(uri: str) -> list[str]:
    out = [redact_kms_uri(uri)]
    for call in (parse_kms_uri, open_kms):
        try:
            result = call(uri)
        except KMSError as e:
            out += [str(e), repr(e), e.cause, e.redacted_uri or ""]
        else:
            out += [repr(result), str(result)]
            if hasattr(result, "redacted_uri"):
                out.append(result.redacted_uri)
            # Only testkms is called here: a cloud call would go to the real cloud. Errors from real
            # calls are checked for secrets against the local servers in tests/cloud_*.
            if hasattr(result, "encrypt") and result.scheme == "testkms":
                try:
                    result.encrypt(b"k" * 32)
                except KMSError as e:
                    out.append(str(e))
    return out


@settings(max_examples=60, deadline=None)
@given(secret=secrets, case=st.sampled_from(CASES), fragment_trick=st.booleans())
def test_secret_never_shown(secret: str, case: tuple[str, str], fragment_trick: bool) -> None:
    base, param = case
    # Go's ParseRequestURI keeps '#...' in the query, so a secret after '#' is still read.
    glue = "#&" if fragment_trick else "&"
    uri = f"{base}{glue}{param}={quote(secret, safe='')}"
    for text in _surfaces(uri):
        assert secret not in text
        assert quote(secret, safe="") not in text
    if not uri.startswith("nope"):
        assert "key-one" in redact_kms_uri(uri)  # the key id stays visible


def test_key_id_and_public_params_stay_visible() -> None:
    uri = "aws:///arn:aws:kms:us-east-1:1:key/abc?REGION=r&AWS_ACCESS_KEY_ID=AKIA&AWS_SECRET_ACCESS_KEY=zz"
    assert redact_kms_uri(uri) == (
        "aws:///arn:aws:kms:us-east-1:1:key/abc?REGION=r&AWS_ACCESS_KEY_ID=AKIA"
        "&AWS_SECRET_ACCESS_KEY=redacted"
    )


def test_parse_error_quotes_the_redacted_uri() -> None:
    with pytest.raises(KMSError) as info:
        parse_kms_uri("bad uri?AWS_SECRET_ACCESS_KEY=topsecret")
    assert str(info.value) == 'parse "bad uri?AWS_SECRET_ACCESS_KEY=redacted": invalid URI for request'


def test_fragment_trick_is_masked() -> None:
    uri = "aws:///k?REGION=r#&AWS_SECRET_ACCESS_KEY=topsecret&AWS_ACCESS_KEY_ID=a"
    assert parse_kms_uri(uri).params["AWS_SECRET_ACCESS_KEY"] == "topsecret"  # Go reads it
    assert "topsecret" not in redact_kms_uri(uri)
    assert redact_kms_uri(uri).startswith("aws:///k?")


def test_userinfo_password_is_masked() -> None:
    uri = "aws://user:pa55word@host/key-one?REGION=r&AUTH=implicit"
    assert parse_kms_uri(uri).master_key_id == "key-one"
    assert "pa55word" not in redact_kms_uri(uri)
    assert "pa55word" not in repr(open_kms(uri))
