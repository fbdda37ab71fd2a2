"""Result rows as text: aligned tables like `cockroach sql`, TSV, and JSON lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

FORMATS = ("table", "tsv", "json")


def cell_text(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".")
    if isinstance(v, bytes):
        return v.hex()
    return str(v)


def json_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return cell_text(v)


def write_rows(out: TextIO, fmt: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if fmt == "json":
        for row in rows:
            out.write(json.dumps({c: json_value(v) for c, v in zip(columns, row)}) + "\n")
    elif fmt == "tsv":
        out.write("\t".join(columns) + "\n")
        for row in rows:
            out.write("\t".join(cell_text(v).replace("\t", " ") for v in row) + "\n")
    else:
        write_table(out, columns, rows)


def write_table(out: TextIO, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """cockroach sql's default table: centred headers, a dashed rule, a row count."""
    texts = [[cell_text(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in texts]) for i, c in enumerate(columns)]
    out.write("  " + " | ".join(c.center(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    out.write("-" + "+".join("-" * (w + 2) for w in widths) + "\n")
    for r in texts:
        cells = [t.rjust(w) if _numeric(t) else t.ljust(w) for t, w in zip(r, widths)]
        out.write("  " + " | ".join(cells).rstrip() + "\n")
    n = len(rows)
    out.write(f"({n} row{'s' if n != 1 else ''})\n")


def _numeric(text: str) -> bool:
    return text.lstrip("-").isdigit()
