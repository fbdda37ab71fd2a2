"""The completion dropdown: an OptionList floating at the editor's cursor.

It never has focus and never sees a key by itself: the editor forwards arrows, Enter, Tab and
Esc to it only while it is open (so typed text is never swallowed). Candidates come from
syntax.complete(); this widget only shows them, inside the editor's panel (never over its
border), each description cut at a word boundary with an ellipsis.

`known_collections` is the UI's source for the collection slot after `IN '`: the collections in
the browser, the remembered ones, and directories under the external-IO dir for
`nodelocal://self/` and `file://` prefixes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.geometry import Offset, Region
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from syntax.redact import redact_text

if TYPE_CHECKING:
    from syntax import Completion  # syntax.completion: loaded with the first completion

MAX_SHOWN = 200
MAX_ROWS = 10
MIN_WIDTH = 24
MAX_PATHS = 200
NODELOCAL = "nodelocal://self/"
FILE = "file://"
KIND_LABELS = {"keyword": "kw", "subdir": "dir", "scheme": "uri", "param": "par", "value": "val",
               "uri": "kms", "collection": "col"}


def fit_words(text: str, width: int) -> str:
    """`text` in `width` cells: whole, or cut at the last word boundary with "…" (a first word
    longer than `width` gives just "…"); never a half word."""
    if len(text) <= width:
        return text
    if width < 1:
        return ""
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space <= 0 and text[width - 1] != " ":
        return "…"
    if text[width - 1] != " ":
        cut = cut[:space]
    return cut.rstrip(" ,;:(-") + "…"


def _subdirs(base: Path) -> list[str]:
    """Names of the visible directories in `base`, sorted; [] when it cannot be listed."""
    try:
        with os.scandir(base) as it:
            names = [e.name for e in it if not e.name.startswith(".") and e.is_dir()]
    except OSError:
        return []
    return sorted(names)[:MAX_PATHS]


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except (OSError, ValueError):
        return False
    return True


def local_paths(typed: str, external_io_dir: Path) -> list[str]:
    """Collection URIs for directories under the external-IO dir that continue `typed`, for a
    `nodelocal://self/...` or `file://...` prefix (nothing outside that dir is listed)."""
    root = Path(external_io_dir)
    if typed.startswith(NODELOCAL):
        rel = typed[len(NODELOCAL):]
        parent = rel.rpartition("/")[0]
        base = root / parent
        if not _inside(base, root):
            return []
        head = NODELOCAL + (parent + "/" if parent else "")
        return [head + n for n in _subdirs(base)]
    if typed.startswith(FILE):
        path = typed[len(FILE):]
        top = str(root).rstrip("/")
        if path.startswith(top + "/"):
            parent = path.rpartition("/")[0]
            base = Path(parent)
            if not _inside(base, root):
                return []
            return [f"{FILE}{parent}/{n}" for n in _subdirs(base)]
        if top.startswith(path) or path == "":
            return [f"{FILE}{top}/{n}" for n in _subdirs(root)]
    return []


def known_collections(typed: str, shown: Iterable[str], remembered: Iterable[str],
                      external_io_dir: Path | None) -> list[str]:
    """The collection slot's candidates starting with `typed`: the browser's collections, the
    remembered ones, then local directories (syntax.complete filters and dedups again)."""
    out = [u for u in (*shown, *remembered) if u.startswith(typed)]
    if external_io_dir is not None:
        out += local_paths(typed, external_io_dir)
    return list(dict.fromkeys(out))


class CompletionDropdown(OptionList):
    """Shows completions; `choice()` is the highlighted one."""

    DEFAULT_CSS = """
    CompletionDropdown {
        overlay: screen;
        position: absolute;
        constrain: inside inside;
        display: none;
        width: auto;
        height: auto;
        max-height: 10;
        border: none;
        padding: 0;
        scrollbar-size-vertical: 1;
        background: $surface-lighten-1;
    }
    CompletionDropdown.-open { display: block; }
    """

    can_focus = False

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.completions: list[Completion] = []

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def show(self, completions: Sequence[Completion], at: Offset, bounds: Region | None = None,
             keep_clear: Region | None = None) -> None:
        """Open (or refresh) with `completions` below screen offset `at` (above when there is
        more room there), inside `bounds` (the editor's content region) when given, and never
        over `keep_clear` (a field too low to hold the list, with its border)."""
        self.completions = list(completions[:MAX_SHOWN])
        area = bounds if bounds is not None else self.screen.region
        top, bottom = (keep_clear.y, keep_clear.bottom) if keep_clear else (at.y, at.y + 1)
        rows_below = area.bottom - bottom
        rows_above = top - area.y
        n = min(len(self.completions), MAX_ROWS)
        if rows_below >= n or rows_below >= rows_above:
            y, height = bottom, max(1, min(n, rows_below))
        else:
            height = max(1, min(n, rows_above))
            y = top - height
        scrollbar = 1 if len(self.completions) > height else 0
        labels = [self._label(c) for c in self.completions]
        want = max((len(a) + (2 + len(b) if b else 0) for a, b in labels), default=MIN_WIDTH)
        width = max(1, min(area.width, max(MIN_WIDTH, want + scrollbar)))
        x = min(max(area.x, at.x), area.right - width)
        self.clear_options()
        self.add_options([self._option(a, b, width - scrollbar) for a, b in labels])
        self.styles.offset = (max(area.x, x), y)
        self.styles.width = width
        self.styles.height = height
        self.add_class("-open")
        self.highlighted = 0 if self.completions else None

    def close(self) -> None:
        self.remove_class("-open")
        self.completions = []
        self.clear_options()

    def move(self, delta: int) -> None:
        if not self.completions:
            return
        current = self.highlighted or 0
        self.highlighted = (current + delta) % len(self.completions)

    def choice(self) -> Completion | None:
        if self.highlighted is None or not self.completions:
            return None
        return self.completions[self.highlighted]

    @staticmethod
    def _label(c: Completion) -> tuple[str, str]:
        """(kind + text, description), both redacted (a remembered URI may hold a secret)."""
        text = redact_text(c.text)
        detail = redact_text(c.detail) if c.detail else ""
        if detail in (text, text.strip("'")):
            detail = ""
        return f"{KIND_LABELS.get(c.kind, c.kind):>3} {text}", detail

    @staticmethod
    def _option(head: str, detail: str, width: int) -> Option:
        label = Text(no_wrap=True, overflow="ellipsis", end="")
        label.append(head[:4], style="dim")
        label.append(head[4:], style="bold")
        room = width - len(head) - 2
        shown = fit_words(detail, room) if detail and room >= 6 else ""
        if shown and shown != "…":
            label.append(f"  {shown}", style="italic dim")
        return Option(label)
