"""Passphrase-derived backup keys (spec backup-format.md §3.4).

Mirrors pkg/ccl/storageccl/encryption.go: GenerateSalt (16 random bytes, stored in
ENCRYPTION-INFO field 2) and GenerateKey = pbkdf2.Key(passphrase, salt, 64000, 32, sha256.New).
"""

from __future__ import annotations

import hashlib

PBKDF2_ITERATIONS = 64000
KEY_SIZE = 32


def derive_key(passphrase: str | bytes, salt: bytes) -> bytes:
    """The AES-256 key for a passphrase; a `str` is taken as its UTF-8 bytes, as SQL strings are."""
    raw = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
    return hashlib.pbkdf2_hmac("sha256", raw, bytes(salt), PBKDF2_ITERATIONS, KEY_SIZE)
