"""BACKUP_MANIFEST / BACKUP_METADATA / BACKUP: the manifest file of one backup directory.

Encoding (spec backup-format.md §3.5, from pkg/backup/backupinfo/manifest_handling.go
`WriteBackupManifest` / `readManifest`): sort Files by (span.key, span.end_key), marshal, gzip,
encrypt (if the backup is encrypted), then `<name>-CHECKSUM` = sha256(stored bytes)[:4].
Key handling stays outside: callers pass `encrypt` / `decrypt` callables bound to the data key.

Also here: small builders (`build_manifest`, `*_descriptor`, `manifest_file`) that produce
manifests shaped like the ones CockroachDB writes, for the demo writer and for tests.
"""

from __future__ import annotations

import gzip
import hashlib
import uuid
import zlib
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from google.protobuf.message import DecodeError

from engine.errors import FormatError, RewrapError
from engine.formats.keys import encode_uvarint_ascending, table_prefix
from engine.formats.proto import backup_pb2, build_pb2, descriptors_pb2, hlc_pb2, roachpb_pb2

BackupManifest = backup_pb2.BackupManifest
ManifestFile = backup_pb2.BackupManifest.File
DescriptorRevision = backup_pb2.BackupManifest.DescriptorRevision
Descriptor = descriptors_pb2.Descriptor
Timestamp = hlc_pb2.Timestamp
Span = roachpb_pb2.Span
RowCount = roachpb_pb2.RowCount

# File names live in names.py (no protobuf import) so listing code can use them cheaply.
from engine.formats.names import (  # noqa: E402  (re-exported)
    BACKUP_LEGACY as BACKUP_LEGACY,
    BACKUP_MANIFEST as BACKUP_MANIFEST,
    BACKUP_METADATA as BACKUP_METADATA,
    CHECKSUM_SUFFIX as CHECKSUM_SUFFIX,
    MANIFEST_NAMES as MANIFEST_NAMES,
)

FORMAT_VERSION = 1
"""BackupManifest.format_version CockroachDB writes (BackupFormatDescriptorTrackingVersion)."""

PUBLIC_SCHEMA_ID = 29
"""keys.PublicSchemaIDForBackup: the pre-22.1 shared public schema; table schema id 0 means it."""

ALL_DESCRIPTORS = 1
"""tree.AllDescriptors: descriptor_coverage of a cluster backup (RequestedDescriptors = 0)."""

GZIP_MAGIC = b"\x1f\x8b\x08"
ENCRYPTED_PREAMBLE = b"encrypt"
_GZIP_LEVEL = 6  # Go compress/gzip DefaultCompression is flate level 6 (Python's default is 9).

# Placeholders CockroachDB writes into BACKUP_METADATA (writeExternalSSTsMetadata in
# pkg/backup/backupinfo/manifest_handling.go) so a reader that ignores
# has_external_manifest_ssts fails loudly instead of using them.
PLACEHOLDER_FILE_PATH = "assertion: this placeholder legacy Files entry should never be opened"
PLACEHOLDER_DESCRIPTOR_NAME = (
    "assertion: this placeholder legacy Descriptor entry should never be used"
)
PLACEHOLDER_DESCRIPTOR_ID = 1
MAX_KEY = b"\xff\xff"  # keys.MaxKey (roachpb.KeyMax); keys.MinKey is the empty key.
MAX_WALL_TIME = 2**63 - 1  # hlc.MaxTimestamp = {math.MaxInt64, math.MaxInt32}
MAX_LOGICAL = 2**31 - 1


def checksum(stored: bytes) -> bytes:
    """The 4 raw bytes of `<name>-CHECKSUM`: sha256 over the stored (gzip'd, encrypted) bytes."""
    return hashlib.sha256(stored).digest()[:4]


_checksum = checksum  # decode_manifest's keyword `checksum` shadows the function inside it


