"""The object rows SHOW BACKUP prints for one manifest, computed as CockroachDB computes them.

Source: pkg/backup/show.go (`backupShowerDefault`, `getTableSizes`) and
pkg/backup/backupinfo/manifest_handling.go (`BackupManifestDescriptors`), cockroachdb/cockroach
commits 00ae4afda82719d566196abd35180dada05db90b and 044ab078ce40acad2557f5e1a5c9098441dddc2d:

* one row per entry of the manifest's descriptor list, in stored order, with no filtering by
  state (dropped / offline descriptors are shown like the others); descriptors of an unknown kind
  are skipped (newDescriptorBuilder returns nil for them);
* names: database id -> name and schema id -> name maps built from the same descriptor list,
  first occurrence wins, seeded with 29 -> "public" (keys.PublicSchemaIDForBackup); a table's
  schema id 0 means 29 (TableDescriptor.GetParentSchemaID); a missing or empty name shows NULL;
* sizes: only tables get size_bytes / rows, the sums of File.entry_counts over files whose span
  start key decodes to the table id. The tenant codec is fixed by the first file's key; files
  under another tenant, or outside the table key space, count for no table. A table without
  files shows 0, not NULL.

* ids (SHOW BACKUP ... WITH debug_ids): database_id = the parent id of schemas, types, functions
  and tables; parent_schema_id = the schema id of types, functions and tables (29 for a table
  whose schema id is 0); object_id = the descriptor id; each NULL when 0 (`nullIfZero`);
* regions: only for a multi-region database (DatabaseDescriptor.region_config, field 10) whose
  region enum (RegionConfig.region_enum_id, field 4) is among the backed-up type descriptors:
  `ALTER DATABASE <db> SET PRIMARY REGION "<primary>";` then ` ALTER DATABASE <db> ADD REGION
  "<r>";` for every other enum member not READ_ONLY, in member order (`showRegions`); an enum id
  naming a type that is not a MULTIREGION_ENUM is an error, as in CockroachDB;
* file_bytes (WITH check_files): per table, the sum over its files of
  int64(physical * (span data_size / the data_size of all spans in that SST))
  (`approximateSpanPhysicalSize`), physical being the stored size of the file. As in
  getTableSizes, the physical-size index only advances on files that decode to a table, so after
  a non-table file the sizes shift (CockroachDB's behaviour, kept).

Field numbers of region_config / enum_members (pkg/sql/catalog/descpb/structured.proto at
cockroachdb/cockroach commit 0087c16e180e98471a95e339623468b7b6d9bf18) are read from the
descriptors' unknown fields, so descriptors.proto stays as it is.

Tenants: after the descriptor rows, one "TENANT" row per BackupManifest.tenants entry (field 26,
not modelled in backup.proto, read from the unknown fields): TenantInfoWithUsage.extra_columns (3)
.id (1), falling back to info (1) .deprecated_id (1) for older writers; the name is
roachpb.TenantID.String() ("system" for 1, else the number). Field numbers from
pkg/multitenant/mtinfopb/info.proto at commit 03930cb5ea006ddca2132d3fd6ccfb6b646eec9c.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from engine.errors import FormatError
from engine.formats.keys import (
    INT_MAX,
    INT_MIN,
    TENANT_PREFIX,
    decode_uvarint_ascending,
    encode_uvarint_ascending,
)
from engine.formats.manifest import (
    ALL_DESCRIPTORS,
    PUBLIC_SCHEMA_ID,
    BackupManifest,
    Descriptor,
    ManifestFile,
)

SYSTEM_TENANT_ID = 1
PUBLIC_SCHEMA_NAME = "public"


@dataclass(frozen=True)
class BackupObject:
    """One object row of SHOW BACKUP (table_id only for tables; the ids of debug_ids below)."""

    database_name: str | None
    parent_schema_name: str | None
    object_name: str
    object_type: str  # "database" | "schema" | "table" | "type" | "function"
    size_bytes: int | None
    rows: int | None
    table_id: int | None
    database_id: int | None = None
    parent_schema_id: int | None = None
    object_id: int | None = None
    regions: str | None = None
    file_bytes: int | None = None  # only with file sizes (CHECK_FILES), only for tables


def is_full_cluster(manifest: BackupManifest) -> bool:
    """True for a cluster backup (descriptor_coverage == tree.AllDescriptors)."""
    return manifest.descriptor_coverage == ALL_DESCRIPTORS


def _require_inline(manifest: BackupManifest, what: str) -> None:
    if manifest.has_external_manifest_ssts:
        raise FormatError(
            f"BACKUP_METADATA: {what} live in filelist.sst / descriptorslist.sst; "
            f"read them and pass {what}=..."
        )


def _tenant_of(key: bytes, path: str) -> int:
    """keys.DecodeTenantPrefix: the tenant a key belongs to (system tenant without a prefix)."""
    if key[:1] != bytes([TENANT_PREFIX]):
        return SYSTEM_TENANT_ID
    try:
        tenant, _ = decode_uvarint_ascending(key[1:])
    except FormatError:
        raise FormatError(f"{path}: span key has a malformed tenant prefix") from None
    return tenant


def _table_id_for(key: bytes, tenant_prefix: bytes) -> int | None:
    """SQLCodec.DecodeTablePrefix for one codec: None where CockroachDB's decode errors."""
    if not key.startswith(tenant_prefix):
        return None
    rest = key[len(tenant_prefix) :]
    if not rest or not INT_MIN <= rest[0] <= INT_MAX:
        return None
    try:
        table_id, _ = decode_uvarint_ascending(rest)
    except FormatError:
        return None
    return table_id


