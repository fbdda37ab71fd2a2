"""The native module's building blocks agree with the Python libraries the pure path uses:
CRC-32C (the SSE4.2 loop and the table fallback) with google-crc32c, the stored block checksum
with sst_format.block_checksum (masked CRC-32C; xxhash64's low 32 bits via the xxhash package),
snappy with cramjam through sst_format.decompress. Where the native
decoder returns bytes the Python one must return the same bytes; where Python fails native
must defer (None), on valid and on corrupted inputs."""

from __future__ import annotations

import os
import random

import cramjam
import google_crc32c
import pytest
import xxhash

from engine.errors import FormatError
from engine.formats import blockscan
from engine.formats.sst_format import (
    CHECKSUM_CRC32C,
    CHECKSUM_XXHASH64,
    COMPRESSION_MINLZ,
    COMPRESSION_SNAPPY,
    COMPRESSION_ZSTD,
    block_checksum,
    decompress,
    put_uvarint,
)

if blockscan.AVAILABLE:
    from engine.formats import _blockscan as native
else:  # the CI check in test_native_rows fails then; here the comparisons have nothing to run
    assert os.environ.get("CI") != "true", "engine.formats._blockscan did not build"


def _inputs(seed: int, n: int) -> list[bytes]:
    rng = random.Random(seed)
    out = [b"", b"\0", b"a" * 7, b"a" * 8, b"a" * 9]
    for _ in range(n):
        size = rng.choice((rng.randrange(64), rng.randrange(5000), rng.randrange(70000)))
        if rng.random() < 0.5:
            out.append(rng.randbytes(size))
        else:  # compressible: runs of a few symbols
            out.append(bytes(rng.choice(b"abc\0") for _ in range(size)))
    return out


def _python(indicator: int, block: bytes) -> bytes | None:
    try:
        return decompress(block, indicator, "t", "block")
    except FormatError:
        return None


