"""LATEST pointer file names and backup subdirectory names (spec backup-format.md §1.1, §1.2).

Since v22.1 CockroachDB never overwrites LATEST: each backup adds
`metadata/latest/LATEST-<hex(EncodeStringDescending(timeutil.Now().String()))>`
(pkg/backup/backupdest/backup_destination.go WriteNewLatestFile), so the newest pointer is the
lexically smallest name. The same encoding names `progress/BACKUP-CHECKPOINT-<hex>` files.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from engine.errors import FormatError
from engine.formats.keys import decode_bytes_descending, encode_bytes_descending

LATEST_PREFIX = "LATEST-"
LATEST_DIR = "metadata/latest"


def encode_descending_name(text: str) -> str:
    """Lowercase hex of EncodeBytesDescending(text): later timestamps sort first."""
    return encode_bytes_descending(text.encode("utf-8")).hex()


def decode_descending_name(hex_text: str) -> str:
    """Inverse of `encode_descending_name`; FormatError if it is not such a name."""
    try:
        raw = bytes.fromhex(hex_text)
    except ValueError:
        raise FormatError(f"descending name {hex_text!r}: not hexadecimal") from None
    try:
        value, rest = decode_bytes_descending(raw)
    except FormatError as exc:
        raise FormatError(f"descending name {hex_text!r}: {exc}") from None
    if rest:
        raise FormatError(f"descending name {hex_text!r}: {len(rest)} trailing bytes")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError(f"descending name {hex_text!r}: not UTF-8 text") from None


def latest_file_name(timestamp_text: str) -> str:
    """`LATEST-<hex>` for a Go time string (see `go_time_string`)."""
    return LATEST_PREFIX + encode_descending_name(timestamp_text)


def parse_latest_file_name(name: str) -> str:
    """The timestamp text encoded in a LATEST file name, with or without directory/prefix."""
    base = name.rsplit("/", 1)[-1]
    if base.startswith(LATEST_PREFIX):
        base = base[len(LATEST_PREFIX) :]
    return decode_descending_name(base)


def _utc(when: datetime) -> datetime:
    # A naive datetime is taken to be UTC already: backup times are UTC throughout.
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def go_time_string(when: datetime, monotonic_seconds: float | None = None) -> str:
    """Go's time.Time.String() for a UTC time (src/time/format.go).

    Layout "2006-01-02 15:04:05.999999999 -0700 MST": the fraction loses trailing zeros (and
    its dot when zero). A monotonic reading appends " m=" + sign + seconds with exactly nine
    decimals, "+" also for zero. Python datetimes carry microseconds, so at most six digits.
    """
    t = _utc(when)
    text = f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    if t.microsecond:
        text += "." + f"{t.microsecond:06d}".rstrip("0")
    text += " +0000 UTC"
    if monotonic_seconds is not None:
        # Decimal(repr) keeps the digits the caller wrote (53.00408221 -> ...082210, not ...0819).
        nanos = int((Decimal(repr(float(monotonic_seconds))) * 1_000_000_000).to_integral_value())
        sign = "-" if nanos < 0 else "+"
        whole, frac = divmod(abs(nanos), 1_000_000_000)
        text += f" m={sign}{whole}.{frac:09d}"
    return text


def backup_subdir_for(end_time: datetime) -> str:
    """Full backup subdirectory, Go layout "/2006/01/02-150405.00" (hundredths truncated)."""
    t = _utc(end_time)
    return f"/{t.year:04d}/{t.month:02d}/{t.day:02d}-{t:%H%M%S}.{t.microsecond // 10000:02d}"


def incremental_subdir_for(end_time: datetime) -> str:
    """Incremental subdirectory, Go layout "/20060102/150405.00" (hundredths truncated)."""
    t = _utc(end_time)
    return f"/{t.year:04d}{t.month:02d}{t.day:02d}/{t:%H%M%S}.{t.microsecond // 10000:02d}"