def decode_manifest(
    stored: bytes,
    *,
    decrypt: Callable[[bytes], bytes | bytearray] | None = None,
    checksum: bytes | None = None,
    name: str = BACKUP_MANIFEST,
) -> BackupManifest:
    """Parse a manifest file's stored bytes: verify checksum, decrypt, gunzip, unmarshal.

    `checksum` is the content of `<name>-CHECKSUM` when that file exists (old backups have none).
    `decrypt` turns an encrypted file's bytes into plaintext; it is required when the file starts
    with CockroachDB's `encrypt` preamble.
    """
    if checksum is not None:
        computed = _checksum(stored)
        if bytes(checksum) != computed:
            raise FormatError(
                f"{name}: checksum mismatch (stored {name}{CHECKSUM_SUFFIX} "
                f"{bytes(checksum).hex()}, computed {computed.hex()})"
            )
    raw = bytes(stored)
    data: bytes | bytearray = raw
    if raw.startswith(ENCRYPTED_PREAMBLE):
        if decrypt is None:
            # CockroachDB: "file appears encrypted -- try specifying one of ..."
            raise FormatError(
                f"{name}: file appears encrypted; pass KMS = ... or ENCRYPTION_PASSPHRASE = ..."
            )
        try:
            data = decrypt(raw)
        except RewrapError:
            raise
        except Exception as exc:  # a cipher error from the caller's decrypt: name it, no traceback
            raise FormatError(f"{name}: failed to decrypt ({type(exc).__name__})") from None
    elif decrypt is not None:
        # CockroachDB's DecryptFile refuses such input; accepting it would let a wrong key
        # "verify" against an unencrypted backup.
        raise FormatError(f"{name}: file does not appear to be encrypted, but a key was given")
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise FormatError(f"{name}: decompressing backup manifest: {exc}") from None
    if not data:
        raise FormatError(f"{name}: empty manifest")
    manifest = BackupManifest()
    try:
        manifest.ParseFromString(bytes(data))  # copies only a decrypted manifest not gzipped
    except DecodeError as exc:
        raise FormatError(f"{name}: not a BackupManifest protobuf ({exc})") from None
    no_end = manifest.end_time.wall_time == 0 and manifest.end_time.logical == 0
    if no_end and not (manifest.descriptors or manifest.files or manifest.spans):
        # Every CockroachDB manifest has an end time; bytes that merely parse as protobuf have
        # nothing a manifest needs. (A sparse manifest from another writer is still accepted.)
        raise FormatError(f"{name}: not a BackupManifest (no end time)")
    return manifest


def gzip_like_go(data: bytes) -> bytes:
    """gzip with the header Go's compress/gzip (and klauspost's) writes by default.

    Go leaves MTIME 0 and writes OS = 255 (unknown) and XFL = 0 at the default level (6); Python's
    gzip module writes OS = 3, so the 10-byte header is assembled here (RFC 1952).
    """
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data) + compressor.flush()
    header = GZIP_MAGIC + b"\x00" + b"\x00\x00\x00\x00" + b"\x00\xff"
    size = len(data) & 0xFFFFFFFF
    trailer = zlib.crc32(data).to_bytes(4, "little") + size.to_bytes(4, "little")
    return header + body + trailer


def _file_order(f: ManifestFile) -> tuple[bytes, bytes]:
    return (f.span.key, f.span.end_key)


def encode_manifest(
    manifest: BackupManifest, *, encrypt: Callable[[bytes], bytes] | None = None
) -> tuple[bytes, bytes]:
    """Stored bytes and checksum bytes of a manifest, written the way CockroachDB writes them.

    The caller's message is not modified (CockroachDB sorts Files in place; we sort a copy).
    """
    out = BackupManifest()
    out.CopyFrom(manifest)
    ordered = sorted(out.files, key=_file_order)
    del out.files[:]
    out.files.extend(ordered)
    data = gzip_like_go(out.SerializeToString(deterministic=True))
    if encrypt is not None:
        data = encrypt(data)
    return data, checksum(data)


# --- time ----------------------------------------------------------------------------------------


def hlc_to_datetime(ts: Timestamp) -> datetime | None:
    """UTC datetime of an HLC timestamp's wall time (microsecond precision); None for zero."""
    if ts.wall_time == 0 and ts.logical == 0:
        return None
    seconds, nanos = divmod(ts.wall_time, 1_000_000_000)
    # int64 nanoseconds span 1677..2262, inside datetime's range; timedelta avoids the platform
    # limits of fromtimestamp for negative values.
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds, microseconds=nanos // 1000)


