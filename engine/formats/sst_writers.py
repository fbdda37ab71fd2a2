"""One entry point for writing an SST in a given Pebble table format.

The demo writer and the slim-manifest writers ask for a table format by name ("pebble,v2",
"pebble,v4", "pebble,v7", ...), as engine/formats/releases.py lists them per CockroachDB release.
Row formats (v2, v4) come from engine.formats.sst.write_sst, columnar ones (v5, v6, v7) from
engine.formats.colblk_write.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.errors import FormatError

ROW_FORMATS = {"pebble,v2": 2, "pebble,v4": 4}
COLUMNAR_FORMATS = frozenset({"pebble,v5", "pebble,v6", "pebble,v7"})
WIRED = frozenset(ROW_FORMATS) | COLUMNAR_FORMATS
"""Table formats this module can write."""


def can_write(table_format: str) -> bool:
    return table_format in WIRED


def write_table(
    entries: Iterable[tuple[bytes, bytes]],
    table_format: str,
    *,
    release: str | None = None,
    writer: str | None = None,
    **options: Any,
) -> bytes:
    """An SST holding `entries` (sorted point SETs) in `table_format`.

    `release` is the CockroachDB release imitated (columnar tables carry the properties of the
    Pebble it vendors; None: the newest); `writer` is "ingestion" (a backup's data files) or
    "transport" (filelist.sst / descriptorslist.sst), as CockroachDB picks its SST writer; row
    tables are the same for both. `options` go to the underlying writer (comparer=,
    compression=, block_size=).
    """
    if table_format in ROW_FORMATS:
        from engine.formats.sst import write_sst

        return write_sst(entries, table_format=ROW_FORMATS[table_format], **options)
    if table_format in COLUMNAR_FORMATS:
        from engine.formats.colblk_write import write_columnar_sst

        return write_columnar_sst(
            entries, table_format=table_format, crdb_release=release, writer=writer, **options
        )
    raise FormatError(f"cannot write SST table format {table_format!r} (known: {', '.join(sorted(WIRED))})")