GO_MIN_INT64 = -(2**63)


def approximate_physical_size(logical_span: int, logical_sst: int, physical: int) -> int:
    """approximateSpanPhysicalSize: int64(float64(physical) * (float64(span) / float64(sst))).

    Python floats are IEEE doubles like Go's, so the product and the truncation toward zero
    agree. 0/0 is NaN in Go, and int64(NaN) is MinInt64 on amd64: that is what is returned.
    """
    if logical_sst == 0:
        return GO_MIN_INT64  # 0/0 is NaN (and x/0 an infinity): amd64 converts both to MinInt64
    value = float(physical) * (float(logical_span) / float(logical_sst))
    if value != value or value in (float("inf"), float("-inf")) or abs(value) >= 2.0**63:
        return GO_MIN_INT64
    return int(value)


def logical_sst_sizes(files: Sequence[ManifestFile]) -> dict[str, int]:
    """getLogicalSSTSize: data_size summed per SST path (several spans may share one SST)."""
    out: dict[str, int] = {}
    for f in files:
        out[f.path] = out.get(f.path, 0) + f.entry_counts.data_size
    return out


@dataclass
class TableSize:
    data_size: int = 0
    rows: int = 0
    file_bytes: int = 0


def table_sizes(
    files: Sequence[ManifestFile], file_sizes: Sequence[int] | None = None
) -> dict[int, TableSize]:
    """Table id -> sizes summed over the files, as getTableSizes computes them.

    `file_sizes`: the stored size of each File entry, in file order (CHECK_FILES), or None.
    """
    sizes: dict[int, TableSize] = {}
    logical = logical_sst_sizes(files) if file_sizes else {}
    tenant_prefix: bytes | None = None
    idx = 0
    for f in files:
        key = f.span.key
        if tenant_prefix is None:
            tenant = _tenant_of(key, f.path)
            # keys.MakeSQLCodec(tenant).TenantPrefix(): empty for the system tenant
            tenant_prefix = (
                b""
                if tenant == SYSTEM_TENANT_ID
                else bytes([TENANT_PREFIX]) + encode_uvarint_ascending(tenant)
            )
        table_id = _table_id_for(key, tenant_prefix)
        if table_id is None:
            continue  # like getTableSizes' `continue`: idx does not advance either
        s = sizes.setdefault(table_id, TableSize())
        s.data_size += f.entry_counts.data_size
        s.rows += f.entry_counts.rows
        if file_sizes:
            s.file_bytes += approximate_physical_size(
                f.entry_counts.data_size, logical[f.path], file_sizes[idx]
            )
        idx += 1
    return sizes


