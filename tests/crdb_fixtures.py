"""An independent CockroachDB-format writer and reader for tests, built from the spec alone.

Nothing here imports rewrap's engine: protobuf wire bytes are written by hand, files are sealed
with `cryptography`'s AESGCM directly, names are encoded by hand. Tests use it to check that rewrap
reads what CockroachDB writes, and that what rewrap writes is what CockroachDB would read, without
grading our reader with our own writer.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# --- protobuf wire format ------------------------------------------------------------------------


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_varint(num: int, value: int) -> bytes:
    return varint(num << 3) + varint(value) if value else b""


def f_bytes(num: int, value: bytes | str) -> bytes:
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def parse_fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs of a message: ints for varints, bytes for length-delimited."""
    out: list[tuple[int, int | bytes]] = []
    i = 0

    def read_varint() -> int:
        nonlocal i
        shift = result = 0
        while True:
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    while i < len(data):
        key = read_varint()
        num, wt = key >> 3, key & 7
        if wt == 0:
            out.append((num, read_varint()))
        elif wt == 2:
            n = read_varint()
            out.append((num, data[i : i + n]))
            i += n
        elif wt == 1:
            out.append((num, data[i : i + 8]))
            i += 8
        elif wt == 5:
            out.append((num, data[i : i + 4]))
            i += 4
        else:
            raise ValueError(f"wire type {wt}")
    return out


def field_values(data: bytes, num: int) -> list:
    return [v for n, v in parse_fields(data) if n == num]


# --- CockroachDB key encodings (pkg/util/encoding) ------------------------------------------------


