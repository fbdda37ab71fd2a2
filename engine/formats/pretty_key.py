"""roachpb.Key.String(): CockroachDB's pretty form of a key (`/Table/104/1/"abc"/0`, `/Max`).

SHOW BACKUP FILES / RANGES print span keys this way (`start_pretty`, `end_pretty`), so the text
must be CockroachDB's own. Learned from (read, not copied):

* pkg/roachpb/data.go `Key.String` -> `StringWithDirs(nil, 0)` -> `PrettyPrintKey` (keys.PrettyPrint)
* pkg/keys/printer.go, the current redact-based version (`PrettyPrint` -> `safeFormatInternal`,
  `formatTableKey`, `formatTenantKey`, `decodeKeyPrint`, KeyDict built in `init`), and the
  older one at cockroachdb/cockroach commit 74e17666a23dade142794c93350fe1bf0d59c570
  (`prettyPrintInternal`, `tenantKeyPrint`); expected texts from pkg/keys/printer_test.go
  `TestPrettyPrint` at commit 0050edb74f6c57ac389e7d02e72eadeebcf16f5d
* pkg/keys/constants.go (key space bounds), same repository
* pkg/util/encoding/encoding.go `PrettyPrintValue` / `prettyPrintValueImpl` /
  `prettyPrintFirstValue` / `UndoPrefixEnd` / `PeekType` and the decoders they call
* Go's strconv.Quote and strconv.FormatFloat(f, 'g', -1, 64) for the value texts

Key columns are decoded with the default (ascending) direction, as Key.String does. Modelled:
NULL, !NULL, True, False, Arr, ints, floats, bytes/strings (ascending and descending),
timestamps, decimals (pkg/util/encoding/decimal.go `decodeDecimal`, commit
0116efa235b0dfd0e4fb375171b1e140e0cf9605, printed as apd's to-scientific-string); the
undecodable tail (`/???`) and the `PrefixEnd` retry. Not modelled (their bytes are printed
Go-quoted instead, which is NOT CockroachDB's text): duration, time-tz, bit array, array-key,
JSON/geo inverted key columns, and the detailed printers of /Local and /System/tsd keys.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta
from decimal import Decimal

# pkg/keys/constants.go
MIN_KEY = b""
MAX_KEY = b"\xff\xff"
LOCAL_PREFIX, LOCAL_MAX = b"\x01", b"\x02"
META1_PREFIX, META1_MAX = b"\x02", b"\x02\xff\xff"
META2_PREFIX, META2_MAX = b"\x03", b"\x03\xff\xff"
SYSTEM_PREFIX, SYSTEM_MAX = b"\x04", b"\x05"
NAMESPACE_TABLE_ID = 30
TABLE_DATA_MIN = b"\x88"  # TablePrefix(0)
TABLE_DATA_MAX = b"\xfa"  # TablePrefix(MaxUint32).PrefixEnd()
TENANT_DATA_MIN = b"\xfe\x8a"  # MakeTenantPrefix(MinTenantID = 2)
TENANT_DATA_MAX = b"\xfe\xfe"  # MakeTenantPrefix(MaxUint64).PrefixEnd()

# pkg/util/encoding/encoding.go markers
_NULL, _NOT_NULL, _NOT_NULL_DESC, _NULL_DESC = 0x00, 0x01, 0xFE, 0xFF
_FLOAT_NAN, _FLOAT_NEG, _FLOAT_ZERO, _FLOAT_POS, _FLOAT_NAN_DESC = 0x02, 0x03, 0x04, 0x05, 0x06
_BYTES, _BYTES_DESC, _TIME = 0x12, 0x13, 0x14
_TRUE, _FALSE, _ARRAY = 10, 11, 13  # byte(encoding.True), byte(False), byte(Array)
_INT_MIN, _INT_ZERO, _INT_SMALL, _INT_MAX = 0x80, 0x88, 109, 0xFD
# decimal.go markers (decimalNaN = 0x18 ... decimalNaNDesc = 0x36)
_DEC_NAN, _DEC_NEG_INF, _DEC_NEG_LARGE, _DEC_NEG_MEDIUM, _DEC_NEG_SMALL = 0x18, 0x19, 0x1A, 0x25, 0x26
_DEC_ZERO, _DEC_POS_SMALL, _DEC_POS_MEDIUM, _DEC_POS_LARGE, _DEC_INF, _DEC_NAN_DESC = (
    0x27, 0x28, 0x29, 0x34, 0x35, 0x36,
)
_MAX_INT64 = (1 << 63) - 1
_PREFIX_END_TRIES = 20


class _Undecodable(Exception):
    """A value prettyPrintFirstValue fails on: printed as `???`, the rest of the key dropped."""


# --- Go formatting -----------------------------------------------------------------------------


def go_quote(data: bytes) -> str:
    """strconv.Quote(string(data)): valid UTF-8 runes that are printable stay, others escaped."""
    out = ['"']
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            out.append(_escape_rune(chr(b)))
            i += 1
            continue
        width = 2 if 0xC0 <= b < 0xE0 else 3 if 0xE0 <= b < 0xF0 else 4 if 0xF0 <= b < 0xF8 else 0
        try:
            ch = data[i : i + width].decode("utf-8") if width else ""
        except UnicodeDecodeError:
            ch = ""
        if len(ch) != 1:  # utf8.DecodeRune: (RuneError, 1) for an invalid sequence
            out.append(f"\\x{b:02x}")
            i += 1
            continue
        out.append(_escape_rune(ch))
        i += width
    out.append('"')
    return "".join(out)


_SIMPLE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _escape_rune(ch: str) -> str:
    if ch in ('"', "\\"):
        return "\\" + ch
    if ch.isprintable():  # unicode.IsPrint: L, M, N, P, S and U+0020, as str.isprintable
        return ch
    if ch in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[ch]
    r = ord(ch)
    if r < 0x20 or r == 0x7F:
        return f"\\x{r:02x}"
    if r < 0x10000:
        return f"\\u{r:04x}"
    return f"\\U{r:08x}"


def go_format_float(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64): shortest digits; %e when exp < -4 or exp >= 6."""
    if f != f:
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if struct.pack(">d", f)[0] & 0x80 else "0"
    sign, digits, exp = Decimal(repr(f)).normalize().as_tuple()
    ds = "".join(map(str, digits))
    point = len(ds) + int(exp)  # decimal point position: value = 0.ds * 10^point
    x = point - 1
    neg = "-" if sign else ""
    if x < -4 or x >= 6:  # ftoa.go: shortest %g decides with precision 6
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        return f"{neg}{mant}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{ds}"
    if point >= len(ds):
        return f"{neg}{ds}{'0' * (point - len(ds))}"
    return f"{neg}{ds[:point]}.{ds[point:]}"


