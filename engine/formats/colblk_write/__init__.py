"""Writer for Pebble's columnar SST formats (v5, v6, v7) with CockroachDB's key schema.

CockroachDB writes backup data SSTs and BACKUP_METADATA's filelist.sst / descriptorslist.sst in
these formats since 25.1 (v5), 25.2 (v6) and 25.3 (v7): cockroachdb/pebble sstable/colblk/ and
cockroachkvs/cockroachkvs.go (CockroachDB's key schema, "crdb1").
`write_columnar_sst` takes the entries engine.formats.sst.write_sst takes; `crdb_release` picks
the property set and compression rule of the Pebble a CockroachDB release vendors.
"""

from engine.formats.colblk_write.table import (
    CRDB_RELEASES,
    TABLE_FORMATS,
    parse_crdb_release,
    parse_table_format,
    write_columnar_sst,
)

__all__ = [
    "CRDB_RELEASES",
    "TABLE_FORMATS",
    "parse_crdb_release",
    "parse_table_format",
    "write_columnar_sst",
]