def uvarint_asc(v: int) -> bytes:
    if v <= 109:
        return bytes([0x88 + v])
    body = v.to_bytes((v.bit_length() + 7) // 8, "big")
    return bytes([0x88 + 109 + len(body)]) + body


def bytes_asc(b: bytes) -> bytes:
    """EncodeBytesAscending: 0x12, 0x00 escaped as 0x00 0xff, terminator 0x00 0x01."""
    return b"\x12" + b.replace(b"\x00", b"\x00\xff") + b"\x00\x01"


def uvarint_desc(v: int) -> bytes:
    """EncodeUvarintDescending (pkg/util/encoding): marker 0x88 - width, then ^v in width bytes."""
    if v == 0:
        return b"\x88"
    width = (v.bit_length() + 7) // 8
    return bytes([0x88 - width]) + (~v & ((1 << (8 * width)) - 1)).to_bytes(width, "big")


def hundredths(dt: datetime) -> str:
    """Go layout 20060102-150405.00."""
    return dt.strftime("%Y%m%d-%H%M%S.") + f"{dt.microsecond // 10000:02d}"


def millis(dt: datetime) -> int:
    return (dt - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def index_chain_dir(full_end: datetime) -> str:
    """metadata/index/<hex(EncodeUvarintDescending(ms))>_<20060102-150405.00> of a chain
    (pkg/backup/backupinfo/backup_index.go convertSubdirToIndexSubdir, commit 3e9ada9d708b).
    The full end is taken as its subdir names it: truncated to hundredths."""
    t = full_end.replace(microsecond=full_end.microsecond // 10000 * 10000)
    return f"metadata/index/{uvarint_desc(millis(t)).hex()}_{hundredths(t)}"


def index_file(start: datetime | None, end: datetime) -> str:
    """<desc end ms>_<start or 0>_<end>_metadata.pb (getBackupIndexFileName)."""
    return f"{uvarint_desc(millis(end)).hex()}_{'0' if start is None else hundredths(start)}_{hundredths(end)}_metadata.pb"


def inc_dir_with_start(start: datetime, end: datetime) -> str:
    """/20060102/150405.00-20060102-150405.00 (ConstructDateBasedIncrementalFolderName, 25.2+)."""
    return inc_subdir(end) + "-" + hundredths(start)


def latest_name(ts_text: str) -> str:
    body = ts_text.encode().replace(b"\x00", b"\x00\xff") + b"\x00\x01"
    return "LATEST-" + (b"\x13" + bytes(b ^ 0xFF for b in body)).hex()


# --- messages ---------------------------------------------------------------------------------------


def timestamp(dt: datetime | None) -> bytes:
    if dt is None:
        return b""
    return f_varint(1, int(dt.timestamp() * 1_000_000) * 1000)


def span(key: bytes, end_key: bytes) -> bytes:
    return f_bytes(3, key) + f_bytes(4, end_key)


@dataclass
class FixtureTable:
    id: int
    name: str
    rows: int
    size: int
    schema_id: int = 29  # pre-22.1 shared public schema


def table_file(path: str, t: FixtureTable) -> bytes:
    prefix = uvarint_asc(t.id)
    counts = f_varint(1, t.size) + f_varint(2, t.rows)
    return f_bytes(1, span(prefix, prefix[:-1] + bytes([prefix[-1] + 1]))) + f_bytes(2, path) + f_bytes(6, counts)


def database_desc(id: int, name: str) -> bytes:
    return f_bytes(2, f_bytes(1, name) + f_varint(2, id))


def schema_desc(id: int, parent: int, name: str) -> bytes:
    return f_bytes(4, f_varint(1, parent) + f_bytes(2, name) + f_varint(3, id))


def table_desc(t: FixtureTable, parent: int) -> bytes:
    return f_bytes(1, f_bytes(1, t.name) + f_varint(3, t.id) + f_varint(4, parent) + f_varint(40, t.schema_id))


def manifest(
    *, start: datetime | None, end: datetime, db: tuple[int, str], tables: list[FixtureTable],
    cluster: bool = False, files: list[str] | None = None, public_schema_id: int | None = None,
) -> bytes:
    body = f_bytes(1, timestamp(start)) if start else b""
    body += f_bytes(2, timestamp(end))
    paths = files or [f"data/{1000 + t.id}.sst" for t in tables]
    for p, t in zip(paths, tables):
        body += f_bytes(4, table_file(p, t))
    body += f_bytes(5, database_desc(*db))
    if public_schema_id:
        body += f_bytes(5, schema_desc(public_schema_id, db[0], "public"))
    for t in tables:
        body += f_bytes(5, table_desc(t, db[0]))
    body += f_varint(8, 1)
    body += f_varint(22, 1 if cluster else 0)
    return body


PLACEHOLDER_PATH = "assertion: this placeholder legacy Files entry should never be opened"
PLACEHOLDER_DESC = "assertion: this placeholder legacy Descriptor entry should never be used"


def slim_manifest(*, start: datetime | None, end: datetime, tables: list[FixtureTable],
                  cluster: bool = False) -> bytes:
    """BACKUP_METADATA as writeExternalSSTsMetadata (pkg/backup/backupinfo/manifest_handling.go)
    leaves it: one placeholder File [MinKey, MaxKey), one placeholder table descriptor (id 1,
    version 1, modified at hlc.MaxTimestamp) in descriptors and in descriptor_changes, the spans,
    and has_external_manifest_ssts (field 27) set."""
    max_ts = f_varint(1, 2**63 - 1) + f_varint(2, 2**31 - 1)
    bogus = f_bytes(1, f_bytes(1, PLACEHOLDER_DESC) + f_varint(3, 1) + f_varint(5, 1) + f_bytes(7, max_ts))
    body = f_bytes(1, timestamp(start)) if start else b""
    body += f_bytes(2, timestamp(end))
    for t in tables:
        prefix = uvarint_asc(t.id)
        body += f_bytes(3, span(prefix, prefix[:-1] + bytes([prefix[-1] + 1])))
    body += f_bytes(4, f_bytes(1, f_bytes(3, b"") + f_bytes(4, b"\xff\xff")) + f_bytes(2, PLACEHOLDER_PATH))
    body += f_bytes(5, bogus)
    body += f_varint(8, 1)
    body += f_bytes(16, f_bytes(1, max_ts) + f_varint(2, 1) + f_bytes(3, bogus))
    body += f_varint(22, 1 if cluster else 0)
    body += f_varint(27, 1)
    return body


def filelist_entries(tables: list[FixtureTable], files: list[str] | None = None) -> list[tuple[bytes, bytes]]:
    """(MVCC key, value) rows of filelist.sst (pkg/backup/backupinfo/file_sst.go): key =
    EncodeBytesAscending(span.key) ‖ EncodeStringAscending(path) ‖ 0x00 (unversioned), value =
    the marshalled File, sorted by (span.key, path)."""
    paths = files or [f"data/{1000 + t.id}.sst" for t in tables]
    rows = []
    for p, t in zip(paths, tables):
        rows.append((uvarint_asc(t.id), p, table_file(p, t)))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [(bytes_asc(k) + bytes_asc(p.encode()) + b"\x00", v) for k, p, v in rows]


def descriptorslist_entries(db: tuple[int, str], tables: list[FixtureTable],
                            public_schema_id: int | None = None) -> list[tuple[bytes, bytes]]:
    """Rows of descriptorslist.sst (desc_sst.go writeDescsToMetadata, no revision history):
    "desc/" ‖ EncodeUvarintAscending(id) ‖ 0x00 -> marshalled Descriptor, id ascending."""
    descs = {db[0]: database_desc(*db)}
    if public_schema_id:
        descs[public_schema_id] = schema_desc(public_schema_id, db[0], "public")
    for t in tables:
        descs[t.id] = table_desc(t, db[0])
    return [(b"desc/" + uvarint_asc(i) + b"\x00", descs[i]) for i in sorted(descs)]


def encryption_info(*, kms: dict[bytes, bytes] | None = None, salt: bytes = b"") -> bytes:
    out = f_bytes(2, salt) if salt else b""
    for k in sorted(kms or {}):
        out += f_bytes(3, f_bytes(1, k) + f_bytes(2, kms[k]))
    return out


# --- encrypted files (pkg/ccl/storageccl/encryption.go) -------------------------------------------


def seal_v2(key: bytes, plain: bytes, iv: bytes | None = None) -> bytes:
    iv = iv or os.urandom(12)
    aead = AESGCM(key)
    out = bytearray(b"encrypt\x02" + iv)
    base = int.from_bytes(iv[4:], "big")
    i = 0
    while True:
        chunk = plain[i * 65536 : (i + 1) * 65536]
        nonce = iv[:4] + ((base + i) % 2**64).to_bytes(8, "big")
        out += aead.encrypt(nonce, chunk, None)
        if len(chunk) < 65536:
            return bytes(out)
        i += 1


def seal_v1(key: bytes, plain: bytes) -> bytes:
    iv = os.urandom(12)
    return b"encrypt\x01" + iv + AESGCM(key).encrypt(iv, plain, None)


def open_encrypted(key: bytes, data: bytes) -> bytes:
    assert data[:7] == b"encrypt", "not an encrypted file"
    iv, body = data[8:20], data[20:]
    aead = AESGCM(key)
    if data[7] == 1:
        return aead.decrypt(iv, body, None)
    assert data[7] == 2, f"version {data[7]}"
    base = int.from_bytes(iv[4:], "big")
    out = bytearray()
    for i in range(0, len(body) // 65552 + 1):
        sealed = body[i * 65552 : (i + 1) * 65552]
        nonce = iv[:4] + ((base + i) % 2**64).to_bytes(8, "big")
        chunk = aead.decrypt(nonce, sealed, None)
        out += chunk
        if len(chunk) < 65536:
            assert (i + 1) * 65552 >= len(body), "data after the final chunk"
            return bytes(out)
    raise AssertionError("missing final chunk")


def testkms_wrap(key_id: str, data_key: bytes) -> bytes:
    return data_key + key_id.encode()


def testkms_unwrap(key_id: str, wrapped: bytes) -> bytes:
    assert wrapped.endswith(key_id.encode())
    return wrapped[: -len(key_id)]


def pbkdf2(passphrase: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", passphrase.encode(), salt, 64000, 32)


# --- a collection writer ------------------------------------------------------------------------------


@dataclass
class Writer:
    """Writes files the way CockroachDB does, per the spec, into a directory."""

    root: Path
    data_key: bytes | None = None  # None: unencrypted backup
    gzip_manifest: bool = True
    version: int = 2
    written: list[str] = field(default_factory=list)

    def put(self, rel: str, data: bytes) -> None:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        self.written.append(rel)

    def stored(self, plain: bytes) -> bytes:
        if self.data_key is None:
            return plain
        return seal_v2(self.data_key, plain) if self.version == 2 else seal_v1(self.data_key, plain)

    def backup_dir(self, rel: str, manifest_bytes: bytes, *, name: str = "BACKUP_MANIFEST",
                   data_files: dict[str, bytes] | None = None, checksum: bool = True) -> None:
        body = gzip.compress(manifest_bytes) if self.gzip_manifest else manifest_bytes
        stored = self.stored(body)
        self.put(f"{rel}/{name}", stored)
        if checksum:
            self.put(f"{rel}/{name}-CHECKSUM", hashlib.sha256(stored).digest()[:4])
        for path, content in (data_files or {}).items():
            self.put(f"{rel}/{path}", self.stored(content))


    def slim_backup_dir(self, rel: str, slim: bytes, *, sst: "Callable[[list[tuple[bytes, bytes]]], bytes]",
                        files: list[tuple[bytes, bytes]], descriptors: list[tuple[bytes, bytes]],
                        data_files: dict[str, bytes] | None = None, manifest: bytes | None = None) -> None:
        """A backup directory as 25.4+ writes it: BACKUP_METADATA (+ checksum), filelist.sst and
        descriptorslist.sst (encrypted like data files), and BACKUP_MANIFEST only when `manifest`
        is given (26.3 writes none). `sst` builds the SST container from sorted (key, value) rows:
        the rows are this module's, the table format is the test's choice."""
        if manifest is not None:
            self.backup_dir(rel, manifest, data_files=data_files)
            data_files = None
        self.backup_dir(rel, slim, name="BACKUP_METADATA", data_files=data_files)
        self.put(f"{rel}/filelist.sst", self.stored(sst(files)))
        self.put(f"{rel}/descriptorslist.sst", self.stored(sst(descriptors)))

    def index(self, full_end: datetime, start: datetime | None, end: datetime) -> None:
        """One backup's file in the backup index. Its content (a BackupIndexMetadata proto) is
        left empty: CockroachDB and rewrap find backups from the names alone."""
        self.put(f"{index_chain_dir(full_end)}/{index_file(start, end)}", b"")


def subdir(dt: datetime) -> str:
    return dt.strftime("/%Y/%m/%d-%H%M%S.") + f"{dt.microsecond // 10000:02d}"


def inc_subdir(dt: datetime) -> str:
    return dt.strftime("/%Y%m%d/%H%M%S.") + f"{dt.microsecond // 10000:02d}"


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)