def _corrupt(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    if out and rng.random() < 0.8:
        for _ in range(rng.randrange(1, 4)):
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    else:
        out = out[: rng.randrange(len(out) + 1)]
    return bytes(out)


def test_crc32c_and_block_checksums_agree() -> None:
    if not blockscan.AVAILABLE:
        return
    for data in _inputs(1, 300):
        for skip in (0, 1, 3):  # unaligned starts
            d = data[skip:]
            assert native.crc32c(d) == google_crc32c.value(d)
            assert native.crc32c(d, True) == google_crc32c.value(d)
            assert native.block_checksum(CHECKSUM_CRC32C, d) == block_checksum(CHECKSUM_CRC32C, d)
            assert native.block_checksum(CHECKSUM_XXHASH64, d) == xxhash.xxh64_intdigest(d) & 0xFFFFFFFF


@pytest.mark.parametrize("portable", [False, True], ids=["ssse3-if-present", "portable"])
def test_snappy_agrees_on_valid_and_corrupted_blocks(portable: bool) -> None:
    if not blockscan.AVAILABLE:
        return
    rng = random.Random(2)
    stats = {"same": 0, "deferred": 0}
    for data in _inputs(3, 200):
        snappy = bytes(cramjam.snappy.compress_raw(data))
        for indicator, block in ((COMPRESSION_SNAPPY, snappy),):
            assert native.decompress(indicator, block, portable) == data
            for _ in range(40):
                bad = _corrupt(rng, block)
                got, want = native.decompress(indicator, bad, portable), _python(indicator, bad)
                if got is None:
                    stats["deferred"] += 1
                else:
                    assert got == want, (indicator, len(bad))
                    stats["same"] += 1
    assert stats["deferred"] > 100 and stats["same"] > 10, stats


def test_zstd_minlz_and_unknown_indicators_defer() -> None:
    """zstd too: Debian's libzstd 1.5.4 decodes corrupt frames (checksum-less, as Pebble writes
    them) that the newer zstd inside cramjam rejects (found by the test above when it covered
    zstd), so zstd blocks are decoded by Python and only their scan is native."""
    if not blockscan.AVAILABLE:
        return
    zstd = put_uvarint(3) + bytes(cramjam.zstd.compress(b"abc"))
    assert native.decompress(COMPRESSION_ZSTD, zstd) is None
    for indicator in (COMPRESSION_MINLZ, 2, 4, 9, 255):
        assert native.decompress(indicator, b"\x00\x01\x02") is None
    assert native.decompress(0, b"plain") == b"plain"


def _tag_stream(rng: random.Random) -> tuple[bytes, bytes | None]:
    """A raw snappy stream built tag by tag, and what it decodes to (None where it is invalid):
    literals in every length form (in the tag, then 1 to 4 bytes after it), the three copy
    forms at every offset up to 70 and every length (short offsets are the overlapping pattern
    copies snappy.c builds in a vector), and now and then an offset of 0 or past the output, a
    wrong decoded length or a stream cut short."""
    out = bytearray()
    body = bytearray()
    valid = True
    for _ in range(rng.randrange(1, 40)):
        if not out or rng.random() < 0.35:
            n = rng.choice((rng.randrange(1, 17), rng.randrange(1, 61), rng.randrange(61, 300)))
            need = ((n - 1).bit_length() + 7) // 8 or 1  # length bytes n - 1 needs
            form = 0 if n <= 60 and rng.random() < 0.8 else rng.randrange(need, 5)
            if form == 0:
                body.append((n - 1) << 2)
            else:
                body.append((59 + form) << 2)
                body += (n - 1).to_bytes(form, "little")
            data = rng.randbytes(n) if rng.random() < 0.5 else bytes(rng.choice(b"ab") for _ in range(n))
            body += data
            out += data
            continue
        kind = rng.choice((1, 2, 3))
        n = rng.randrange(4, 12) if kind == 1 else rng.randrange(1, 65)
        off = rng.randrange(1, min(len(out), 70 if rng.random() < 0.8 else 2047) + 1)
        if rng.random() < 0.005:
            off, valid = rng.choice((0, len(out) + 1)), False
        if kind == 1 and off < 2048:
            body.append(1 | (n - 4) << 2 | (off >> 8) << 5)
            body.append(off & 0xFF)
        else:
            kind = kind if kind != 1 else 2
            body.append(kind | (n - 1) << 2)
            body += off.to_bytes(2 if kind == 2 else 4, "little")
        if valid:
            for _ in range(n):
                out.append(out[-off])
    size = len(out)
    if rng.random() < 0.05:
        size, valid = size + rng.choice((-1, 1)), False
    stream = bytes(put_uvarint(max(size, 0)) + body)
    if rng.random() < 0.05:
        stream, valid = stream[: rng.randrange(len(stream))], False
    return stream, bytes(out) if valid else None


@pytest.mark.parametrize("portable", [False, True], ids=["ssse3-if-present", "portable"])
def test_snappy_tag_by_tag(portable: bool) -> None:
    """snappy.c against cramjam (the Python path's decoder) and a byte-at-a-time reference on
    streams built tag by tag: native accepts exactly what cramjam accepts, with the same bytes,
    and those are the reference's. cramjam is stricter than the format in one place (a literal
    with its length in 1-4 bytes after the tag needs 4 input bytes there: rust-snappy
    src/decompress.rs read_literal, commit 033c471), which snappy.c follows. Both builds of the
    decoder: the one CHECK_FILES uses (SSSE3 where the CPU has it) and the portable one."""
    if not blockscan.AVAILABLE:
        return
    rng = random.Random(4)
    stats = {"valid": 0, "invalid": 0, "cramjam_stricter": 0}
    for _ in range(4000):
        stream, want = _tag_stream(rng)
        got = native.decompress(COMPRESSION_SNAPPY, stream, portable)
        python = _python(COMPRESSION_SNAPPY, stream)
        assert got == python, stream.hex()
        if want is None:
            assert got is None, stream.hex()
            stats["invalid"] += 1
        elif got is None:
            stats["cramjam_stricter"] += 1
        else:
            assert got == want, stream.hex()
            stats["valid"] += 1
    assert stats["valid"] > 3000 and stats["invalid"] > 200 and stats["cramjam_stricter"], stats
