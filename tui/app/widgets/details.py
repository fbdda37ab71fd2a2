"""The details panel: what the browser's selected node is, loaded in a worker by the app.

`details_fields` asks the engine's inspection service (engine/inspection/) and only words and
redacts its answers; it touches no Textual and is what the app's details worker runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from syntax.uri import redact_uri

from syntax.redact import redact_text
from tui.app.messages import NodeRef

if TYPE_CHECKING:
    from engine.inspection import Inspector
    from engine.inspection.keys import KeyRow

NO_KMS_KNOWN = "no KMS URI known to this session (run a statement WITH KMS = ...)"
VALUE_MIN = 16  # fewer columns left for the values beside the labels: each value under its label


class Fields:
    """(label, value) lines that fit the panel's width, no value ever cut with "…": values wrap
    (a long URI or path folds) beside their labels, or, when that leaves the values fewer than
    VALUE_MIN columns (a narrow sidebar, e.g. at 80x24), each under its label, indented by one."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self.fields = fields

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        label_width = max((cell_len(label) for label, _ in self.fields), default=0)
        if options.max_width - label_width - 1 >= VALUE_MIN:
            table = Table.grid(padding=(0, 1))
            table.add_column(style="bold", no_wrap=True)
            table.add_column(overflow="fold")
            for label, value in self.fields:
                table.add_row(label, value)
            yield table
            return
        for label, value in self.fields:
            yield Text(label, style="bold", overflow="fold")
            yield Padding(Text(value, overflow="fold"), (0, 0, 0, 1))


class DetailsPanel(Static):
    DEFAULT_CSS = """
    DetailsPanel { height: auto; padding: 0 1; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(Text("Select a backup to see its details.", style="dim"), **kwargs)  # type: ignore[arg-type]
        self.node: NodeRef | None = None
        self.fields: list[tuple[str, str]] = []

    def loading_for(self, node: NodeRef) -> None:
        self.node = node
        self.update(Text("loading…", style="dim"))

    def show(self, node: NodeRef, fields: list[tuple[str, str]]) -> None:
        """Details of `node` as (label, value) lines, ready to show (the app loads them)."""
        if node != self.node:
            return  # the selection moved on
        self.fields = fields
        self.update(Fields(fields))


def details_fields(inspector: Inspector, node: NodeRef) -> list[tuple[str, str]]:
    """(label, value) lines for `node`, every URI redacted."""
    from engine.inspection import LayerSizes, end_time_from_path

    out = [("collection", redact_uri(node.collection))]
    if node.kind == "collection":
        listing = inspector.listing(node.collection)
        return out + [
            ("full backups", str(len(listing.full_backups))),
            ("LATEST", listing.latest or f"({redact_text(listing.latest_error or 'none')})"),
        ]
    if node.kind == "full":
        out += [("full backup", node.subdir + ("  (LATEST)" if node.latest else "")),
                ("end time", end_time_from_path(node.subdir))]
        sizes = inspector.sizes(node.collection, node.subdir)
    else:
        out += [("incremental", "/" + node.path), ("of full backup", node.subdir),
                ("end time", end_time_from_path(node.path))]
        sizes = inspector.sizes(node.collection, node.subdir, node.path)
    if isinstance(sizes, LayerSizes):
        out += [("files", str(sizes.data_files)), ("size", human_size(sizes.data_size)),
                ("rows", str(sizes.rows))]
        if sizes.backing_size is not None:
            out.append(("SST bytes", human_size(sizes.backing_size)))  # Files[].BackingFileSize
    else:
        out += [("files", "unknown until unlocked"), ("size", redact_text(sizes.reason))]
    keys = inspector.key_files(node.collection, node.subdir)
    out.append(("encryption", keys.mode + ("" if node.kind == "full" else " (the full backup's key)")))
    for row in keys.rows:
        out.append((row.file, f"key {row.fingerprint}" if row.fingerprint else _short_note(row)))
    out.append(("unlocked by", ", ".join(redact_uri(u) for u in keys.unlocking) or NO_KMS_KNOWN))
    return out


def _short_note(row: KeyRow) -> str:
    """A file without a key, in a few words (SHOW BACKUP KEYS has the long note)."""
    from engine.inspection.keys import RowKind

    if row.kind is RowKind.UNREADABLE:
        return f"unreadable: {redact_text(row.error or '')}"
    short = {RowKind.PASSPHRASE: "passphrase salt", RowKind.EMPTY: "no keys", RowKind.IGNORED: "a directory: ignored"}
    return short.get(row.kind, row.note or "")


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit} ({n} bytes)"
        size /= 1024
    return f"{n} B"
