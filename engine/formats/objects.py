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

Not produced here: CockroachDB's extra "TENANT" rows for manifest.tenants (field 26, not modelled).
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
    """One object row of SHOW BACKUP (the columns rewrap shows; ids only for tables)."""

    database_name: str | None
    parent_schema_name: str | None
    object_name: str
    object_type: str  # "database" | "schema" | "table" | "type" | "function"
    size_bytes: int | None
    rows: int | None
    table_id: int | None


def is_full_cluster(manifest: BackupManifest) -> bool:
    """True for a cluster backup (descriptor_coverage == tree.AllDescriptors)."""
    return manifest.descriptor_coverage == ALL_DESCRIPTORS


def _require_inline(manifest: BackupManifest, what: str) -> None:
    if manifest.has_external_manifest_ssts:
        raise FormatError(
            f"BACKUP_METADATA: {what} live in filelist.sst / descriptorslist.sst; "
            f"read them and pass {what}=..."
        )


def file_paths(
    manifest: BackupManifest, *, files: Sequence[ManifestFile] | None = None
) -> list[str]:
    """The distinct data files (relative paths) a CHECK_FILES pass must open, in manifest order.

    Several File entries (spans) may share one SST; each path is listed once. For a slim
    BACKUP_METADATA manifest the file list must be passed in (`files`).
    """
    if files is None:
        _require_inline(manifest, "files")
        files = manifest.files
    return list(dict.fromkeys(f.path for f in files))


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


def table_sizes(files: Sequence[ManifestFile]) -> dict[int, tuple[int, int]]:
    """Table id -> (data_size, rows) summed over the files, as getTableSizes computes them."""
    sizes: dict[int, tuple[int, int]] = {}
    tenant_prefix: bytes | None = None
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
            continue
        size, rows = sizes.get(table_id, (0, 0))
        sizes[table_id] = (size + f.entry_counts.data_size, rows + f.entry_counts.rows)
    return sizes


def _none_if_empty(s: str) -> str | None:
    return s or None


def backup_objects(
    manifest: BackupManifest,
    *,
    files: Sequence[ManifestFile] | None = None,
    descriptors: Sequence[Descriptor] | None = None,
) -> list[BackupObject]:
    """SHOW BACKUP's object rows for one manifest, in CockroachDB's order.

    `files` / `descriptors` replace the manifest's own lists; they are required for a slim
    BACKUP_METADATA manifest, whose lists are placeholders.
    """
    if files is None:
        _require_inline(manifest, "files")
        files = manifest.files
    if descriptors is None:
        _require_inline(manifest, "descriptors")
        descriptors = manifest.descriptors

    db_names: dict[int, str] = {}
    schema_names: dict[int, str] = {PUBLIC_SCHEMA_ID: PUBLIC_SCHEMA_NAME}
    for d in descriptors:
        kind = d.WhichOneof("union")
        if kind == "database":
            db_names.setdefault(d.database.id, d.database.name)
        elif kind == "schema":
            schema_names.setdefault(d.schema.id, d.schema.name)

    sizes = table_sizes(files)
    out: list[BackupObject] = []
    for d in descriptors:
        kind = d.WhichOneof("union")
        if kind == "database":
            out.append(BackupObject(None, None, d.database.name, "database", None, None, None))
        elif kind == "schema":
            s = d.schema
            db = _none_if_empty(db_names.get(s.parent_id, ""))
            out.append(BackupObject(db, None, s.name, "schema", None, None, None))
        elif kind in ("type", "function"):
            o = d.type if kind == "type" else d.function
            db = _none_if_empty(db_names.get(o.parent_id, ""))
            sc = _none_if_empty(schema_names.get(o.parent_schema_id, ""))
            out.append(BackupObject(db, sc, o.name, kind, None, None, None))
        elif kind == "table":
            t = d.table
            db = _none_if_empty(db_names.get(t.parent_id, ""))
            schema_id = t.unexposed_parent_schema_id or PUBLIC_SCHEMA_ID
            sc = _none_if_empty(schema_names.get(schema_id, ""))
            size, rows = sizes.get(t.id, (0, 0))
            out.append(BackupObject(db, sc, t.name, "table", size, rows, t.id))
    return out
