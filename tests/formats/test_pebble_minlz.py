"""MinLZ block decoding (Pebble v6+ block compression indicator 8).

No MinLZ-compressed bytes written by Pebble or by the MinLZ encoder were available (the pebble
testdata has none, and no PyPI package or reachable Go module proxy provides an encoder here),
so every element kind is built by hand from minio/minlz SPEC.md ("MINLZ FORMAT SPECIFICATION
V1.0.1", block format, sections 1-2.5.2) and its reference decoder (internal/reference/
decoder.go) for the points the prose leaves open. Pebble uses minlz.Decode for indicator 8
(internal/compression/minlz.go at f82e3ff74d10b1f33df146eefc5661518f868542).
"""

from __future__ import annotations

import cramjam
import pytest

from engine.errors import FormatError
from engine.formats.minlz import MinLZError, decode_block
from engine.formats.sst_format import decompress


def uvarint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    return bytes(out + bytes([v]))


def literal_tag(n: int) -> bytes:
    """Tag 00, repeat bit clear: lengths 1-29 inline, else 30 + 1/2/3 extra bytes."""
    if n <= 29:
        return bytes([(n - 1) << 3])
    extra = n - 30
    width = 1 if extra < 1 << 8 else 2 if extra < 1 << 16 else 3
    return bytes([(28 + width) << 3]) + extra.to_bytes(width, "little")


def block(size: int, body: bytes) -> bytes:
    return b"\x00" + uvarint(size) + body


def test_empty_and_stored_blocks() -> None:
    assert decode_block(b"\x00") == b""
    assert decode_block(b"\x00\x00stored as is") == b"stored as is"  # size 0: rest is literal


ABCD = literal_tag(4) + b"abcd" + bytes([(4 << 2) | (3 << 6) | 1, 0])  # "abcd" + copy 4 back, 8


def test_literals_short_and_long() -> None:
    # A block may not be larger than what it decodes to (SPEC 1.1): literals come with copies.
    assert decode_block(block(12, ABCD)) == b"abcdabcdabcd"
    data = bytes(range(256)) * 3
    copy = bytes([(61 << 2) | 2]) + (256 - 64).to_bytes(2, "little") + bytes([200])
    want = data + (data[-256:] * 2)[:264]
    assert decode_block(block(len(want), literal_tag(len(data)) + data + copy)) == want


def test_copy1_overlapping_is_run_length() -> None:
    # SPEC 2.2: "xababab" = literal "xab", copy offset 2 length 4. Copy1: bits 2-5 length-4,
    # bits 6-7 the low 2 bits of offset-1, next byte its upper bits.
    body = literal_tag(3) + b"xab" + bytes([0x40 | 0x01, 0x00])
    assert decode_block(block(7, body)) == b"xababab"
    # length 15 + extra byte: 18 + 2 = 20 bytes from offset 1
    body = literal_tag(1) + b"q" + bytes([(15 << 2) | 1, 0x00, 2])
    assert decode_block(block(21, body)) == b"q" * 21


def test_repeat_uses_the_last_offset_which_starts_at_1() -> None:
    # SPEC 2.2: <literal "x"> <repeat length 4> -> "xxxxx"
    assert decode_block(block(5, literal_tag(1) + b"x" + bytes([(3 << 3) | 4]))) == b"xxxxx"
    # after a copy with offset 3, a repeat copies from offset 3 again
    body = literal_tag(3) + b"abc" + bytes([((3 - 1) & 3) << 6 | 1, 0]) + bytes([(2 << 3) | 4])
    assert decode_block(block(3 + 4 + 3, body)) == b"abcabcabca"


def test_copy2_with_16_bit_offset() -> None:
    head = bytes(range(70))
    body = literal_tag(70) + head + bytes([(6 << 2) | 2]) + (70 - 64).to_bytes(2, "little")
    assert decode_block(block(80, body)) == head + head[:10]
    # length code 61: 64 + one extra byte
    body = literal_tag(70) + head + bytes([(61 << 2) | 2]) + (6).to_bytes(2, "little") + b"\x05"
    assert decode_block(block(70 + 69, body)) == head + (head * 2)[:69]


def test_fused_copy2_emits_its_literals_first() -> None:
    head = bytes(range(100))
    # tag 3, copy3 bit clear, bits 3-4 literals-1 (2 -> 1), bits 5-7 length-4 (5 -> 1)
    tag = 3 | (1 << 3) | (1 << 5)
    body = literal_tag(100) + head + bytes([tag]) + (80 - 64).to_bytes(2, "little") + b"AB"
    out = head + b"AB"
    want = out + out[len(out) - 80 :][:5]
    assert decode_block(block(len(want), body)) == want


def test_copy3_with_21_bit_offset_and_a_fused_literal() -> None:
    head = bytes((i * 7) & 0xFF for i in range(70000))
    offset, length = 65541, 8
    value = 1 | (1 << 1) | ((length - 4) << 3) | ((offset - 65536) << 9)
    tag = bytes([((value & 0x3F) << 2) | 3]) + (value >> 6).to_bytes(3, "little")
    body = literal_tag(len(head)) + head + tag + b"Z"
    out = head + b"Z"
    want = out + out[len(out) - offset :][:length]
    assert decode_block(block(len(want), body)) == want


def test_corrupt_blocks_are_refused() -> None:
    with pytest.raises(MinLZError, match="before the start"):
        decode_block(block(6, literal_tag(1) + b"x" + bytes([0x41 | 0x80, 0x00])))  # offset 3
    with pytest.raises(MinLZError, match="overruns"):
        decode_block(block(10, ABCD))
    with pytest.raises(MinLZError, match="header says"):
        decode_block(block(13, ABCD))
    with pytest.raises(MinLZError, match="smaller than the compressed"):
        decode_block(block(3, literal_tag(3) + b"abc"))
    with pytest.raises(MinLZError, match="truncated"):
        decode_block(block(40, literal_tag(3) + b"abc" + bytes([2])))
    with pytest.raises(MinLZError, match="8 MiB"):
        decode_block(b"\x00" + uvarint(9 << 20))


def test_snappy_fallback_and_sst_indicator_8() -> None:
    raw = b"hello hello hello hello"
    snappy = bytes(cramjam.snappy.compress_raw(raw))
    assert snappy[0] != 0 and decode_block(snappy) == raw  # SPEC 1.0: fallback allowed
    assert decompress(block(12, ABCD), 8, "f.sst", "data block") == b"abcdabcdabcd"
    with pytest.raises(FormatError, match=r"f\.sst: data block: cannot decompress"):
        decompress(block(13, ABCD), 8, "f.sst", "data block")
