"""CHECK_FILES hands check_sst a view of a reused plaintext buffer: every Pebble-written fixture
SST, intact or damaged, gets the same verdict (entry count, or the same error naming the same
place) from a view as from bytes; and DecryptingReader.plaintext_into fills a reused buffer."""

from __future__ import annotations

import os

import pytest

from engine.errors import FormatError
from engine.formats.buffers import new_buffer
from engine.formats.encrypted_file import DecryptError, DecryptingReader, encrypt, encrypt_v1
from engine.formats.sst import check_sst
from tests.formats.pebble_testdata import FIXTURES

SSTS = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.sst"))


def verdict(data: bytes | bytearray | memoryview) -> str:
    try:
        return f"ok {check_sst(data, name='f.sst')}"
    except FormatError as e:
        return f"error {e}"


def as_view(data: bytes) -> memoryview:
    """`data` at the start of a larger reused buffer, as CHECK_FILES passes it."""
    buf = bytearray(os.urandom(len(data) + 4096))  # stale bytes past the file
    buf[: len(data)] = data
    return memoryview(buf)[: len(data)]


def test_fixtures_found() -> None:
    assert len(SSTS) >= 10


@pytest.mark.parametrize("path", SSTS)
def test_same_verdict_from_a_view(path: str) -> None:
    data = (FIXTURES / path).read_bytes()
    assert verdict(as_view(data)) == verdict(data)
    step = max(1, len(data) // 23)
    for pos in list(range(0, len(data), step)) + [len(data) - 1, len(data) - 9]:
        bad = bytearray(data)
        bad[pos] ^= 0x10
        assert verdict(as_view(bytes(bad))) == verdict(bytes(bad)), pos


KEY = os.urandom(32)


def _reader(blob: bytes, name: str = "x.sst") -> DecryptingReader:
    return DecryptingReader(lambda off, n: blob[off : off + n], len(blob), KEY, name=name)


def test_plaintext_into_reuses_one_buffer() -> None:
    sizes = [5 * 65536 + 7, 0, 65536, 3 * 65536 + 1, 100]
    scratch = new_buffer(max(sizes) + 40)
    for n in sizes:
        plain = os.urandom(n)
        for blob in (encrypt(KEY, plain), encrypt_v1(KEY, plain)):
            view = _reader(blob).plaintext_into(scratch)
            assert len(view) == n and view == plain
            assert view.obj is scratch


def test_plaintext_into_errors() -> None:
    blob = encrypt(KEY, os.urandom(2 * 65536 + 5))
    with pytest.raises(ValueError, match="buffer of 10 bytes"):
        _reader(blob).plaintext_into(bytearray(10))
    bad = bytearray(blob)
    bad[20 + 65552 + 3] ^= 1
    with pytest.raises(DecryptError, match=r"x.sst: failed to decrypt: wrong key or corrupted data \(chunk 1\)"):
        _reader(bytes(bad)).plaintext_into(bytearray(len(blob)))
    out = _reader(blob).plaintext()
    out += b"resizable"  # plaintext() leaves no view of its buffer behind
