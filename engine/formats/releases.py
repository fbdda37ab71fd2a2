"""What each CockroachDB release writes into a backup collection: one table, used by the demo
writer and by the tests.

Facts and where they come from (looked up 2026-12-01; see also spec backup-format.md §6):

* SST table format of data files and of BACKUP_METADATA's filelist.sst / descriptorslist.sst:
  Pebble v2 up to 23.2 (`MakeBackupSSTWriter`, pkg/storage/sst_writer.go), v4 for 24.x
  (ingestion writer, value blocks off for backups, PR #118340), columnar v5 from 25.1
  (`storage.columnar_blocks.enabled` default true, PR #132935), columnar always from 25.4
  (setting removed, PR #149371). Pebble's format.go lets a 25.2 store write v6 and a 25.3 store
  v7, but backups are not store files: the newest `MakeIngestionWriterOptions` found
  (pkg/storage/sst_writer.go, the version that still reads the setting) picks
  `TableFormatPebblev4`, or `TableFormatPebblev5` when columnar blocks are enabled, and nothing
  newer; so every release up to 26.x is listed with v5. Whether a release after the setting's
  removal moved backups to v6 or v7 is UNCONFIRMED (rewrap reads and checks v6 and v7 anyway, and
  `engine.formats.sst_writers` writes them).
* Manifest files: BACKUP_MANIFEST always up to 26.2; BACKUP_METADATA (the slim manifest, with
  filelist.sst and descriptorslist.sst) beside it whenever
  `backup.write_metadata_with_external_ssts.enabled` is on, whose default is true
  (`metamorphic.ConstantWithTestBool(..., true)` in
  pkg/ccl/backupccl/backupinfo/manifest_handling.go, cockroachdb/cockroach commit c901945c67f5),
  and unconditionally from 25.4 (PR #153474). 26.3 stops writing BACKUP_MANIFEST
  (backupbase/constants.go: `DeprecatedBackupManifestName` "Remove 26.3").
* Incremental directories carry the `-<start 20060102-150405.00>` suffix from 25.2
  (backupbase `DateBasedIncFolderNameSuffix`, "used for all backups taken on or after v25.2").
* The backup index `metadata/index/` is written from 25.4 (backupinfo/backup_index.go
  `shouldWriteIndex`, cockroachdb/cockroach commit 3e9ada9d708b).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import RewrapError
from engine.formats.names import BACKUP_MANIFEST, BACKUP_METADATA


@dataclass(frozen=True)
class Release:
    """One CockroachDB release line as a backup writer."""

    version: str
    table_format: str  # "pebble,v<n>": data SSTs and the slim manifest's two SSTs
    manifests: tuple[str, ...]  # manifest files each backup directory gets
    incremental_suffix: bool  # incrementals named /<end>-<start> (25.2+)
    backup_index: bool  # metadata/index/ written (25.4+)
    released: bool = True  # 26.3 is announced, not released

    @property
    def columnar(self) -> bool:
        return int(self.table_format.rsplit("v", 1)[1]) >= 5

    @property
    def slim_only(self) -> bool:
        return BACKUP_MANIFEST not in self.manifests


_BOTH = (BACKUP_MANIFEST, BACKUP_METADATA)

RELEASES: dict[str, Release] = {
    r.version: r
    for r in (
        Release("23.2", "pebble,v2", _BOTH, False, False),
        Release("24.1", "pebble,v4", _BOTH, False, False),
        Release("24.2", "pebble,v4", _BOTH, False, False),
        Release("24.3", "pebble,v4", _BOTH, False, False),
        Release("25.1", "pebble,v5", _BOTH, False, False),
        Release("25.2", "pebble,v5", _BOTH, True, False),
        Release("25.3", "pebble,v5", _BOTH, True, False),
        Release("25.4", "pebble,v5", _BOTH, True, True),
        Release("26.1", "pebble,v5", _BOTH, True, True),
        Release("26.2", "pebble,v5", _BOTH, True, True),
        Release("26.3", "pebble,v5", (BACKUP_METADATA,), True, True, released=False),
    )
}


def _key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


NEWEST_RELEASED = max((r for r in RELEASES.values() if r.released), key=lambda r: _key(r.version))
"""What `rewrap demo` writes by default once its table format can be written (26.2 today)."""


def release(version: str) -> Release:
    """The release for '24.1' (also '24.1.3', 'v24.1'); a clear error listing the choices."""
    text = version.strip().lower().removeprefix("v")
    parts = text.split(".")
    short = ".".join(parts[:2]) if len(parts) >= 2 else text
    if short not in RELEASES or (len(parts) > 2 and not all(p.isdigit() for p in parts)):
        raise RewrapError(
            f"--crdb-version {version!r}: not a CockroachDB release rewrap knows; choose one of "
            + ", ".join(RELEASES)
        )
    return RELEASES[short]
