"""A backup layer's size as its manifest records it, never by listing or stat'ing `data/`.

BACKUP_MANIFEST lists every data file (`Files[]`) with its `EntryCounts` (logical bytes, rows)
and, from the releases that record it, `BackingFileSize` (the SST's stored bytes). A slim
BACKUP_METADATA keeps that list in filelist.sst instead. Both are encrypted with the backup's
data key when the backup is, so sizes of an encrypted backup need a KMS URI that unlocks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.formats.names import BACKUP_METADATA

if TYPE_CHECKING:
    from engine.collection import BackupLayer
    from engine.encryption import DataKey
    from engine.formats.manifest import ManifestFile


@dataclass(frozen=True)
class LayerSizes:
    """What one layer's manifest records about its data files."""

    manifest: str  # the file read: BACKUP_MANIFEST, or BACKUP_METADATA (+ filelist.sst)
    data_files: int  # distinct SST paths among Files[]
    data_size: int  # sum of Files[].EntryCounts.DataSize: what SHOW BACKUP's size_bytes adds up
    rows: int  # sum of Files[].EntryCounts.Rows
    backing_size: int | None  # sum of Files[].BackingFileSize per SST, when every SST records one


@dataclass(frozen=True)
class SizeUnknown:
    """Why the sizes cannot be given (e.g. the manifest is encrypted and no known URI opens it)."""

    reason: str


Sizes = LayerSizes | SizeUnknown

UNKNOWN_UNTIL_UNLOCKED = "unknown until unlocked"


def read_layer_sizes(layer: BackupLayer, key: DataKey | None) -> LayerSizes:
    """Read and decode the layer's manifest (and filelist.sst for a slim one) with `key`."""
    from engine.reader import read_manifest

    manifest = read_manifest(layer, key)
    if layer.manifest_name == BACKUP_METADATA and manifest.has_external_manifest_ssts:
        files = _slim_files(layer, key)
        shown = f"{BACKUP_METADATA} + filelist.sst"
    else:
        files = list(manifest.files)
        shown = layer.manifest_name
    backing: dict[str, int] = {}
    for f in files:
        backing[f.path] = max(backing.get(f.path, 0), int(f.backing_file_size))
    recorded = bool(backing) and all(backing.values())
    return LayerSizes(
        manifest=shown,
        data_files=len(backing),
        data_size=sum(int(f.entry_counts.data_size) for f in files),
        rows=sum(int(f.entry_counts.rows) for f in files),
        backing_size=sum(backing.values()) if recorded else None,
    )


def _slim_files(layer: BackupLayer, key: DataKey | None) -> list[ManifestFile]:
    """The File entries of a slim manifest's filelist.sst (descriptorslist.sst is not read)."""
    from google.protobuf.message import DecodeError

    from engine.errors import FormatError
    from engine.formats import backup_ssts
    from engine.formats.manifest import ManifestFile
    from engine.reader import read_file
    from engine.storage import NotFound

    name = f"{layer.display}/{backup_ssts.FILELIST_SST}"
    try:
        data = read_file(layer, backup_ssts.FILELIST_SST, key)
    except NotFound:
        raise FormatError(f"{name}: missing, but {layer.display}/{BACKUP_METADATA} says its files are kept there") from None
    out = []
    for _, path, raw in backup_ssts.decode_filelist(data, name=name):
        entry = ManifestFile()
        try:
            entry.ParseFromString(raw)
        except DecodeError as e:
            raise FormatError(f"{name} entry {path!r}: not a valid protobuf message ({e})") from None
        out.append(entry)
    return out