def datetime_to_hlc(dt: datetime, logical: int = 0) -> Timestamp:
    """HLC timestamp of an aware datetime (naive datetimes are taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    wall = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
    return Timestamp(wall_time=wall, logical=logical)


def is_incremental(manifest: BackupManifest) -> bool:
    """A backup is incremental when its start time is set (BackupManifest.IsIncremental)."""
    return not (manifest.start_time.wall_time == 0 and manifest.start_time.logical == 0)


# --- slim manifest (BACKUP_METADATA) --------------------------------------------------------------


def slim_manifest(manifest: BackupManifest) -> BackupManifest:
    """What CockroachDB writes as BACKUP_METADATA: the lists replaced by placeholder entries.

    Mirrors writeExternalSSTsMetadata: one File spanning [MinKey, MaxKey) with a path that must
    never be opened, one table descriptor (id 1, version 1, modification time hlc.MaxTimestamp)
    in `descriptors`, the same descriptor as the only `descriptor_changes` entry, and
    has_external_manifest_ssts = true. The real lists go to filelist.sst / descriptorslist.sst.
    """
    slim = BackupManifest()
    slim.CopyFrom(manifest)
    max_ts = Timestamp(wall_time=MAX_WALL_TIME, logical=MAX_LOGICAL)
    bogus = Descriptor(
        table=descriptors_pb2.TableDescriptor(
            id=PLACEHOLDER_DESCRIPTOR_ID,
            name=PLACEHOLDER_DESCRIPTOR_NAME,
            version=1,
            modification_time=max_ts,
        )
    )
    del slim.files[:]
    slim.files.add(span=Span(key=b"", end_key=MAX_KEY), path=PLACEHOLDER_FILE_PATH)
    del slim.descriptors[:]
    slim.descriptors.append(bogus)
    del slim.descriptor_changes[:]
    slim.descriptor_changes.add(id=PLACEHOLDER_DESCRIPTOR_ID, time=max_ts, desc=bogus)
    slim.has_external_manifest_ssts = True
    return slim


# --- builders -------------------------------------------------------------------------------------


def _ts(dt: datetime | None) -> Timestamp | None:
    return None if dt is None else datetime_to_hlc(dt)


def database_descriptor(
    id: int,
    name: str,
    *,
    version: int = 1,
    modified: datetime | None = None,
    state: descriptors_pb2.DescriptorState = descriptors_pb2.PUBLIC,
) -> Descriptor:
    """A DatabaseDescriptor wrapped in Descriptor (state: descriptors_pb2.PUBLIC/DROP/...)."""
    return Descriptor(
        database=descriptors_pb2.DatabaseDescriptor(
            id=id, name=name, version=version, modification_time=_ts(modified), state=state
        )
    )


def schema_descriptor(
    id: int,
    parent_id: int,
    name: str,
    *,
    version: int = 1,
    modified: datetime | None = None,
    state: descriptors_pb2.DescriptorState = descriptors_pb2.PUBLIC,
) -> Descriptor:
    """A SchemaDescriptor (user-defined schema, or a database's own `public` since v22.1)."""
    return Descriptor(
        schema=descriptors_pb2.SchemaDescriptor(
            id=id,
            parent_id=parent_id,
            name=name,
            version=version,
            modification_time=_ts(modified),
            state=state,
        )
    )


def table_descriptor(
    id: int,
    parent_id: int,
    name: str,
    schema_id: int = PUBLIC_SCHEMA_ID,
    *,
    version: int = 1,
    modified: datetime | None = None,
    state: descriptors_pb2.DescriptorState = descriptors_pb2.PUBLIC,
) -> Descriptor:
    """A TableDescriptor in database `parent_id`, schema `schema_id`."""
    return Descriptor(
        table=descriptors_pb2.TableDescriptor(
            id=id,
            parent_id=parent_id,
            name=name,
            unexposed_parent_schema_id=schema_id,
            version=version,
            modification_time=_ts(modified),
            state=state,
        )
    )


def type_descriptor(
    id: int,
    parent_id: int,
    name: str,
    schema_id: int = PUBLIC_SCHEMA_ID,
    *,
    array_type_id: int = 0,
    kind: descriptors_pb2.TypeDescriptor.Kind = descriptors_pb2.TypeDescriptor.ENUM,
    version: int = 1,
    modified: datetime | None = None,
    state: descriptors_pb2.DescriptorState = descriptors_pb2.PUBLIC,
) -> Descriptor:
    """A TypeDescriptor (user-defined enum by default; CockroachDB also backs up its array type)."""
    return Descriptor(
        type=descriptors_pb2.TypeDescriptor(
            id=id,
            parent_id=parent_id,
            parent_schema_id=schema_id,
            name=name,
            kind=kind,
            array_type_id=array_type_id,
            version=version,
            modification_time=_ts(modified),
            state=state,
        )
    )


def function_descriptor(
    id: int,
    parent_id: int,
    name: str,
    schema_id: int = PUBLIC_SCHEMA_ID,
    *,
    version: int = 1,
    modified: datetime | None = None,
) -> Descriptor:
    """A FunctionDescriptor (user-defined function, v22.2+)."""
    return Descriptor(
        function=descriptors_pb2.FunctionDescriptor(
            id=id,
            parent_id=parent_id,
            parent_schema_id=schema_id,
            name=name,
            version=version,
            modification_time=_ts(modified),
        )
    )


def prefix_end(key: bytes) -> bytes:
    """roachpb.Key.PrefixEnd: the first key after every key with this prefix."""
    out = bytearray(key)
    while out:
        if out[-1] != 0xFF:
            out[-1] += 1
            return bytes(out)
        out.pop()
    return MAX_KEY


def index_prefix(table_id: int, index_id: int = 1, tenant_id: int | None = None) -> bytes:
    """/Table/<id>/<index id>: where an index's rows live (primary index is 1)."""
    return table_prefix(table_id, tenant_id) + encode_uvarint_ascending(index_id)


def manifest_file(
    path: str,
    table_id: int,
    start_key_suffix: bytes = b"",
    end_key_suffix: bytes | None = None,
    rows: int = 0,
    data_size: int = 0,
    *,
    index_entries: int = 0,
    tenant_id: int | None = None,
    backing_file_size: int = 0,
    locality_kv: str = "",
) -> ManifestFile:
    """A File entry covering part of a table's key space.

    The span is /Table/<id> + start_key_suffix up to /Table/<id> + end_key_suffix (or the end of
    the table when end_key_suffix is None), optionally under /Tenant/<tenant_id>.
    """
    prefix = table_prefix(table_id, tenant_id)
    end = prefix_end(prefix) if end_key_suffix is None else prefix + end_key_suffix
    return ManifestFile(
        span=Span(key=prefix + start_key_suffix, end_key=end),
        path=path,
        entry_counts=RowCount(data_size=data_size, rows=rows, index_entries=index_entries),
        backing_file_size=backing_file_size,
        locality_kv=locality_kv,
    )


def _table_spans(descriptors: Iterable[Descriptor], tenant_id: int | None) -> list[Span]:
    spans = []
    for d in descriptors:
        if d.WhichOneof("union") == "table":
            start = index_prefix(d.table.id, 1, tenant_id)
            spans.append(Span(key=start, end_key=prefix_end(start)))
    return spans


def default_build_info(tag: str = "v24.1.0") -> build_pb2.Info:
    """A build.Info like a release binary's (the gateway node's build)."""
    return build_pb2.Info(
        go_version="go1.22.5",
        tag=tag,
        time="2024/05/20 12:00:00",
        revision="rewrap-demo",
        cgo_compiler="gcc 6.5.0",
        cgo_target_triple="x86_64-pc-linux-gnu",
        platform="linux amd64",
        distribution="CCL",
        type="release",
        channel="official-binary",
    )


def build_manifest(
    *,
    start: datetime | None,
    end: datetime,
    descriptors: list[Descriptor],
    files: list[ManifestFile],
    cluster: bool,
    revision_history: bool = False,
    spans: list[Span] | None = None,
    introduced_spans: list[Span] | None = None,
    descriptor_changes: list[DescriptorRevision] | None = None,
    complete_dbs: list[int] | None = None,
    tenant_id: int | None = None,
    cluster_id: bytes | None = None,
    backup_id: bytes | None = None,
    node_id: int = 1,
    build_tag: str = "v24.1.0",
    cluster_version: tuple[int, int] = (24, 1),
) -> BackupManifest:
    """A BackupManifest with the fields CockroachDB fills in for BACKUP INTO.

    Defaults: spans = each table's primary index span; entry_counts = the files' sum;
    complete_dbs = every database in `descriptors`; format_version 1; random cluster and backup
    UUIDs; with revision_history, mvcc_filter = All, revision_start_time = start (or end for a
    full backup) and one descriptor revision per descriptor at its modification time (else `end`).
    """
    m = BackupManifest(
        end_time=datetime_to_hlc(end),
        format_version=FORMAT_VERSION,
        cluster_id=cluster_id if cluster_id is not None else uuid.uuid4().bytes,
        id=backup_id if backup_id is not None else uuid.uuid4().bytes,
        node_id=node_id,
        build_info=default_build_info(build_tag),
        cluster_version=roachpb_pb2.Version(
            major_val=cluster_version[0], minor_val=cluster_version[1]
        ),
        descriptor_coverage=ALL_DESCRIPTORS if cluster else 0,
    )
    if start is not None:
        m.start_time.CopyFrom(datetime_to_hlc(start))
    m.descriptors.extend(descriptors)
    m.files.extend(sorted(files, key=_file_order))
    m.spans.extend(spans if spans is not None else _table_spans(descriptors, tenant_id))
    m.introduced_spans.extend(introduced_spans or [])
    for f in files:
        m.entry_counts.data_size += f.entry_counts.data_size
        m.entry_counts.rows += f.entry_counts.rows
        m.entry_counts.index_entries += f.entry_counts.index_entries
    if complete_dbs is None:
        complete_dbs = [d.database.id for d in descriptors if d.WhichOneof("union") == "database"]
    m.complete_dbs.extend(complete_dbs)
    if revision_history:
        m.mvcc_filter = backup_pb2.All
        m.revision_start_time.CopyFrom(datetime_to_hlc(start if start is not None else end))
        if descriptor_changes is None:
            descriptor_changes = []
            for d in descriptors:
                inner = getattr(d, d.WhichOneof("union") or "table")
                when = inner.modification_time
                if when.wall_time == 0:
                    when = datetime_to_hlc(end)
                descriptor_changes.append(DescriptorRevision(time=when, id=inner.id, desc=d))
    m.descriptor_changes.extend(descriptor_changes or [])
    return m