def _rfc3339nano(t: datetime, nanos: int) -> str:
    """time.Time.UTC().Format(time.RFC3339Nano): fraction without trailing zeros."""
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text + "Z"


# --- encoding.go decoders -----------------------------------------------------------------------


def _uvarint(b: bytes) -> tuple[int, bytes]:
    if not b:
        raise _Undecodable("insufficient bytes to decode uvarint value")
    length = b[0] - _INT_ZERO
    if length <= _INT_SMALL:
        if length < 0:
            raise _Undecodable("invalid uvarint length")
        return length, b[1:]
    length -= _INT_SMALL
    if length > 8 or len(b) - 1 < length:
        raise _Undecodable("invalid uvarint")
    return int.from_bytes(b[1 : 1 + length], "big"), b[1 + length :]


def _varint(b: bytes) -> tuple[int, bytes]:
    """DecodeVarintAscending: negative values have length markers below 0x88."""
    if not b:
        raise _Undecodable("insufficient bytes to decode varint value")
    length = b[0] - _INT_ZERO
    if length < 0:
        length = -length
        rest = b[1:]
        if len(rest) < length:
            raise _Undecodable("insufficient bytes to decode varint value")
        v = 0
        for t in rest[:length]:
            v = (v << 8) | (t ^ 0xFF)
        return ~v, rest[length:]
    v, rest = _uvarint(b)
    if v > _MAX_INT64:
        raise _Undecodable("varint overflows int64")
    return v, rest


def _bytes(b: bytes, desc: bool) -> tuple[bytes, bytes]:
    """decodeBytesInternal with the ascending (0x00 escapes) or descending (0xff) escapes."""
    esc, term, esc00, escff = (0xFF, 0xFE, 0x00, 0xFF) if desc else (0x00, 0x01, 0xFF, 0x00)
    b = b[1:]
    out = bytearray()
    while True:
        i = b.find(bytes([esc]))
        if i < 0 or i + 1 >= len(b):
            raise _Undecodable("did not find terminator")
        v = b[i + 1]
        if v == term:
            out += b[:i]
            value = bytes(x ^ 0xFF for x in out) if desc else bytes(out)
            return value, b[i + 2 :]
        if v != esc00:
            raise _Undecodable("unknown escape sequence")
        out += b[:i]
        out.append(escff)
        b = b[i + 2 :]


def _float(b: bytes) -> tuple[float, bytes]:
    m = b[0]
    if m in (_FLOAT_NAN, _FLOAT_NAN_DESC):
        return float("nan"), b[1:]
    if m == _FLOAT_ZERO:
        return 0.0, b[1:]
    if len(b) < 9:
        raise _Undecodable("insufficient bytes to decode uint64 int value")
    u = int.from_bytes(b[1:9], "big")
    if m == _FLOAT_NEG:
        u ^= (1 << 64) - 1
    return struct.unpack(">d", u.to_bytes(8, "big"))[0], b[9:]


