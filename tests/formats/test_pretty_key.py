"""engine.formats.pretty_key against CockroachDB's own expected texts.

Expected strings are copied from cockroachdb/cockroach pkg/keys/printer_test.go `TestPrettyPrint`
(commit 0050edb74f6c57ac389e7d02e72eadeebcf16f5d), where keys.PrettyPrint(nil, key) and
key.String() must both give them. The keys are built here with encoders written from
pkg/util/encoding/encoding.go (EncodeVarintAscending, EncodeFloatAscending/Descending,
EncodeBytesAscending/Descending, EncodeTimeAscending/Descending, EncodeNull*/EncodeNotNull*),
independently of engine/formats/keys.py. Cases marked "from printer.go" have no upstream test;
their text follows from the KeyDict in printer.go (`/NamespaceTable`, `/Table/Max`, ...).
"""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from engine.formats.pretty_key import go_format_float, go_quote, pretty_key


def uvarint(v: int) -> bytes:
    if v <= 109:
        return bytes([0x88 + v])
    body = v.to_bytes((v.bit_length() + 7) // 8, "big")
    return bytes([0x88 + 109 + len(body)]) + body


def varint(v: int) -> bytes:
    if v >= 0:
        return uvarint(v)
    for n in range(1, 9):
        if v >= -(256**n - 1) or n == 8:
            return bytes([0x80 + 8 - n]) + (v & (256**n - 1)).to_bytes(n, "big")
    raise AssertionError


def f_asc(f: float) -> bytes:
    if math.isnan(f):
        return b"\x02"
    if f == 0:
        return b"\x04"
    u = struct.unpack(">Q", struct.pack(">d", f))[0]
    if u >> 63:
        return b"\x03" + (u ^ (2**64 - 1)).to_bytes(8, "big")
    return b"\x05" + u.to_bytes(8, "big")


def f_desc(f: float) -> bytes:
    return b"\x06" if math.isnan(f) else f_asc(-f)


def b_asc(v: bytes) -> bytes:
    return b"\x12" + v.replace(b"\x00", b"\x00\xff") + b"\x00\x01"


def b_desc(v: bytes) -> bytes:
    return b"\x13" + bytes(x ^ 0xFF for x in v.replace(b"\x00", b"\x00\xff") + b"\x00\x01")


TM_SEC, TM_NSEC = 1459345235, 53725008  # 2016-03-30T13:40:35.053725008Z


def t_asc() -> bytes:
    return b"\x14" + varint(TM_SEC) + varint(TM_NSEC)


def t_desc() -> bytes:
    return b"\x14" + varint(~TM_SEC) + varint(~TM_NSEC)


def uvarint_desc(v: int) -> bytes:
    if v == 0:
        return b"\x88"
    n = (v.bit_length() + 7) // 8
    return bytes([0x88 - n]) + (v ^ (256**n - 1)).to_bytes(n, "big")


def dec_asc(d: Decimal) -> bytes:
    """EncodeDecimalAscending, from the layout described in pkg/util/encoding/decimal.go."""
    if d.is_nan():
        return b"\x18"
    if d.is_infinite():
        return b"\x19" if d < 0 else b"\x35"
    if d == 0:
        return b"\x27"
    sign, digits, exp = d.as_tuple()
    coeff = str(int("".join(map(str, digits))))
    e10 = exp + len(coeff)
    tmp = ("0" + coeff).rstrip("0")
    e100 = (e10 + 1) // 2 if e10 >= 0 else -((-e10) // 2)  # Go's / truncates toward zero
    if e100 * 2 == e10:
        tmp = tmp[1:]
    if len(tmp) % 2:
        tmp += "0"
    m = bytearray(2 * int(tmp[i : i + 2]) + 1 for i in range(0, len(tmp), 2))
    m[-1] -= 1
    neg = bool(sign)
    mm = bytes(x ^ 0xFF for x in m) if neg else bytes(m)
    if e100 < 0:
        head = b"\x26" + uvarint(-e100) if neg else b"\x28" + uvarint_desc(-e100)
    elif e100 <= 10:
        head = bytes([0x25 - e100]) if neg else bytes([0x29 + e100])
    else:
        head = b"\x1a" + uvarint_desc(e100) if neg else b"\x34" + uvarint(e100)
    return head + mm + b"\x00"


def table(tid: int, *parts: bytes) -> bytes:
    return uvarint(tid) + b"".join(parts)


def tenant(tid: int) -> bytes:
    return b"\xfe" + uvarint(tid)


def prefix_end(key: bytes) -> bytes:
    out = bytearray(key)
    while out and out[-1] == 0xFF:
        out.pop()
    out[-1] += 1
    return bytes(out)


T42 = table(42)
CASES = [
    # constants, meta, system (TestPrettyPrint)
    (b"", "/Min"),
    (b"\xff\xff", "/Max"),
    (b"\x02\xff\xff", "/Meta1/Max"),
    (b"\x03\xff\xff", "/Meta2/Max"),
    (b"\x02", '/Meta1/""'),  # LocalMax == Meta1Prefix
    (b"\x03foo", '/Meta2/"foo"'),
    (b"\x02foo", '/Meta1/"foo"'),
    (b"\x03f", '/Meta2/"f"'),
    (b"\x03" + T42 + b"foo", '/Meta2/Table/42/"foo"'),
    (b"\x04\x00liveness-" + uvarint(10033), "/System/NodeLiveness/10033"),
    (b"\x04status-node-" + uvarint(1111), "/System/StatusNode/1111"),
    (b"\x05", "/System/Max"),
    # system tenant tables
    (table(111), "/Table/111"),
    (table(42, uvarint(1)), "/Table/42/1"),
    (table(42, b"foo"), '/Table/42/"foo"'),
    (table(42, f_asc(233.221112)), "/Table/42/233.221112"),
    (table(42, f_desc(-233.221112)), "/Table/42/233.221112"),
    (table(42, f_asc(math.inf)), "/Table/42/+Inf"),
    (table(42, f_asc(math.nan)), "/Table/42/NaN"),
    (table(42, varint(1222), b_asc(b"handsome man")), '/Table/42/1222/"handsome man"'),
    (table(42, varint(1222)), "/Table/42/1222"),
    (table(42, varint(~1222)), "/Table/42/-1223"),  # EncodeVarintDescending(1222)
    (table(42, b_asc(bytes([1, 2, 8, 255]))), r'/Table/42/"\x01\x02\b\xff"'),
    (table(42, b_asc(bytes([1, 2, 8, 255])), b"bar"), r'/Table/42/"\x01\x02\b\xff"/"bar"'),
    (table(42, b_desc(bytes([1, 2, 8, 255])), b"bar"), r'/Table/42/"\x01\x02\b\xff"/"bar"'),
    (table(42, b"\x00"), "/Table/42/NULL"),
    (table(42, b"\xff"), "/Table/42/NULL"),
    (table(42, b"\x01"), "/Table/42/!NULL"),
    (table(42, b"\xfe"), "/Table/42/!NULL"),
    (table(42, t_asc()), "/Table/42/2016-03-30T13:40:35.053725008Z"),
    (table(42, t_desc()), "/Table/42/1923-10-04T10:19:23.946274991Z"),
    (table(55, uvarint(1), uvarint(0), uvarint(0)), "/Table/55/1/0/0"),  # SequenceKey(55)
    (table(42, dec_asc(Decimal("12.34"))), "/Table/42/12.34"),
    (table(42, dec_asc(Decimal("-12.34"))), "/Table/42/-12.34"),  # = EncodeDecimalDescending(12.34)
    (table(42, b"\xf6"), "/Table/42/109/PrefixEnd"),
    (table(42, b"\xf7"), "/Table/42/255/PrefixEnd"),
    (table(42, b"\x12a\x00\x02"), '/Table/42/"a"/PrefixEnd'),
    (table(42, b"\x12a\x00\x03"), "/Table/42/???"),
    (table(61, b_asc("☃⚠".encode())), '/Table/61/"☃⚠"'),
    (table(61, b_asc(b"\xff\xff")), r'/Table/61/"\xff\xff"'),
    # secondary tenant
    (tenant(5), "/Tenant/5"),
    (tenant(5) + table(0), "/Tenant/5/Table/0"),
    (tenant(5) + table(50), "/Tenant/5/Table/50"),
    (tenant(5) + table(111), "/Tenant/5/Table/111"),
    (tenant(5) + table(42, uvarint(1)), "/Tenant/5/Table/42/1"),
    (tenant(5) + table(42, b"foo"), '/Tenant/5/Table/42/"foo"'),
    (tenant(5) + table(42, varint(1222), b_asc(b"handsome man")), '/Tenant/5/Table/42/1222/"handsome man"'),
    (tenant(5) + table(42, varint(~1222)), "/Tenant/5/Table/42/-1223"),
    (tenant(5) + table(42, b"\x01"), "/Tenant/5/Table/42/!NULL"),
    (tenant(5) + table(42, t_desc()), "/Tenant/5/Table/42/1923-10-04T10:19:23.946274991Z"),
    (tenant(5) + table(55, uvarint(1), uvarint(0), uvarint(0)), "/Tenant/5/Table/55/1/0/0"),
    (tenant(5) + table(42, b"\xf7"), "/Tenant/5/Table/42/255/PrefixEnd"),
    (tenant(5) + table(42, b"\x12a\x00\x03"), "/Tenant/5/Table/42/???"),
    # from printer.go's KeyDict (no upstream test case)
    (table(0), "/Table/0"),
    (table(30), "/NamespaceTable/30"),
    (table(30, uvarint(1)), "/NamespaceTable/30/1"),
    (table(31), "/NamespaceTable/Max"),  # NamespaceTableMax is inclusive
    (b"\xfa", "/Table/Max"),  # TablePrefix(MaxUint32).PrefixEnd()
    (b"\xfe\xfe", "/Tenant/Max"),
    (tenant(10) + b"\xff\xff", "/Tenant/10/Max"),
    (table(104, uvarint(1), varint(-5), uvarint(0)), "/Table/104/1/-5/0"),
    (table(104, uvarint(1), varint(2**40)), "/Table/104/1/1099511627776"),
    (table(104, uvarint(1), b"\x0a", b"\x0b", b"\x0d"), "/Table/104/1/True/False/Arr"),
    (table(104, uvarint(1), b_asc(b"a\x00b")), r'/Table/104/1/"a\x00b"'),
    (table(104, uvarint(1), b_asc("é\t\"\\".encode())), '/Table/104/1/"é\\t\\"\\\\"'),
    (prefix_end(table(104, uvarint(1), b_asc(b"zz"))), '/Table/104/1/"zz"/PrefixEnd'),
    (prefix_end(table(104, uvarint(1))), "/Table/104/2"),
    (prefix_end(table(104)), "/Table/105"),
    (table(104, uvarint(1), b"\xfd\xff\xff\xff\xff\xff\xff\xff\xff"), "/Table/104/1/???"),  # > MaxInt64
    (b"\xfb", r'"\xfb"'),  # between /Table/Max and /Tenant: no KeyDict entry, Go-quoted
    # decimals in every size class, printed as apd's Decimal.String (to-scientific-string)
    (table(104, uvarint(1), dec_asc(Decimal("0.001"))), "/Table/104/1/0.001"),
    (table(104, uvarint(1), dec_asc(Decimal("-0.000123"))), "/Table/104/1/-0.000123"),
    (table(104, uvarint(1), dec_asc(Decimal("1E-20"))), "/Table/104/1/1E-20"),
    (table(104, uvarint(1), dec_asc(Decimal("10"))), "/Table/104/1/1E+1"),  # trailing zeros are not kept
    (table(104, uvarint(1), dec_asc(Decimal("123456789.5"))), "/Table/104/1/123456789.5"),
    (table(104, uvarint(1), dec_asc(Decimal("1.5E+30"))), "/Table/104/1/1.5E+30"),
    (table(104, uvarint(1), dec_asc(Decimal("-7E+25"))), "/Table/104/1/-7E+25"),
    (table(104, uvarint(1), dec_asc(Decimal(0)), dec_asc(Decimal("NaN"))), "/Table/104/1/0/NaN"),
    (table(104, uvarint(1), dec_asc(Decimal("Infinity")), dec_asc(Decimal("-Infinity"))), "/Table/104/1/Infinity/-Infinity"),
]


@pytest.mark.parametrize(("key", "text"), CASES, ids=[c[1] for c in CASES])
def test_pretty_key_matches_cockroachdb(key: bytes, text: str) -> None:
    assert pretty_key(key) == text


def test_time_text_without_fraction() -> None:
    sec = int(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp())
    key = table(104, uvarint(1), b"\x14" + varint(sec) + varint(0))
    assert pretty_key(key) == "/Table/104/1/2024-01-02T03:04:05Z"


@pytest.mark.parametrize(
    ("f", "text"),
    [(1.5, "1.5"), (1e6, "1e+06"), (123456.0, "123456"), (1234567.0, "1.234567e+06"), (0.0001, "0.0001"),
     (0.00001, "1e-05"), (-2.5e-10, "-2.5e-10"), (1e21, "1e+21"), (3.0, "3"), (-0.0, "-0"), (-math.inf, "-Inf")],
)
def test_go_format_float(f: float, text: str) -> None:
    # Go strconv.FormatFloat(f, 'g', -1, 64) (ftoa.go: %e when exp < -4 || exp >= 6 for shortest).
    assert go_format_float(f) == text


def test_go_quote() -> None:
    # strconv.Quote: printable runes kept, \a\b\f\n\r\t\v named, other controls \x, bad UTF-8 \x.
    assert go_quote(b'\x07\x08\x0c\n\r\t\x0b"\\') == r'"\a\b\f\n\r\t\v\"\\"'
    assert go_quote(b"\x00\x7f\xc3") == r'"\x00\x7f\xc3"'
    assert go_quote("\u200b\U0001f600".encode()) == '"\\u200b\U0001f600"'  # Cf escaped, emoji kept
    assert go_quote(b"\xed\xa0\x80") == r'"\xed\xa0\x80"'  # an encoded surrogate is invalid UTF-8
