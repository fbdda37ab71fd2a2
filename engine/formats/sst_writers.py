"""One entry point for writing an SST in a given Pebble table format.

The demo writer and the slim-manifest writers ask for a table format by name ("pebble,v2",
"pebble,v4", "pebble,v7", ...), as engine/formats/releases.py lists them per CockroachDB release.
Row formats come from engine.formats.sst.write_sst and columnar ones from the columnar writer;
until a format is wired here, asking for it is a clear error rather than a silently older table.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.errors import FormatError
from engine.formats.sst import write_sst

WIRED = frozenset({"pebble,v2"})
"""Table formats this module can write today."""


def can_write(table_format: str) -> bool:
    return table_format in WIRED


def write_table(entries: Iterable[tuple[bytes, bytes]], table_format: str, **options: object) -> bytes:
    """An SST holding `entries` (sorted point SETs) in `table_format`; `options` go to the
    underlying writer (comparer=, compression=, block_size=)."""
    if table_format == "pebble,v2":
        return write_sst(entries, **options)  # type: ignore[arg-type]
    raise FormatError(f"writing {table_format} is not wired yet")
