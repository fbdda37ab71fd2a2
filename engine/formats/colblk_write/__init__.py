"""Writer for Pebble's columnar SST formats (v5, v6, v7) with CockroachDB's key schema.

CockroachDB writes backup data SSTs and BACKUP_METADATA's filelist.sst / descriptorslist.sst in
these formats since 25.1 (v5), 25.2 (v6) and 25.3 (v7); see /work/shared/spec/backup-format.md §6.
"""

from engine.formats.colblk_write.table import TABLE_FORMATS, write_columnar_sst

__all__ = ["TABLE_FORMATS", "write_columnar_sst"]