def _uvarint_desc(b: bytes) -> tuple[int, bytes]:
    if not b:
        raise _Undecodable("insufficient bytes to decode uvarint value")
    length = _INT_ZERO - b[0]
    if not 0 <= length <= 8 or len(b) - 1 < length:
        raise _Undecodable("invalid uvarint length")
    v = 0
    for t in b[1 : 1 + length]:
        v = (v << 8) | (t ^ 0xFF)
    return v, b[1 + length :]


def _decimal(b: bytes) -> tuple[str, bytes]:
    """DecodeDecimalAscending + apd's Decimal.String (GDA to-scientific-string, as Python's)."""
    m = b[0]
    specials = {_DEC_NAN: "NaN", _DEC_NAN_DESC: "NaN", _DEC_INF: "Infinity", _DEC_NEG_INF: "-Infinity", _DEC_ZERO: "0"}
    if m in specials:
        return specials[m], b[1:]
    negative = m <= _DEC_NEG_SMALL
    if m in (_DEC_NEG_LARGE, _DEC_POS_SMALL):
        ex, rest = _uvarint_desc(b[1:])
    elif m in (_DEC_NEG_SMALL, _DEC_POS_LARGE):
        ex, rest = _uvarint(b[1:])
    else:
        ex, rest = (_DEC_NEG_MEDIUM - m) if negative else (m - _DEC_POS_MEDIUM), b[1:]
    e = -ex if m in (_DEC_NEG_SMALL, _DEC_POS_SMALL) else ex
    end = rest.find(b"\x00")
    if end < 0:
        raise _Undecodable("did not find decimal terminator")
    mantissa, rest = rest[:end], rest[end + 1 :]
    if negative:
        mantissa = bytes(x ^ 0xFF for x in mantissa)
    if not mantissa:
        raise _Undecodable("expected mantissa, got zero bytes")
    digits = ""
    for v in mantissa:
        t = v // 2
        if t > 99:
            raise _Undecodable("base-100 encoded digit out of range")
        digits += f"{t:02d}"
    if digits.endswith("0"):
        digits = digits[:-1]
    exponent = 2 * e - len(digits)
    coeff = tuple(int(c) for c in str(int(digits)))
    return str(Decimal((1 if negative else 0, coeff, exponent))), rest


def _time(b: bytes) -> tuple[str, bytes]:
    sec, rest = _varint(b[1:])
    nsec, rest = _varint(rest)
    total = sec * 1_000_000_000 + nsec  # timeutil.Unix(sec, nsec) normalises nsec
    s, ns = divmod(total, 1_000_000_000)
    try:
        t = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=s)
    except OverflowError:
        raise _Undecodable("time out of range") from None
    return _rfc3339nano(t, ns), rest


def _first_value(b: bytes) -> tuple[str, bytes]:
    """prettyPrintFirstValue with no direction given (Key.String passes none)."""
    m = b[0]
    if m in (_NULL, _NULL_DESC):
        return "NULL", b[1:]
    if m == _TRUE:
        return "True", b[1:]
    if m == _FALSE:
        return "False", b[1:]
    if m == _ARRAY:
        return "Arr", b[1:]
    if m in (_NOT_NULL, _NOT_NULL_DESC):
        # Both directions print !NULL now (TestPrettyPrint); releases with interleaved tables
        # printed the descending byte as the sentinel "#".
        return "!NULL", b[1:]
    if _INT_MIN <= m <= _INT_MAX:
        v, rest = _varint(b)
        return str(v), rest
    if _FLOAT_NAN <= m <= _FLOAT_NAN_DESC:
        f, rest = _float(b)
        return go_format_float(f), rest
    if m in (_BYTES, _BYTES_DESC):
        value, rest = _bytes(b, desc=m == _BYTES_DESC)
        return go_quote(value), rest
    if m == _TIME:
        return _time(b)
    if _DEC_NAN <= m <= _DEC_NAN_DESC:
        return _decimal(b)
    # Unknown tag (and the types not modelled here): the rest of the key, quoted.
    return go_quote(b), b""


def _pretty_values_impl(b: bytes) -> tuple[str, bool]:
    out = []
    while b:
        try:
            text, b = _first_value(b)
        except _Undecodable:
            out.append("/???")
            return "".join(out), False
        out.append("/" + text)
    return "".join(out), True


