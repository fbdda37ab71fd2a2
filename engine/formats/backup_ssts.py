"""filelist.sst and descriptorslist.sst: the external lists of a v23.1+ BACKUP_METADATA.

A "slim" BACKUP_METADATA leaves its files and descriptors out and points at these two SSTs
(spec backup-format.md §1.4). rewrap reads them to list a backup's files and objects and writes
them for its demo collection. Values stay marshalled protobuf bytes so this module does not depend
on the manifest codec. Both files are written by CockroachDB with its transport SST writer, in
the table format of its release (engine/formats/releases.py), and encrypted like data SSTs; this
module sees plaintext SST bytes only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import NamedTuple

from engine.errors import FormatError
from engine.formats.keys import (
    decode_bytes_ascending,
    decode_uvarint_ascending,
    encode_bytes_ascending,
    encode_uvarint_ascending,
)
from engine.formats.mvcc import decode_mvcc_key, encode_mvcc_key, engine_compare
from engine.formats.sst import read_sst
from engine.formats.sst_writers import write_table

FILELIST_SST = "filelist.sst"
DESCRIPTORSLIST_SST = "descriptorslist.sst"

# pkg/backup/backupinfo/desc_sst.go: sstDescsPrefix; keys are "desc/" ‖ EncodeUvarintAscending(id).
DESC_PREFIX = b"desc/"


# --- filelist.sst (pkg/backup/backupinfo/file_sst.go) ---------------------------------------------
#
# One unversioned MVCC entry per BackupManifest.File, sorted by (span.key, path) (FileCmp):
#   key   = EncodeBytesAscending(span.key) ‖ EncodeStringAscending(path) ‖ 0x00 (PutUnversioned)
#   value = marshalled BackupManifest_File (not gzipped)


def _file_key(span_key: bytes, path: str) -> bytes:
    return encode_bytes_ascending(span_key) + encode_bytes_ascending(path.encode("utf-8"))


def encode_filelist(
    entries: Iterable[tuple[bytes, str, bytes]],
    *,
    table_format: str = "pebble,v2",
    release: str | None = None,
) -> bytes:
    """filelist.sst from (span key, path, marshalled File) triples, in any order, as a table of
    `table_format` (engine/formats/releases.py says which release writes which)."""
    rows = sorted(((bytes(k), p, bytes(f)) for k, p, f in entries), key=lambda r: r[:2])
    for before, after in zip(rows, rows[1:]):
        if before[:2] == after[:2]:
            raise ValueError(f"filelist: duplicate entry for path {after[1]!r}")
    keyed = [(encode_mvcc_key(_file_key(k, p)), f) for k, p, f in rows]
    return write_table(keyed, table_format, release=release, writer="transport")


def decode_filelist(data: bytes | bytearray, *, name: str = FILELIST_SST) -> list[tuple[bytes, str, bytes]]:
    """(span key, path, marshalled File) of every entry, in file order."""
    out = []
    for raw_key, value in read_sst(data, name=name):
        key, _, _ = _decode_key(raw_key, name)
        try:
            span_key, rest = decode_bytes_ascending(key)
            path, rest = decode_bytes_ascending(rest)
            if rest:
                raise FormatError("trailing bytes")
            out.append((span_key, path.decode("utf-8"), value))
        except (FormatError, UnicodeDecodeError) as exc:
            raise FormatError(f"{name}: bad file entry key {key.hex()}: {exc}") from None
    return out


# --- descriptorslist.sst (pkg/backup/backupinfo/desc_sst.go: writeDescsToMetadata) ----------------
#
# Without revision history: one entry per descriptor, unversioned (or at the backup's start time
# for incrementals with revision history). With descriptor_changes: one entry per revision at its
# MVCC timestamp, ordered by id then newest first; an empty value is a dropped/deleted descriptor.


class DescriptorEntry(NamedTuple):
    """One descriptor (revision); wall_time == logical == 0 means unversioned."""

    id: int
    descriptor: bytes  # marshalled sql.sqlbase.Descriptor; b"" for a deleted revision
    wall_time: int = 0
    logical: int = 0


def encode_descriptorslist(
    entries: Iterable[DescriptorEntry | tuple[int, bytes]],
    *,
    table_format: str = "pebble,v2",
    release: str | None = None,
) -> bytes:
    """descriptorslist.sst from (id, descriptor[, wall_time, logical]) entries, in any order."""
    keyed: list[tuple[bytes, bytes]] = []
    for entry in entries:
        e = DescriptorEntry(*entry)
        key = encode_mvcc_key(DESC_PREFIX + encode_uvarint_ascending(e.id), e.wall_time, e.logical)
        keyed.append((key, bytes(e.descriptor)))

    def by_key(a: tuple[bytes, bytes], b: tuple[bytes, bytes]) -> int:
        return engine_compare(a[0], b[0])

    keyed.sort(key=functools.cmp_to_key(by_key))
    for before, after in zip(keyed, keyed[1:]):
        if engine_compare(before[0], after[0]) == 0:
            raise ValueError("descriptorslist: duplicate descriptor id and time")
    return write_table(keyed, table_format, release=release, writer="transport")


def decode_descriptorslist(
    data: bytes | bytearray, *, name: str = DESCRIPTORSLIST_SST
) -> list[DescriptorEntry]:
    """Every descriptor (revision) in file order: id ascending, then newest first."""
    out = []
    for raw_key, value in read_sst(data, name=name):
        key, wall, logical = _decode_key(raw_key, name)
        if not key.startswith(DESC_PREFIX):
            raise FormatError(f"{name}: key {key.hex()} lacks the 'desc/' prefix")
        try:
            desc_id, rest = decode_uvarint_ascending(key[len(DESC_PREFIX) :])
        except FormatError as exc:
            raise FormatError(f"{name}: bad descriptor key {key.hex()}: {exc}") from None
        if rest:
            raise FormatError(f"{name}: trailing bytes in descriptor key {key.hex()}")
        out.append(DescriptorEntry(desc_id, value, wall, logical))
    return out


def _decode_key(raw_key: bytes, name: str) -> tuple[bytes, int, int]:
    try:
        return decode_mvcc_key(raw_key)
    except FormatError as exc:
        raise FormatError(f"{name}: {exc}") from None
