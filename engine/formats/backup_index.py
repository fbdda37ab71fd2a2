"""Names in the backup index `metadata/index/` that CockroachDB writes since 25.4.

Looked up in cockroachdb/cockroach pkg/backup/backupinfo/backup_index.go (commit 3e9ada9d708b):
one directory per chain, `metadata/index/<EncodeDescendingTS(full end)>_<full end as
20060102-150405.00>/` (`convertSubdirToIndexSubdir`), holding one file per backup of the chain,
`<EncodeDescendingTS(end)>_<start as 20060102-150405.00, or "0" for the full>_<end>_metadata.pb`
(`getBackupIndexFileName`). `EncodeDescendingTS` (pkg/backup/backuputils) is the hex of
`encoding.EncodeUvarintDescending(unix milliseconds)`. Readers take everything they need from
the names (`ParseBackupFilePathFromIndexFileName`: "backup paths are millisecond-precise and so
are the timestamps encoded in the filename"); the files' own content (an unencrypted
BackupIndexMetadata proto) is not read here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.errors import FormatError

INDEX_DIR = "metadata/index"
INDEX_SUFFIX = "_metadata.pb"
_INT_MIN = 0x80
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_uvarint_descending(value: int) -> bytes:
    """pkg/util/encoding EncodeUvarintDescending: marker IntMin+8-n, then ^v in n bytes."""
    if value == 0:
        return bytes([_INT_MIN + 8])
    width = (value.bit_length() + 7) // 8
    inverted = ~value & ((1 << (8 * width)) - 1)
    return bytes([_INT_MIN + 8 - width]) + inverted.to_bytes(width, "big")


def decode_uvarint_descending(data: bytes) -> int:
    if not data:
        raise FormatError("descending uvarint: no bytes")
    width = _INT_MIN + 8 - data[0]
    if not 0 <= width <= 8 or len(data) != 1 + width:
        raise FormatError(f"descending uvarint: bad marker or length in {data.hex()}")
    if width == 0:
        return 0
    return ~int.from_bytes(data[1:], "big") & ((1 << (8 * width)) - 1)


def _millis(when: datetime) -> int:
    d = when.astimezone(UTC) - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1000 + d.microseconds // 1000


def encode_descending_ts(when: datetime) -> str:
    return encode_uvarint_descending(_millis(when)).hex()


def decode_descending_ts(text: str) -> datetime:
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise FormatError(f"{text!r}: not hexadecimal") from None
    return _EPOCH + timedelta(milliseconds=decode_uvarint_descending(raw))


def _hundredths(when: datetime) -> str:
    """Go layout 20060102-150405.00 (hundredths truncated)."""
    t = when.astimezone(UTC)
    return f"{t:%Y%m%d-%H%M%S}.{t.microsecond // 10000:02d}"


def _parse_hundredths(text: str) -> datetime:
    try:
        day, rest = text.split("-")
        secs, frac = rest.split(".")
        if len(day) != 8 or len(secs) != 6 or len(frac) != 2 or not frac.isdigit():
            raise ValueError
        t = datetime.strptime(day + secs, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise FormatError(f"{text!r}: not a 20060102-150405.00 time") from None
    return t + timedelta(milliseconds=10 * int(frac))


def subdir_time(subdir: str) -> datetime:
    """The time a full backup subdir '/2006/01/02-150405.00' names."""
    parts = subdir.strip("/").split("/")
    if len(parts) != 3 or len(parts[0]) != 4 or len(parts[1]) != 2:
        raise FormatError(f"{subdir!r}: not a dated full backup subdirectory")
    return _parse_hundredths(parts[0] + parts[1] + parts[2])


def chain_dir(subdir: str) -> str:
    """`metadata/index/<desc>_<time>` of the chain whose full backup is at `subdir`."""
    t = subdir_time(subdir)
    return f"{INDEX_DIR}/{encode_descending_ts(t)}_{_hundredths(t)}"


def subdir_of_chain_dir(name: str) -> str:
    """Inverse of `chain_dir` for its last component (convertIndexSubdirToSubdir): both halves
    must name the same time."""
    parts = name.strip("/").split("_")
    if len(parts) != 2:
        raise FormatError(f"{name!r}: invalid index subdir format")
    t = decode_descending_ts(parts[0])
    if t != _parse_hundredths(parts[1]):
        raise FormatError(f"{name!r}: index subdir has mismatched timestamps")
    return f"/{t:%Y/%m/%d-%H%M%S}.{t.microsecond // 10000:02d}"


def index_file_name(start: datetime | None, end: datetime) -> str:
    start_text = "0" if start is None else _hundredths(start)
    return f"{encode_descending_ts(end)}_{start_text}_{_hundredths(end)}{INDEX_SUFFIX}"


def parse_index_file_name(name: str) -> tuple[datetime | None, datetime]:
    """(start or None for a full backup, end) of an index file name (parseIndexBasename)."""
    if not name.endswith(INDEX_SUFFIX):
        raise FormatError(f"{name!r}: invalid index filename format")
    parts = name.split("_")
    if len(parts) != 4:
        raise FormatError(f"{name!r}: invalid index filename format")
    start = None if parts[1] == "0" else _parse_hundredths(parts[1])
    return start, _parse_hundredths(parts[2])


def incremental_dir(start: datetime, end: datetime) -> str:
    """ConstructDateBasedIncrementalFolderName: '/20060102/150405.00-20060102-150405.00'."""
    e = end.astimezone(UTC)
    return f"/{e:%Y%m%d}/{e:%H%M%S}.{e.microsecond // 10000:02d}-{_hundredths(start)}"
