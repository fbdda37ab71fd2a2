"""Result rows as text: aligned tables like `cockroach sql`, TSV, CSV and JSON lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from tui.shared import FORMATS as FORMATS  # defined once, for every face


def cell_text(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S.%f").rstrip("0").rstrip(".")
    if isinstance(v, bytes):
        return "\\x" + v.hex()  # as `cockroach sql` prints BYTES
    return str(v)


def json_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return cell_text(v)


def write_rows(out: TextIO, fmt: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    if fmt == "json":
        for row in rows:
            out.write(json.dumps({c: json_value(v) for c, v in zip(columns, row)}) + "\n")
    elif fmt in ("csv", "tsv"):
        comma = "," if fmt == "csv" else "\t"
        out.write(csv_line(columns, comma))
        for row in rows:
            out.write(csv_line([cell_text(v) for v in row], comma))
    else:
        write_table(out, columns, rows)


def write_table(out: TextIO, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """cockroach sql's default table: centred headers, a dashed rule, a row count. A cell with
    several lines (a multi-line error) keeps them in its own column."""
    texts = [[cell_text(v).split("\n") for v in row] for row in rows]
    widths = [
        max([len(c)] + [len(line) for r in texts for line in r[i]]) for i, c in enumerate(columns)
    ]
    out.write("  " + " | ".join(c.center(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    out.write("-" + "+".join("-" * (w + 2) for w in widths) + "\n")
    for r in texts:
        for k in range(max(len(lines) for lines in r) if r else 1):
            cells = []
            for lines, w in zip(r, widths):
                t = lines[k] if k < len(lines) else ""
                cells.append(t.rjust(w) if _numeric(t) else t.ljust(w))
            out.write("  " + " | ".join(cells).rstrip() + "\n")
    n = len(rows)
    out.write(f"({n} row{'s' if n != 1 else ''})\n")


def _numeric(text: str) -> bool:
    return text.lstrip("-").isdigit()


def csv_line(fields: Sequence[str], comma: str = ",") -> str:
    """One record as `cockroach sql --format=csv` (comma ",") or `--format=tsv` (tab) writes it.

    cockroach's csvReporter (pkg/cli/clisqlexec/format_table.go) writes both through its fork of
    Go's encoding/csv (pkg/util/encoding/csv/writer.go) with defaults, Comma set to tab for TSV:
    "\\n" line ends; a field is quoted (inner quotes doubled) when it holds the delimiter, a
    double quote, CR or LF, starts with white space, or is exactly `\\.`; the empty string is not
    quoted. Python's csv module does not quote a leading space, hence this function.
    """
    return comma.join(_csv_field(f, comma) for f in fields) + "\n"


def _csv_field(field: str, comma: str) -> str:
    needs = (
        field == "\\."
        or any(c in field for c in (comma, '"', "\r", "\n"))
        or field[:1].isspace()
    )
    return '"' + field.replace('"', '""') + '"' if needs else field
