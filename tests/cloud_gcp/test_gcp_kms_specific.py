"""What only gs:/// and gcp-kms:/// KMS have, against the fake Cloud KMS gRPC server: agreement with
the SDK, key versions, crc32c integrity checks, Go-gRPC-style error texts, credentials, lazy SDK
import. The shared KMS contract is tests/kms/test_kms_conformance.py."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from typing import Any

import google_crc32c
import pytest

from engine.kms import KMSEnv, KMSError, open_kms

from gcp_support import q

TOKEN = "ya29.kms-secret-token"


def env(kms: Any) -> KMSEnv:
    return KMSEnv(gcp_kms_endpoint=kms.address)


def test_wrap_unwrap_agrees_with_the_sdk(cloudkms_server: Any) -> None:
    (key,) = cloudkms_server.new_key_ring("k")
    data_key = hashlib.sha256(b"data key").digest()
    with open_kms(f"gcp-kms:///{key}?BEARER_TOKEN={TOKEN}", env=env(cloudkms_server)) as kms:
        assert kms.master_key_id == key
        wrapped = kms.encrypt(data_key)
        assert wrapped != data_key and data_key not in wrapped
        sdk = cloudkms_server.client()
        assert sdk.decrypt(request={"name": key, "ciphertext": wrapped}).plaintext == data_key
        by_sdk = sdk.encrypt(request={"name": key, "plaintext": data_key}).ciphertext
        assert kms.decrypt(by_sdk) == data_key


def test_key_version_in_uri_names_the_crypto_key(cloudkms_server: Any, service_account_b64: str) -> None:
    (key,) = cloudkms_server.new_key_ring("k")
    uri = f"gs:///{key}/cryptoKeyVersions/1?AUTH=specified&CREDENTIALS={q(service_account_b64)}"
    with open_kms(uri, env=env(cloudkms_server)) as kms:
        assert kms.master_key_id == key
        assert kms.decrypt(kms.encrypt(b"\x01" * 32)) == b"\x01" * 32  # Decrypt is sent the key


@pytest.mark.parametrize(("fault", "op", "text"), [
    ("unverified-plaintext", "encrypt", "Encrypt: request corrupted in-transit"),
    ("bad-ciphertext-crc", "encrypt", "Encrypt: response corrupted in-transit"),
    ("bad-plaintext-crc", "decrypt", "Decrypt: response corrupted in-transit"),
])
def test_integrity_checks(cloudkms_server: Any, fault: str, op: str, text: str) -> None:
    (key,) = cloudkms_server.new_key_ring("k", labels={"fake-fault": fault})
    with open_kms(f"gs:///{key}?BEARER_TOKEN={TOKEN}", env=env(cloudkms_server)) as kms:
        with pytest.raises(KMSError) as info:
            if op == "encrypt":
                kms.encrypt(b"\x02" * 32)
            else:
                good = cloudkms_server.client().encrypt(request={"name": key, "plaintext": b"\x02" * 32})
                kms.decrypt(good.ciphertext)
    assert info.value.cause == text
    assert TOKEN not in str(info.value)


def test_requests_carry_crc32c(cloudkms_server: Any) -> None:
    """The fake refuses a plaintext_crc32c that does not match, and only reports it verified
    when one was sent: a successful encrypt proves ours was sent and right (Castagnoli)."""
    (key,) = cloudkms_server.new_key_ring("k")
    sdk = cloudkms_server.client()
    bare = sdk.encrypt(request={"name": key, "plaintext": b"x"})
    assert not bare.verified_plaintext_crc32c
    with pytest.raises(Exception) as info:
        sdk.encrypt(request={"name": key, "plaintext": b"x", "plaintext_crc32c": 1})
    assert "plaintext_crc32c" in str(info.value)
    assert google_crc32c.value(b"123456789") == 0xE3069283  # the Castagnoli check value
    with open_kms(f"gs:///{key}?BEARER_TOKEN={TOKEN}", env=env(cloudkms_server)) as kms:
        kms.encrypt(b"y" * 32)


def test_errors_read_like_go_grpc_and_hide_secrets(cloudkms_server: Any) -> None:
    a, b = cloudkms_server.new_key_ring("a", "b")
    e = env(cloudkms_server)
    with open_kms(f"gs:///{a}/missing?BEARER_TOKEN={TOKEN}", env=e) as kms:
        with pytest.raises(KMSError) as info:
            kms.encrypt(b"z" * 32)
    assert info.value.cause.startswith("rpc error: code = NotFound desc = ")
    assert TOKEN not in str(info.value) and "BEARER_TOKEN=redacted" in str(info.value)
    with open_kms(f"gs:///{a}?BEARER_TOKEN={TOKEN}", env=e) as ka, \
         open_kms(f"gs:///{b}?BEARER_TOKEN={TOKEN}", env=e) as kb:
        with pytest.raises(KMSError) as info:
            kb.decrypt(ka.encrypt(b"z" * 32))
    assert info.value.cause.startswith("rpc error: code = InvalidArgument desc = ")


def test_bad_service_account_json(cloudkms_server: Any) -> None:
    # base64('{"type": "service_account"}'): decodes, but is no usable key
    uri = "gs:///projects/p/locations/l/keyRings/r/cryptoKeys/k?CREDENTIALS=eyJ0eXBlIjogInNlcnZpY2VfYWNjb3VudCJ9"
    with open_kms(uri, env=env(cloudkms_server)) as kms:
        with pytest.raises(KMSError) as info:
            kms.encrypt(b"k" * 32)
    assert info.value.cause.startswith("error getting credentials from CREDENTIALS: ")


def test_unreachable_endpoint_is_unavailable() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with open_kms(f"gs:///projects/p/locations/l/keyRings/r/cryptoKeys/k?BEARER_TOKEN={TOKEN}",
                  env=KMSEnv(gcp_kms_endpoint=f"127.0.0.1:{port}")) as kms:
        with pytest.raises(KMSError) as info:
            kms.decrypt(b"c" * 40)
    assert "Unavailable" in info.value.cause and TOKEN not in str(info.value)


def test_opening_and_matching_never_import_the_sdk() -> None:
    script = textwrap.dedent("""
        import sys
        from engine.kms import open_kms, parse_kms_uri
        for uri in ("gs:///projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/3?BEARER_TOKEN=t",
                    "gcp-kms:///projects/p/locations/l/keyRings/r/cryptoKeys/k?AUTH=implicit"):
            parse_kms_uri(uri)
            with open_kms(uri) as kms:
                kms.master_key_id, kms.key_ids
        print(sorted(m for m in sys.modules if m.startswith(("google", "grpc"))))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
