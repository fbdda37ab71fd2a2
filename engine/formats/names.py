"""Names of the files in a backup directory (spec backup-format.md §1.4), importable without
loading any codec, so listing-only paths (SHOW BACKUPS) stay cheap."""

from __future__ import annotations

BACKUP_MANIFEST = "BACKUP_MANIFEST"
BACKUP_METADATA = "BACKUP_METADATA"
BACKUP_LEGACY = "BACKUP"
CHECKSUM_SUFFIX = "-CHECKSUM"

MANIFEST_NAMES: tuple[str, ...] = (BACKUP_MANIFEST, BACKUP_METADATA, BACKUP_LEGACY)
"""The order in which rewrap looks for a backup's manifest file.

CockroachDB's newest readers (`ReadBackupManifestFromStore`) try BACKUP_METADATA first, then
BACKUP_MANIFEST, then BACKUP (<= v20.1). rewrap prefers BACKUP_MANIFEST when both exist, because it
holds the files and descriptors inline, whereas BACKUP_METADATA (v23.1+, "slim") keeps them in
filelist.sst / descriptorslist.sst; then BACKUP_METADATA, then the legacy BACKUP.
"""
