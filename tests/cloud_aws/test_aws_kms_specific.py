"""What only aws:// KMS has, against a real moto server: the Encrypt/Decrypt request bodies exactly as
CockroachDB's aws_kms.go sends them, error texts, tampered ciphertext, AssumeRole chains, lazy SDK
import. The shared KMS contract is tests/kms/test_kms_conformance.py."""

from __future__ import annotations

import json
import re
import time

import pytest

from engine.kms import KMSError, open_kms
from engine.kms.aws import AwsKMS
from engine.kms.registry import parse_kms_uri
from tests.servers.aws import ACCESS_KEY, REGION, SECRET, MotoServer


def calls_of(kms: AwsKMS) -> list[tuple[str, dict]]:
    """(operation, JSON body) of every KMS request the client sends."""
    seen: list[tuple[str, dict]] = []

    def hook(request, **kw):  # type: ignore[no-untyped-def]
        target = request.headers.get("X-Amz-Target", b"").decode()
        seen.append((target.split(".")[-1], json.loads(request.body or b"{}")))

    kms._kms().meta.events.register("before-send", hook)
    return seen


@pytest.mark.parametrize("scheme", ["aws", "aws-kms"])
def test_encrypt_decrypt_with_alias_and_exact_key_id(moto_server: MotoServer, scheme: str) -> None:
    alias = f"alias/k-{scheme}-{time.monotonic_ns()}"
    key_id = moto_server.new_key(alias)
    data_key = bytes(range(32))
    with open_kms(moto_server.kms_uri(alias, scheme)) as kms:
        assert isinstance(kms, AwsKMS) and kms.master_key_id == alias
        sent = calls_of(kms)
        blob = kms.encrypt(data_key)
        assert bytes(kms.decrypt(blob)) == data_key
    # Encrypt and Decrypt name the key exactly as typed; no encryption context
    assert [op for op, _ in sent] == ["Encrypt", "Decrypt"]
    assert sent[0][1].keys() == {"KeyId", "Plaintext"} and sent[0][1]["KeyId"] == alias
    assert sent[1][1].keys() == {"KeyId", "CiphertextBlob"} and sent[1][1]["KeyId"] == alias
    # independent check: moto's own client unwraps the blob (no context), and it is the key's
    plain = moto_server.client("kms").decrypt(CiphertextBlob=blob)
    assert plain["Plaintext"] == data_key and plain["KeyId"].endswith(key_id)


def test_key_arn_is_its_own_master_key_id(moto_server: MotoServer) -> None:
    key_id = moto_server.new_key()
    arn = f"arn:aws:kms:{REGION}:123456789012:key/{key_id}"
    with open_kms(moto_server.kms_uri(arn)) as kms:
        assert kms.master_key_id == arn
        assert len(kms.encrypt(b"k" * 32)) > 32


def test_errors_name_the_redacted_uri_and_cause(moto_server: MotoServer) -> None:
    uri = moto_server.kms_uri("alias/does-not-exist")
    with open_kms(uri) as kms:
        with pytest.raises(KMSError) as info:
            kms.encrypt(b"k" * 32)
    message = str(info.value)
    assert message.startswith("aws kms Encrypt: NotFoundException")
    assert f"(KMS URI '{parse_kms_uri(uri).redacted_uri}')" in message
    assert SECRET not in message and "AWS_SECRET_ACCESS_KEY=redacted" in message


def test_wrong_key_and_tampered_ciphertext_texts(moto_server: MotoServer) -> None:
    a, b = moto_server.new_key(), moto_server.new_key()
    with open_kms(moto_server.kms_uri(a)) as ka, open_kms(moto_server.kms_uri(b)) as kb:
        blob = ka.encrypt(b"k" * 32)
        with pytest.raises(KMSError) as info:
            kb.decrypt(blob)
        # real KMS says IncorrectKeyException, moto AccessDeniedException: either is a refusal
        assert re.match(r"aws kms Decrypt: \w+Exception", str(info.value))
        with pytest.raises(KMSError) as info:
            ka.decrypt(blob[:-1] + bytes([blob[-1] ^ 1]))
        assert str(info.value).startswith("aws kms Decrypt: InvalidCiphertextException")


def test_assume_role_chain_then_encrypt(moto_server: MotoServer) -> None:
    alias = f"alias/role-{time.monotonic_ns()}"
    moto_server.new_key(alias)
    chain = "arn:aws:iam::123456789012:role/a;external_id=e-1,arn:aws:iam::123456789012:role/b"
    with open_kms(moto_server.kms_uri(alias, ASSUME_ROLE=chain)) as kms:
        seen: list[str] = []
        kms._kms().meta.events.register(
            "before-send", lambda request, **kw: seen.append(request.headers["Authorization"].decode())
        )
        assert bytes(kms.decrypt(kms.encrypt(b"z" * 32))) == b"z" * 32
    credential = seen[0].split("Credential=")[1].split("/")[0]
    assert credential.startswith("ASIA") and credential != ACCESS_KEY


def test_validating_and_opening_imports_no_sdk() -> None:
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import sys
        from engine.kms import KMSError, open_kms, parse_kms_uri
        uri = "aws:///alias/k?REGION=r&AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=b&AWS_ENDPOINT=http://h:1"
        parse_kms_uri(uri)
        with open_kms(uri) as kms:
            kms.master_key_id, kms.key_ids, repr(kms)
        for bad in ("aws:///k", "aws:///k?REGION=r&AUTH=x"):
            try:
                open_kms(bad)
            except KMSError:
                pass
        print(sorted(m for m in sys.modules if m.startswith(("boto3", "botocore", "engine.storage"))))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
