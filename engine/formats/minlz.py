"""A MinLZ block decoder (Pebble v6+ may compress SST blocks with MinLZ, indicator 8).

No PyPI package decodes MinLZ, so this follows the format specification, minio/minlz SPEC.md
("MINLZ FORMAT SPECIFICATION V1.0.1", block format) and its reference decoder's behaviour on
the points the prose leaves open. This implements the MinLZ specification v1.0, block format
only (no streams, no dictionaries).

    0x00 ‖ uvarint(decoded length) ‖ elements        (a lone 0x00 is the empty block)

A decoded length of 0 means the rest is stored literally. Each element starts with a tag byte
whose low 2 bits select: 0 literals or repeat-last-offset copy, 1 copy with a 10-bit offset,
2 copy with a 16-bit offset (+64), 3 fused literals + copy (16-bit offset + 64, or 21-bit + 65536).
"""

from __future__ import annotations

import cramjam

MAX_BLOCK_SIZE = 8 << 20


class MinLZError(ValueError):
    """Input that is not a valid MinLZ block."""


def decode_block(src: bytes) -> bytes:
    src = bytes(src)
    if not src:
        raise MinLZError("empty input")
    if src[0] != 0:
        # The spec lets a decoder fall back to Snappy for blocks without the 0 indicator.
        try:
            return bytes(cramjam.snappy.decompress_raw(src))
        except cramjam.DecompressionError as exc:
            raise MinLZError(f"not MinLZ and not Snappy ({exc})") from None
    if len(src) == 1:
        return b""
    want = shift = 0
    pos = 1
    while True:
        if pos >= len(src) or shift > 63:
            raise MinLZError("truncated decoded length")
        b = src[pos]
        pos += 1
        want |= (b & 0x7F) << shift
        shift += 7
        if want > MAX_BLOCK_SIZE:
            raise MinLZError(f"decoded length {want} exceeds the 8 MiB block limit")
        if b < 0x80:
            break
    if want == 0:
        return src[pos:]
    if want < len(src) - pos:
        raise MinLZError("decoded length is smaller than the compressed data")
    out = bytearray()
    n = len(src)
    offset = 1  # the repeat offset starts at 1

    def take(count: int) -> int:
        nonlocal pos
        if pos + count > n:
            raise MinLZError(f"truncated element at output position {len(out)}")
        v = int.from_bytes(src[pos : pos + count], "little")
        pos += count
        return v

    def literal(count: int) -> None:
        nonlocal pos
        if pos + count > n or len(out) + count > want:
            raise MinLZError(f"literal of {count} bytes overruns at output position {len(out)}")
        out.extend(src[pos : pos + count])
        pos += count

    while pos < n:
        tag_byte = src[pos]
        pos += 1
        tag, value = tag_byte & 3, tag_byte >> 2
        if tag == 0:
            repeat = value & 1
            value >>= 1
            length = value + 1 if value < 29 else 30 + take(value - 28)
            if not repeat:
                literal(length)
                continue
        elif tag == 1:
            low = value & 15
            offset = ((take(1) << 2) | (value >> 4)) + 1
            length = 18 + take(1) if low == 15 else low + 4
        elif tag == 2:
            offset = take(2) + 64
            length = value + 4 if value <= 60 else 64 + take(value - 60)
        else:
            lits = (value >> 1) & 3
            if not value & 1:  # fused copy2: 1-4 literals, length 4-11
                offset = take(2) + 64
                length = (value >> 3) + 4
                lits += 1
            else:  # copy3 with 0-3 fused literals
                value |= take(3) << 6
                offset = (value >> 9) + 65536
                code = (value >> 3) & 63
                length = code + 4 if code < 61 else 64 + take(code - 60)
            literal(lits)
        if len(out) + length > want:
            raise MinLZError(f"copy of {length} bytes overruns at output position {len(out)}")
        if offset > len(out):
            raise MinLZError(f"copy offset {offset} reaches before the start of the block")
        start = len(out) - offset
        if offset >= length:
            out += out[start : start + length]
        else:  # overlapping copy: the pattern repeats
            chunk = out[start:]
            reps, rest = divmod(length, offset)
            out += chunk * reps + chunk[:rest]
    if len(out) != want:
        raise MinLZError(f"decoded {len(out)} bytes, the block header says {want}")
    return bytes(out)
