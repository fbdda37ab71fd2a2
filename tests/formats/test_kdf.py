"""Passphrase KDF (spec §3.4): PBKDF2-HMAC-SHA256, 64000 iterations, 32 bytes."""

from __future__ import annotations

import hmac

from engine.formats.kdf import PBKDF2_ITERATIONS, derive_key


def _pbkdf2_one_block(password: bytes, salt: bytes, iterations: int) -> bytes:
    """RFC 8018 PBKDF2 for a single 32-byte SHA-256 block, written from the RFC (not hashlib)."""
    u = hmac.new(password, salt + b"\x00\x00\x00\x01", "sha256").digest()
    acc = int.from_bytes(u, "big")
    for _ in range(iterations - 1):
        u = hmac.new(password, u, "sha256").digest()
        acc ^= int.from_bytes(u, "big")
    return acc.to_bytes(32, "big")


def test_constants() -> None:
    assert PBKDF2_ITERATIONS == 64000


def test_rfc7914_vector_shape() -> None:
    # RFC 7914 §11 PBKDF2-HMAC-SHA256 vector (P="passwd", S="salt", c=1), first 32 bytes.
    expected = bytes.fromhex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
    assert _pbkdf2_one_block(b"passwd", b"salt", 1) == expected


def test_derive_key_matches_independent_pbkdf2() -> None:
    salt = bytes(range(16))
    key = derive_key("123", salt)  # passphrase used by CockroachDB's encrypted-backups test
    assert len(key) == 32
    assert key == _pbkdf2_one_block(b"123", salt, 64000)
    assert derive_key(b"123", salt) == key
    assert derive_key("123", bytes(16)) != key
    assert derive_key("124", salt) != key


def test_str_passphrase_is_utf8() -> None:
    salt = b"s" * 16
    assert derive_key("pässwörd", salt) == derive_key("pässwörd".encode(), salt)
