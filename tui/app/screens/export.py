"""Export the shown result to a file (Ctrl+S, palette "Export result"): csv, tsv or json lines,
written by the batch writers (tui.batch.output.write_rows) so a file matches `rewrap -e
--format`. The format comes from the name's extension. An existing file is replaced only after
a second Enter on the same name (then atomically, engine.paths.write_private); a new one is
created with O_EXCL, never through a symlink."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from engine.errors import RewrapError
from tui.batch.output import write_rows
from tui.shared import safe_error

SUFFIXES = {".csv": "csv", ".tsv": "tsv", ".json": "json", ".jsonl": "json", ".ndjson": "json"}


def export_format(path: Path) -> str:
    """The format a file name asks for; RewrapError naming the choices otherwise."""
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise RewrapError(f"{path.name}: name a .csv, .tsv or .json file (the extension picks the format)")
    return fmt


def export_rows(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                overwrite: bool = False) -> str:
    """Write the rows to `path` in the format its extension names; returns the format.
    FileExistsError when it exists and `overwrite` is false; RewrapError for anything else."""
    fmt = export_format(path)
    buffer = io.StringIO()
    write_rows(buffer, fmt, columns, rows)
    data = buffer.getvalue().encode()
    if not path.parent.is_dir():
        raise RewrapError(f"cannot write {path}: no such directory {path.parent}")
    try:
        if overwrite and os.path.lexists(path):
            from engine.paths import write_private

            write_private(path, data)
            return fmt
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    except FileExistsError:
        raise
    except OSError as e:
        raise RewrapError(f"cannot write {path}: {e.strerror or type(e).__name__}") from None
    return fmt


class ExportScreen(ModalScreen[Path | None]):
    """Asks for the file; dismisses with the path written, or None (Esc)."""

    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical { width: 90%; max-width: 100; height: auto; border: thick $primary;
                              background: $surface; padding: 1 2; }
    ExportScreen #export-message { color: $text-muted; }
    ExportScreen #export-message.-problem { color: $error; }
    ExportScreen #export-message.-confirm { color: $warning; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
                 default: str = "result.csv") -> None:
        super().__init__()
        self.columns = list(columns)
        self.rows = list(rows)
        self.default = default
        self.confirming: Path | None = None  # exists: a second Enter on this path replaces it

    def compose(self) -> ComposeResult:
        n = len(self.rows)
        with Vertical():
            yield Label(f"Export {n} row{'' if n == 1 else 's'} to a file (.csv, .tsv or .json lines)")
            yield Input(self.default, placeholder="result.csv", id="export-path")
            yield Label("Enter writes, Esc cancels; an existing file is kept unless you confirm",
                        id="export-message")

    def _say(self, text: str, kind: str = "") -> None:
        label = self.query_one("#export-message", Label)
        label.update(text)
        label.set_class(kind == "problem", "-problem")
        label.set_class(kind == "confirm", "-confirm")

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.confirming is not None:
            self.confirming = None
            self._say("Enter writes, Esc cancels")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        typed = event.value.strip()
        if not typed:
            self._say("type a file name", "problem")
            return
        path = Path(typed).expanduser()
        if not path.is_absolute():
            path = Path.cwd() / path
        try:
            export_rows(path, self.columns, self.rows, overwrite=self.confirming == path)
        except FileExistsError:
            self.confirming = path
            self._say(f"{typed} exists: Enter again replaces it, Esc keeps it", "confirm")
            return
        except (RewrapError, OSError) as e:
            self.confirming = None
            self._say(safe_error(e) if isinstance(e, RewrapError) else f"cannot write {typed}", "problem")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