def pretty_print_value(b: bytes) -> str:
    """encoding.PrettyPrintValue(nil, b, "/"), with its PrefixEnd retry."""
    text, ok = _pretty_values_impl(b)
    if ok or not b or b[-1] == 0:  # UndoPrefixEnd refuses empty keys and keys ending in 00
        return text
    undone = b[:-1] + bytes([b[-1] - 1])
    for _ in range(_PREFIX_END_TRIES):
        retry, ok = _pretty_values_impl(undone)
        if ok:
            return retry + "/PrefixEnd"
        undone += b"\xff"
    return text


# --- printer.go ---------------------------------------------------------------------------------


def _table_prefix(table_id: int) -> bytes:
    if table_id <= _INT_SMALL:
        return bytes([_INT_ZERO + table_id])
    body = table_id.to_bytes((table_id.bit_length() + 7) // 8, "big")
    return bytes([_INT_ZERO + _INT_SMALL + len(body)]) + body


_NAMESPACE_MIN = _table_prefix(NAMESPACE_TABLE_ID)
_NAMESPACE_MAX = _table_prefix(NAMESPACE_TABLE_ID + 1)


def _decode_key_print(key: bytes) -> str:
    """decodeKeyPrint / formatTableKey: the values after the keyspace name.

    Older releases (printer.go at 74e17666) printed TablePrefix(0) as /SystemConfigSpan/Start;
    the current printer has no such case (/Table/0), and neither does a tenant's /Table/0.
    """
    return pretty_print_value(key)


def _tenant_key_print(key: bytes) -> str:
    try:
        tenant, rest = _uvarint(key[1:])
    except _Undecodable as e:
        return f"/err:{e}"
    if not rest:
        return f"/{tenant}"
    return f"/{tenant}{pretty_key(rest)}"


_SYSTEM_ENTRIES = (
    ("/NodeLiveness", SYSTEM_PREFIX + b"\x00liveness-"),
    ("/NodeLivenessMax", SYSTEM_PREFIX + b"\x00liveness."),
    ("/StatusNode", SYSTEM_PREFIX + b"status-node-"),
    ("/tsd", SYSTEM_PREFIX + b"tsd"),
    ("/SystemSpanConfigKeys", SYSTEM_PREFIX + b"\xffsys-scfg"),
)
_LOCAL_ENTRIES = (
    ("/Store", b"\x01s"),
    ("/RangeID", b"\x01i"),
    ("/Range", b"\x01k"),
    ("/Lock", b"\x01z"),
)


def _in_dict(key: bytes) -> str | None:
    """prettyPrintInternal's helper over KeyDict (ranges are inclusive of their end)."""
    spans = (
        ("/Local", LOCAL_PREFIX, LOCAL_MAX),
        ("/Meta1", META1_PREFIX, META1_MAX),
        ("/Meta2", META2_PREFIX, META2_MAX),
        ("/System", SYSTEM_PREFIX, SYSTEM_MAX),
        ("/NamespaceTable", _NAMESPACE_MIN, _NAMESPACE_MAX),
        ("/Table", TABLE_DATA_MIN, TABLE_DATA_MAX),
        ("/Tenant", TENANT_DATA_MIN, TENANT_DATA_MAX),
    )
    for name, start, end in spans:
        if not start <= key <= end:
            continue
        if key == end:
            return name + "/Max"
        if name in ("/NamespaceTable", "/Table"):
            return name + _decode_key_print(key)
        if name == "/Tenant":
            return name + _tenant_key_print(key)
        if name in ("/Meta1", "/Meta2"):
            return name + "/" + go_quote(key[1:])  # the Meta entries' prefix is the range start
        entries = _SYSTEM_ENTRIES if name == "/System" else _LOCAL_ENTRIES
        for entry, prefix in entries:
            if key.startswith(prefix):
                rest = key[len(prefix) :]
                # /System entries decode their tail; /Local ones (not modelled) are quoted.
                return name + entry + (
                    _decode_key_print(rest) if name == "/System" and entry != "/tsd" else go_quote(rest)
                )
        return name + '/"' + key[len(start) :].decode("latin-1") + '"'  # raw bytes, not escaped
    return None


def pretty_key(key: bytes) -> str:
    """keys.PrettyPrint(nil, key) (quoteRawKeys), i.e. what roachpb.Key.String() returns."""
    key = bytes(key)
    for name, value in (("/Max", MAX_KEY), ("/Min", MIN_KEY), ("/Meta1/Max", META1_MAX), ("/Meta2/Max", META2_MAX)):
        if key == value:
            return name
    for name, prefix in (("/Meta2", META2_PREFIX), ("/Meta1", META1_PREFIX)):  # keyOfKeyDict
        if key.startswith(prefix):
            rest = key[len(prefix) :]
            text = _in_dict(rest)
            return name + text if text is not None else name + "/" + go_quote(rest)
    text = _in_dict(key)
    return text if text is not None else go_quote(key)
