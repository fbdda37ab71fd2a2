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


def test_snappy_agrees_on_valid_and_corrupted_blocks() -> None:
    if not blockscan.AVAILABLE:
        return
    rng = random.Random(2)
    stats = {"same": 0, "deferred": 0}
    for data in _inputs(3, 200):
        snappy = bytes(cramjam.snappy.compress_raw(data))
        for indicator, block in ((COMPRESSION_SNAPPY, snappy),):
            assert native.decompress(indicator, block) == data
            for _ in range(40):
                bad = _corrupt(rng, block)
                got, want = native.decompress(indicator, bad), _python(indicator, bad)
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
