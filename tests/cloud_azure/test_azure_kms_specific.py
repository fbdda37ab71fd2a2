"""What only azure-kms:// has, against the fake Key Vault over HTTPS with challenge auth: RSA-OAEP-256
(azure_kms.go) checked against wrapping done by hand with `cryptography`, the encrypt-only RBAC
fallback, throttling retries, error texts, lazy SDK import and the test-only static credential.
The shared KMS contract is tests/kms/test_kms_conformance.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from engine.kms import KMSEnv, KMSError, open_kms
from tests.servers.azure import FakeVault

SECRET = "kv-client-secret-7f3a"


def uri(name: str, version: str, *, explicit: bool = True) -> str:
    creds = (f"AZURE_TENANT_ID=tenant&AZURE_CLIENT_ID=client&AZURE_CLIENT_SECRET={SECRET}"
             if explicit else "AUTH=implicit")
    return f"azure-kms:///{name}/{version}?{creds}&AZURE_VAULT_NAME=myvault"


def oaep256() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def public_key(vault: FakeVault, name: str, version: str) -> rsa.RSAPublicKey:
    jwk = vault.key_client().get_key(name, version).key
    n, e = (int.from_bytes(v, "big") for v in (jwk.n, jwk.e))
    return rsa.RSAPublicNumbers(e, n).public_key()


def test_decrypts_what_rsa_oaep_256_wraps_by_hand(fake_vault: FakeVault) -> None:
    name, version = fake_vault.create_key("kat")
    data_key = bytes(range(32))
    wrapped = public_key(fake_vault, name, version).encrypt(data_key, oaep256())
    with open_kms(uri(name, version, explicit=False), env=fake_vault.kms_env()) as kms:
        assert kms.decrypt(wrapped) == data_key


def test_encrypts_with_rsa_oaep_256_not_sha1_oaep(fake_vault: FakeVault) -> None:
    from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm

    from engine.kms.azure import StaticTestCredential

    name, version = fake_vault.create_key("alg")
    data_key = os.urandom(32)
    with open_kms(uri(name, version), env=fake_vault.kms_env()) as kms:
        wrapped = kms.encrypt(data_key)
    assert len(wrapped) == 256 and data_key not in wrapped  # one RSA-2048 block
    sdk = CryptographyClient(f"{fake_vault.url}/keys/{name}/{version}", StaticTestCredential(),
                             verify_challenge_resource=False, connection_verify=fake_vault.ca)
    assert sdk.decrypt(EncryptionAlgorithm.rsa_oaep_256, wrapped).plaintext == data_key
    with pytest.raises(Exception):
        sdk.decrypt(EncryptionAlgorithm.rsa_oaep, wrapped)


def test_encrypt_only_permission_uses_the_vault_encrypt_call(fake_vault: FakeVault) -> None:
    """A principal with only the encrypt/decrypt data actions (CockroachDB's documented RBAC)
    gets 403 on GET key; encrypt then runs in the vault."""
    name, version = fake_vault.create_key("rbac", tags={"rewrap-test-forbid-get": "true"})
    before = fake_vault.stats().get("encrypt", 0)
    with open_kms(uri(name, version), env=fake_vault.kms_env()) as kms:
        wrapped = kms.encrypt(b"k" * 32)
        assert kms.decrypt(wrapped) == b"k" * 32
    assert fake_vault.stats()["encrypt"] == before + 1


def test_throttling_is_retried(fake_vault: FakeVault) -> None:
    name, version = fake_vault.create_key("busy", tags={"rewrap-test-throttle": "2"})
    wrapped = public_key(fake_vault, name, version).encrypt(b"t" * 32, oaep256())
    before = fake_vault.stats().get("throttled", 0)
    with open_kms(uri(name, version), env=fake_vault.kms_env()) as kms:
        assert kms.decrypt(wrapped) == b"t" * 32
    assert fake_vault.stats()["throttled"] == before + 2


def test_wrong_key_refuses_and_names_the_uri_without_secret(fake_vault: FakeVault) -> None:
    a, av = fake_vault.create_key("a")
    b, bv = fake_vault.create_key("b")
    env = fake_vault.kms_env()
    with open_kms(uri(a, av), env=env) as ka, open_kms(uri(b, bv), env=env) as kb:
        wrapped = ka.encrypt(os.urandom(32))
        with pytest.raises(KMSError) as info:
            kb.decrypt(wrapped)
    message = str(info.value)
    assert message.startswith("azure kms decrypt failed: ")
    assert f"key {b}/{bv}" in message and "HTTP 400 BadParameter" in message
    assert f"azure-kms:///{b}/{bv}?" in message and "AZURE_CLIENT_SECRET=redacted" in message
    assert SECRET not in message and "Traceback" not in message


def test_unknown_key_is_not_found(fake_vault: FakeVault) -> None:
    with open_kms(uri("no-such-key", "0123abcd"), env=fake_vault.kms_env()) as kms:
        with pytest.raises(KMSError) as info:
            kms.encrypt(b"k" * 32)
    assert "key no-such-key/0123abcd in https://127.0.0.1:" in str(info.value)
    assert "not found" in str(info.value)


def test_unreachable_vault_says_cannot_reach() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = KMSEnv(azure_vault_url=f"https://127.0.0.1:{port}", azure_credential="static")
    with open_kms(uri("k", "v"), env=env) as kms:
        with pytest.raises(KMSError) as info:
            kms.decrypt(b"\x00" * 256)
    assert f"cannot reach https://127.0.0.1:{port}" in str(info.value)


def test_opening_imports_no_sdk_until_a_call() -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from engine.kms import open_kms
        with open_kms({uri("k", "v")!r}) as kms:
            kms.master_key_id, repr(kms)
        print(sorted(m for m in sys.modules if m.split(".")[0] == "azure"))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
    assert SECRET not in out.stdout


def test_static_credential_only_from_the_test_setting(fake_vault: FakeVault, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REWRAP_TEST_AZURE_CREDENTIAL", "static")
    monkeypatch.setenv("REWRAP_TEST_AZURE_VAULT_URL", fake_vault.url)
    monkeypatch.setenv("REWRAP_TEST_AZURE_TLS_CA", fake_vault.ca)
    env = KMSEnv.from_env()
    assert env.azure_credential == "static"
    name, version = fake_vault.create_key("envkey")
    with open_kms(uri(name, version), env=env) as kms:
        assert kms.decrypt(kms.encrypt(b"z" * 32)) == b"z" * 32
    # a URI cannot ask for it: unknown params are refused by CockroachDB's rules
    with pytest.raises(KMSError, match="unknown KMS query parameters"):
        open_kms(uri(name, version) + "&AZURE_CREDENTIAL=static")