# --- multi-region databases (regions column) ------------------------------------------------------


def _wire_fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) of a protobuf message: varints as ints, length-delimited as bytes."""
    out: list[tuple[int, int | bytes]] = []
    i = 0

    def varint() -> int:
        nonlocal i
        shift = result = 0
        while True:
            if i >= len(data):
                raise FormatError("descriptor: truncated varint")
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    while i < len(data):
        key = varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            out.append((num, varint()))
        elif wire == 2:
            n = varint()
            out.append((num, data[i : i + n]))
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise FormatError(f"descriptor: unsupported wire type {wire}")
    return out


def _first(fields: list[tuple[int, int | bytes]], num: int, default: int | bytes) -> int | bytes:
    return next((v for n, v in fields if n == num), default)


_MULTIREGION_ENUM = 2  # TypeDescriptor.Kind
_READ_ONLY = 1  # TypeDescriptor.EnumMember.Capability
_DB_REGION_CONFIG, _DB_REGION_ENUM_ID = 10, 4
_TYPE_ENUM_MEMBERS, _TYPE_REGION_CONFIG = 6, 16
_MEMBER_LOGICAL, _MEMBER_CAPABILITY = 2, 3
_TYPE_PRIMARY_REGION = 1
_KIND_NAMES = {0: "ENUM", 1: "ALIAS", 2: "MULTIREGION_ENUM", 3: "TABLE_IMPLICIT_RECORD_TYPE", 4: "COMPOSITE"}


def region_enum_id(db: object) -> int | None:
    """The region enum id of a multi-region database (region_config set), else None."""
    raw = db.SerializeToString()  # type: ignore[attr-defined]
    config = _first(_wire_fields(raw), _DB_REGION_CONFIG, None)  # type: ignore[arg-type]
    if config is None:
        return None
    return int(_first(_wire_fields(bytes(config)), _DB_REGION_ENUM_ID, 0))


def show_regions(type_desc: object, db_name: str) -> str:
    """showRegions: the ALTER DATABASE statements recreating the database's regions."""
    if type_desc.kind != _MULTIREGION_ENUM:  # type: ignore[attr-defined]
        kind = _KIND_NAMES.get(type_desc.kind, str(type_desc.kind))  # type: ignore[attr-defined]
        raise FormatError(
            f"cannot generate regions column: type descriptor for {db_name} is of kind {kind}"
        )
    fields = _wire_fields(type_desc.SerializeToString())  # type: ignore[attr-defined]
    config = _first(fields, _TYPE_REGION_CONFIG, b"")
    primary = bytes(_first(_wire_fields(bytes(config)), _TYPE_PRIMARY_REGION, b"")).decode()
    out = f'ALTER DATABASE {db_name} SET PRIMARY REGION "{primary}";'
    for n, member in fields:
        if n != _TYPE_ENUM_MEMBERS:
            continue
        m = _wire_fields(bytes(member))
        if int(_first(m, _MEMBER_CAPABILITY, 0)) == _READ_ONLY:
            continue  # ForEachPublicRegion skips members being added or removed
        region = bytes(_first(m, _MEMBER_LOGICAL, b"")).decode()
        if region != primary:
            out += f' ALTER DATABASE {db_name} ADD REGION "{region}";'
    return out


def _none_if_empty(s: str) -> str | None:
    return s or None


_MANIFEST_TENANTS = 26
_TENANT_INFO, _TENANT_EXTRA_COLUMNS, _TENANT_ID = 1, 3, 1


def manifest_tenant_ids(manifest: BackupManifest) -> list[int]:
    """The ids of the tenants a cluster backup holds (BackupManifest.tenants), in stored order."""
    from google.protobuf.unknown_fields import UnknownFieldSet

    ids = []
    # iter(): the set is a sequence (__getitem__/__len__), which the stubs give no __iter__
    for unknown in iter(UnknownFieldSet(manifest)):  # no re-serialisation of a large manifest
        raw = unknown.data
        if unknown.field_number != _MANIFEST_TENANTS or not isinstance(raw, bytes):
            continue
        fields = _wire_fields(raw)
        extra = _first(fields, _TENANT_EXTRA_COLUMNS, b"")
        tid = int(_first(_wire_fields(bytes(extra)), _TENANT_ID, 0))
        if not tid:
            info = _first(fields, _TENANT_INFO, b"")
            tid = int(_first(_wire_fields(bytes(info)), _TENANT_ID, 0))
        if not tid:
            raise FormatError("BACKUP_MANIFEST: a tenants entry has no tenant id (invalid tenant ID 0)")
        ids.append(tid)
    return ids


