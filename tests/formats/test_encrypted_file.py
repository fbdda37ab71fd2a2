"""Encrypted file v1/v2: known answers built with AESGCM per spec §3, faults, random access."""

from __future__ import annotations

import os
import random

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import FormatError
from engine.formats.encrypted_file import (
    CHUNK_SIZE,
    HEADER_SIZE,
    PREAMBLE,
    SEALED_CHUNK_SIZE,
    TAG_SIZE,
    DecryptError,
    DecryptingReader,
    EncryptingWriter,
    appears_encrypted,
    chunk_nonce,
    ciphertext_size,
    decrypt,
    encrypt,
    encrypt_v1,
    plaintext_size,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
IV = bytes.fromhex("0102030405060708090a0b0c")
SIZES = [0, 1, 65535, 65536, 65537, 3 * 65536 + 123]
_BIG = os.urandom(2 * 65536 + 99)
_BLOBS = {n: encrypt(KEY, _BIG[:n]) for n in [0, 1, 65535, 65536, 65537, 2 * 65536 + 99]}
_BIG2 = os.urandom(200000)


def plain(n: int) -> bytes:
    return bytes((i * 7 + 3) % 251 for i in range(n))


def spec_v2(key: bytes, iv: bytes, data: bytes) -> bytes:
    """A v2 file written straight from the spec: header, then 64 KiB chunks sealed with
    nonce = iv[0:4] || BE64(BE64(iv[4:12]) + i mod 2^64), always a final short chunk."""
    aead = AESGCM(key)
    out = b"encrypt\x02" + iv
    base = int.from_bytes(iv[4:], "big")
    i = 0
    while True:
        piece = data[i * 65536 : (i + 1) * 65536]
        nonce = iv[:4] + ((base + i) % 2**64).to_bytes(8, "big")
        out += aead.encrypt(nonce, piece, None)
        if len(piece) < 65536:
            return out
        i += 1


def spec_v1(key: bytes, iv: bytes, data: bytes) -> bytes:
    return b"encrypt\x01" + iv + AESGCM(key).encrypt(iv, data, None)


def reader(data: bytes, key: bytes = KEY, calls: list | None = None) -> DecryptingReader:
    def read_range(offset: int, length: int) -> bytes:
        if calls is not None:
            calls.append((offset, length))
        return data[offset : offset + length]

    return DecryptingReader(read_range, len(data), key, name="BACKUP_MANIFEST")


def test_constants() -> None:
    assert (PREAMBLE, HEADER_SIZE, CHUNK_SIZE, TAG_SIZE, SEALED_CHUNK_SIZE) == (
        b"encrypt", 20, 65536, 16, 65552
    )


@pytest.mark.parametrize("n", SIZES)
def test_known_answer_v2(n: int) -> None:
    data = plain(n)
    expected = spec_v2(KEY, IV, data)
    assert encrypt(KEY, data, iv=IV) == expected
    assert decrypt(KEY, expected) == data
    assert reader(expected).plaintext() == data
    assert len(expected) == ciphertext_size(n)
    assert plaintext_size(len(expected)) == n
    sink: list[bytes] = []
    with EncryptingWriter(sink.append, KEY, iv=IV) as w:
        for i in range(0, n, 1000):  # odd-sized writes straddle chunk boundaries
            w.write(data[i : i + 1000])
    assert b"".join(sink) == expected


@pytest.mark.parametrize("n", SIZES)
def test_known_answer_v1(n: int) -> None:
    data = plain(n)
    expected = spec_v1(KEY, IV, data)
    assert encrypt_v1(KEY, data, iv=IV) == expected
    assert decrypt(KEY, expected) == data
    r = reader(expected)
    assert (r.version, r.plaintext_size, r.num_chunks) == (1, n, 1)
    assert r.plaintext() == data
    assert r.read(n // 2, 10) == data[n // 2 : n // 2 + 10]


def test_empty_v2_is_header_plus_bare_tag() -> None:
    blob = encrypt(KEY, b"", iv=IV)
    assert len(blob) == HEADER_SIZE + TAG_SIZE
    assert blob[:20] == b"encrypt\x02" + IV


def test_exact_chunk_has_empty_final_chunk() -> None:
    blob = encrypt(KEY, plain(65536), iv=IV)
    assert len(blob) == 20 + 65552 + 16
    last_nonce = IV[:4] + (int.from_bytes(IV[4:], "big") + 1).to_bytes(8, "big")
    assert AESGCM(KEY).decrypt(last_nonce, blob[20 + 65552 :], None) == b""


def test_chunk_nonce_arithmetic() -> None:
    assert chunk_nonce(IV, 0) == IV
    assert chunk_nonce(IV, 1) == IV[:11] + b"\x0d"
    iv = b"\xaa\xbb\xcc\xdd" + b"\x00" * 7 + b"\xff"
    assert chunk_nonce(iv, 1) == b"\xaa\xbb\xcc\xdd" + b"\x00" * 6 + b"\x01\x00"  # carry
    top = b"\x11\x22\x33\x44" + b"\xff" * 8
    assert chunk_nonce(top, 1) == b"\x11\x22\x33\x44" + b"\x00" * 8  # wraps, prefix untouched
    assert chunk_nonce(top, 3) == b"\x11\x22\x33\x44" + b"\x00" * 7 + b"\x02"


def test_counter_wraparound_known_answer() -> None:
    iv = b"\x11\x22\x33\x44" + b"\xff" * 7 + b"\xfe"  # chunk 2 wraps to 0
    data = plain(3 * 65536 + 5)
    expected = spec_v2(KEY, iv, data)
    assert encrypt(KEY, data, iv=iv) == expected
    assert decrypt(KEY, expected) == data
    assert reader(expected).read_chunk(3) == data[3 * 65536 :]
    # A non-wrapping (e.g. 128-bit) counter would give a different nonce for chunk 2.
    bad_nonce = iv[:4] + b"\x01" + b"\x00" * 7
    assert AESGCM(KEY).encrypt(bad_nonce, data[2 * 65536 : 3 * 65536], None) != expected[
        20 + 2 * 65552 : 20 + 3 * 65552
    ]


@pytest.mark.parametrize("n", [65536, 2 * 65536, 2 * 65536 + 100])
def test_truncated_on_chunk_boundary(n: int) -> None:
    blob = encrypt(KEY, plain(n), iv=IV)
    cut = blob[: 20 + (n // 65536) * 65552]
    with pytest.raises(DecryptError, match="BACKUP_MANIFEST: file appears truncated"):
        decrypt(KEY, cut, name="BACKUP_MANIFEST")
    with pytest.raises(DecryptError, match="truncated"):
        reader(cut).plaintext()


@pytest.mark.parametrize("drop", [1, 15, 16, 17, 1000])
def test_truncated_mid_chunk(drop: int) -> None:
    blob = encrypt(KEY, plain(2 * 65536 + 3000), iv=IV)[:-drop]
    for attempt in (lambda: decrypt(KEY, blob), lambda: reader(blob).plaintext()):
        with pytest.raises(DecryptError):
            attempt()


def test_truncated_header_and_v1() -> None:
    for blob in (b"encrypt", b"encrypt\x02" + IV[:5], b"encrypt\x01" + IV + b"\x00" * 15):
        with pytest.raises(DecryptError, match="file appears truncated"):
            decrypt(KEY, blob)
        with pytest.raises(DecryptError, match="file appears truncated"):
            reader(blob).version


def test_extra_bytes_appended() -> None:
    blob = encrypt(KEY, plain(70000), iv=IV)
    for tail in (b"\x00", b"\x00" * 65552):
        with pytest.raises(DecryptError, match="failed to decrypt"):
            decrypt(KEY, blob + tail)


@pytest.mark.parametrize("version", [1, 2])
def test_every_region_bit_flip_fails(version: int) -> None:
    data = plain(2 * 65536 + 777)
    blob = (spec_v1 if version == 1 else spec_v2)(KEY, IV, data)
    # IV bytes, first chunk body, a middle tag, the last chunk, the final tag byte.
    positions = [8, 19, 20, 5000, 20 + 65552 - 1, 20 + 65552 + 10, len(blob) - 17, len(blob) - 1]
    for pos in positions:
        flipped = bytearray(blob)
        flipped[pos] ^= 0x04
        with pytest.raises(DecryptError, match="failed to decrypt: wrong key or corrupted"):
            decrypt(KEY, bytes(flipped), name="f")
        with pytest.raises(DecryptError):
            reader(bytes(flipped)).plaintext()


def test_bit_flip_in_preamble_and_version() -> None:
    blob = encrypt(KEY, b"hello", iv=IV)
    with pytest.raises(DecryptError, match="x: not an encrypted file"):
        decrypt(KEY, b"f" + blob[1:], name="x")
    with pytest.raises(DecryptError, match="x: unsupported encryption version 6"):
        decrypt(KEY, blob[:7] + b"\x06" + blob[8:], name="x")
    # The version byte is not authenticated. A one-chunk v2 body *is* a valid v1 body (chunk 0's
    # nonce is the IV), so 2 -> 1 yields the same plaintext; with more chunks it must fail.
    assert decrypt(KEY, blob[:7] + b"\x01" + blob[8:]) == b"hello"
    multi = encrypt(KEY, plain(65537), iv=IV)
    with pytest.raises(DecryptError, match="failed to decrypt"):
        decrypt(KEY, multi[:7] + b"\x01" + multi[8:])
    with pytest.raises(DecryptError):
        v1 = spec_v1(KEY, IV, plain(65537))
        decrypt(KEY, v1[:7] + b"\x02" + v1[8:])


def test_chunk_number_in_message() -> None:
    blob = bytearray(encrypt(KEY, plain(4 * 65536), iv=IV))
    blob[20 + 3 * 65552 + 7] ^= 1
    with pytest.raises(DecryptError, match=r"BACKUP_MANIFEST: failed to decrypt: .* \(chunk 3\)"):
        decrypt(KEY, bytes(blob), name="BACKUP_MANIFEST")
    r = reader(bytes(blob))
    assert r.read_chunk(2) == plain(4 * 65536)[2 * 65536 : 3 * 65536]
    with pytest.raises(DecryptError, match=r"\(chunk 3\)"):
        r.read_chunk(3)


@pytest.mark.parametrize("n", [0, 100, 200000])
def test_wrong_key(n: int) -> None:
    for blob in (encrypt(KEY, plain(n)), encrypt_v1(KEY, plain(n))):
        with pytest.raises(DecryptError, match="wrong key"):
            decrypt(OTHER_KEY, blob)
        with pytest.raises(DecryptError, match="wrong key"):
            reader(blob, OTHER_KEY).plaintext()


def test_bad_key_length_is_decrypt_error() -> None:
    blob = encrypt(KEY, b"x")
    with pytest.raises(DecryptError, match="invalid key length 35"):
        decrypt(KEY + b"cmk", blob)
    with pytest.raises(DecryptError, match="invalid key length 0"):
        reader(blob, b"")


@pytest.mark.parametrize(
    "garbage",
    [b"", b"e", b"\x1f\x8b\x08\x00", b"\x00" * 100, random.Random(5).randbytes(70000), b"encrypX\x02" + IV],
    ids=["empty", "one-byte", "gzip-magic", "zeros", "random-70000", "bad-preamble"],
)
def test_garbage(garbage: bytes) -> None:
    assert not appears_encrypted(garbage)
    with pytest.raises(DecryptError, match="not an encrypted file"):
        decrypt(KEY, garbage, name="BACKUP_MANIFEST")
    with pytest.raises(DecryptError, match="not an encrypted file"):
        reader(garbage).read(0, 1)


def test_decrypt_error_is_format_error() -> None:
    assert issubclass(DecryptError, FormatError)


def test_appears_encrypted() -> None:
    assert appears_encrypted(b"encrypt")
    assert appears_encrypted(encrypt(KEY, b""))
    assert not appears_encrypted(b"encryp")


def test_random_access_reads_only_needed_chunks() -> None:
    data = plain(5 * 65536 + 4321)
    blob = encrypt(KEY, data, iv=IV)
    calls: list[tuple[int, int]] = []
    r = reader(blob, calls=calls)
    assert (r.version, r.plaintext_size, r.num_chunks) == (2, len(data), 6)
    assert calls == [(0, 20)]
    assert r.read(3 * 65536 + 10, 20) == data[3 * 65536 + 10 : 3 * 65536 + 30]
    assert calls[1:] == [(20 + 3 * 65552, 65552)]
    assert r.read(65530, 12) == data[65530:65542]  # spans chunks 0 and 1
    assert [c[0] for c in calls[2:]] == [20, 20 + 65552]
    assert r.read_chunk(5) == data[5 * 65536 :]
    assert calls[-1] == (20 + 5 * 65552, 4321 + 16)
    with pytest.raises(IndexError):
        r.read_chunk(6)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_random_access_matches_slices(data: st.DataObject) -> None:
    n = data.draw(st.sampled_from([0, 1, 65535, 65536, 65537, 2 * 65536 + 99]))
    payload = _BIG[:n]
    r = reader(_BLOBS[n])
    offset = data.draw(st.integers(0, n + 10))
    length = data.draw(st.integers(0, 3 * 65536))
    assert r.read(offset, length) == payload[offset : offset + length]


def test_chunks_streams_in_order() -> None:
    data = plain(40 * 65536 + 5)  # more than one read batch
    blob = encrypt(KEY, data)
    calls: list[tuple[int, int]] = []
    parts = list(reader(blob, calls=calls).chunks())
    assert [len(p) for p in parts] == [65536] * 40 + [5]
    assert b"".join(parts) == data
    assert max(length for _, length in calls) <= 16 * 65552


def test_short_read_range_is_truncation() -> None:
    blob = encrypt(KEY, plain(100000))
    r = DecryptingReader(lambda o, n: blob[o : o + n][:-1] if o else blob[:n], len(blob), KEY)
    with pytest.raises(DecryptError, match="truncated"):
        r.plaintext()


def test_writer_zero_copy_big_writes_and_close_idempotent() -> None:
    data = plain(3 * 65536 + 10)
    sink: list[bytes] = []
    w = EncryptingWriter(sink.append, KEY, iv=IV)
    w.write(data[:5])
    w.write(data[5:])
    w.close()
    w.close()
    assert b"".join(sink) == spec_v2(KEY, IV, data)
    assert max(len(s) for s in sink) == 65552  # never buffers more than a chunk
    with pytest.raises(ValueError):
        w.write(b"x")


def test_writer_aborted_by_exception_is_not_sealed() -> None:
    sink: list[bytes] = []
    with pytest.raises(RuntimeError):
        with EncryptingWriter(sink.append, KEY) as w:
            w.write(plain(65536 + 10))
            raise RuntimeError("boom")
    blob = b"".join(sink)
    assert len(blob) == 20 + 65552  # the short tail was never sealed
    with pytest.raises(DecryptError, match="truncated"):
        decrypt(KEY, blob)


def test_random_iv_by_default() -> None:
    assert encrypt(KEY, b"same")[8:20] != encrypt(KEY, b"same")[8:20]
    with pytest.raises(ValueError):
        encrypt(KEY, b"", iv=b"short")


def test_accepts_bytearray_and_memoryview() -> None:
    blob = encrypt(bytearray(KEY), b"abc")
    assert decrypt(bytearray(KEY), memoryview(blob)) == b"abc"
    assert decrypt(KEY, bytearray(blob)) == b"abc"


def test_size_formulas_match_go_stat() -> None:
    for p in range(0, 5 * 65536, 4099):
        s = ciphertext_size(p)
        assert plaintext_size(s) == p
        assert s == 20 + p + 16 * (p // 65536 + 1)


@settings(max_examples=40, deadline=None)
@given(
    payload=st.binary(max_size=3 * 65536 + 50) | st.integers(0, 200000).map(lambda n: _BIG2[:n]),
    iv=st.binary(min_size=12, max_size=12),
    pieces=st.lists(st.integers(1, 70000), max_size=6),
)
def test_round_trip_property(payload: bytes, iv: bytes, pieces: list[int]) -> None:
    blob = encrypt(KEY, payload, iv=iv)
    assert blob == spec_v2(KEY, iv, payload)
    assert decrypt(KEY, blob) == payload
    assert reader(blob).plaintext() == payload
    sink: list[bytes] = []
    with EncryptingWriter(sink.append, KEY, iv=iv) as w:
        pos = 0
        for size in pieces:
            w.write(payload[pos : pos + size])
            pos += size
        w.write(payload[pos:])
    assert b"".join(sink) == blob
    assert decrypt(KEY, encrypt_v1(KEY, payload, iv=iv)) == payload

