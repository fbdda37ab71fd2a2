"""engine.formats.buffers: unzeroed, huge-page-advised buffers behave as ordinary bytearrays, and
whole-file decryption into them still round-trips and still rejects every damaged file."""

from __future__ import annotations

import os

import pytest

from engine.formats.buffers import HUGE_PAGE_MIN, new_buffer
from engine.formats.encrypted_file import (
    HEADER_SIZE,
    SEALED_CHUNK_SIZE,
    DecryptError,
    DecryptingReader,
    decrypt,
    encrypt,
    encrypt_v1,
)

KEY = os.urandom(32)
# Large enough for the huge-page advice, and not a whole number of chunks.
BIG = os.urandom(HUGE_PAGE_MIN + 3 * 65536 + 1234)
BLOB = encrypt(KEY, BIG)


@pytest.mark.parametrize("size", [0, 1, 4095, HUGE_PAGE_MIN - 1, HUGE_PAGE_MIN, 3 * HUGE_PAGE_MIN + 17])
def test_new_buffer_is_a_plain_resizable_bytearray(size: int) -> None:
    buf = new_buffer(size)
    assert type(buf) is bytearray and len(buf) == size
    buf[:] = b"\x5a" * size  # every byte writable
    assert buf.count(0x5A) == size
    buf += b"tail"  # no buffer export left behind: still resizable
    assert buf[-4:] == b"tail"
    buf.clear()
    assert buf == b""


def test_new_buffer_rejects_negative_size() -> None:
    with pytest.raises(ValueError, match="negative"):
        new_buffer(-1)


def _reader(blob: bytes) -> DecryptingReader:
    return DecryptingReader(lambda off, n: blob[off : off + n], len(blob), KEY, name="big.sst")


def test_large_round_trip_v1_and_v2() -> None:
    assert decrypt(KEY, BLOB) == BIG
    assert _reader(BLOB).plaintext() == BIG
    v1 = encrypt_v1(KEY, BIG)
    assert decrypt(KEY, v1) == BIG
    assert _reader(v1).plaintext() == BIG


def test_large_file_damage_still_named() -> None:
    chunk = 60
    flipped = bytearray(BLOB)
    flipped[HEADER_SIZE + chunk * SEALED_CHUNK_SIZE + 5] ^= 1
    for attempt in (lambda: decrypt(KEY, bytes(flipped), name="big.sst"),
                    lambda: _reader(bytes(flipped)).plaintext()):
        with pytest.raises(DecryptError, match=rf"big.sst: failed to decrypt: wrong key or corrupted data \(chunk {chunk}\)"):
            attempt()
    cut = BLOB[: HEADER_SIZE + 66 * SEALED_CHUNK_SIZE]
    for attempt in (lambda: decrypt(KEY, cut, name="big.sst"), lambda: _reader(cut).plaintext()):
        with pytest.raises(DecryptError, match="big.sst: file appears truncated"):
            attempt()
    with pytest.raises(DecryptError, match="big.sst: failed to decrypt"):
        decrypt(KEY, BLOB[:-1], name="big.sst")