def tenant_name(tenant_id: int) -> str:
    """roachpb.TenantID.String()."""
    return "system" if tenant_id == SYSTEM_TENANT_ID else str(tenant_id)


def _none_if_zero(i: int) -> int | None:
    return i or None


def backup_objects(
    manifest: BackupManifest,
    *,
    files: Sequence[ManifestFile] | None = None,
    descriptors: Sequence[Descriptor] | None = None,
    file_sizes: Sequence[int] | None = None,
) -> list[BackupObject]:
    """SHOW BACKUP's object rows for one manifest, in CockroachDB's order.

    `files` / `descriptors` replace the manifest's own lists; they are required for a slim
    BACKUP_METADATA manifest, whose lists are placeholders. `file_sizes` (the stored size of each
    File entry, CHECK_FILES) fills `file_bytes` for tables.
    """
    if files is None:
        _require_inline(manifest, "files")
        files = manifest.files
    if descriptors is None:
        _require_inline(manifest, "descriptors")
        descriptors = manifest.descriptors

    db_names: dict[int, str] = {}
    schema_names: dict[int, str] = {PUBLIC_SCHEMA_ID: PUBLIC_SCHEMA_NAME}
    types: dict[int, object] = {}
    for d in descriptors:
        kind = d.WhichOneof("union")
        if kind == "database":
            db_names.setdefault(d.database.id, d.database.name)
        elif kind == "schema":
            schema_names.setdefault(d.schema.id, d.schema.name)
        elif kind == "type":
            types.setdefault(d.type.id, d.type)

    sizes = table_sizes(files, file_sizes)
    with_files = bool(file_sizes)
    out: list[BackupObject] = []
    for d in descriptors:
        kind = d.WhichOneof("union")
        if kind == "database":
            db = d.database
            regions = None
            enum_id = region_enum_id(db)
            if enum_id is not None and enum_id in types:
                regions = _none_if_empty(show_regions(types[enum_id], db.name))
            out.append(
                BackupObject(
                    None, None, db.name, "database", None, None, None,
                    object_id=_none_if_zero(db.id), regions=regions,
                )
            )
        elif kind == "schema":
            s = d.schema
            db_name = _none_if_empty(db_names.get(s.parent_id, ""))
            out.append(
                BackupObject(
                    db_name, None, s.name, "schema", None, None, None,
                    database_id=_none_if_zero(s.parent_id), object_id=_none_if_zero(s.id),
                )
            )
        elif kind in ("type", "function"):
            o = d.type if kind == "type" else d.function
            db_name = _none_if_empty(db_names.get(o.parent_id, ""))
            sc = _none_if_empty(schema_names.get(o.parent_schema_id, ""))
            out.append(
                BackupObject(
                    db_name, sc, o.name, kind, None, None, None,
                    database_id=_none_if_zero(o.parent_id),
                    parent_schema_id=_none_if_zero(o.parent_schema_id),
                    object_id=_none_if_zero(o.id),
                )
            )
        elif kind == "table":
            t = d.table
            db_name = _none_if_empty(db_names.get(t.parent_id, ""))
            schema_id = t.unexposed_parent_schema_id or PUBLIC_SCHEMA_ID
            sc = _none_if_empty(schema_names.get(schema_id, ""))
            size = sizes.get(t.id, TableSize())
            out.append(
                BackupObject(
                    db_name, sc, t.name, "table", size.data_size, size.rows, t.id,
                    database_id=_none_if_zero(t.parent_id),
                    parent_schema_id=schema_id,
                    object_id=_none_if_zero(t.id),
                    file_bytes=size.file_bytes if with_files else None,
                )
            )
    return out
