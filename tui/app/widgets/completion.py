"""The completion dropdown: an OptionList floating at the editor's cursor.

It never has focus and never sees a key by itself: the editor forwards arrows, Enter, Tab and
Esc to it only while it is open (so typed text is never swallowed). Candidates come from
syntax.complete(); this widget only shows them.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.geometry import Offset
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from syntax import Completion
from syntax.uri import redact_text

MAX_SHOWN = 200
KIND_LABELS = {"keyword": "kw", "subdir": "dir", "scheme": "uri", "param": "par", "value": "val",
               "uri": "kms"}


class CompletionDropdown(OptionList):
    """Shows completions; `choice()` is the highlighted one."""

    DEFAULT_CSS = """
    CompletionDropdown {
        overlay: screen;
        position: absolute;
        constrain: inside inside;
        display: none;
        width: auto;
        min-width: 24;
        max-width: 80;
        height: auto;
        max-height: 10;
        border: none;
        padding: 0;
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

    def show(self, completions: Sequence[Completion], at: Offset) -> None:
        """Open (or refresh) with `completions` below screen offset `at`."""
        self.completions = list(completions[:MAX_SHOWN])
        self.clear_options()
        self.add_options([self._option(c) for c in self.completions])
        self.styles.offset = (max(0, at.x), at.y + 1)
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
    def _option(c: Completion) -> Option:
        label = Text()
        label.append(f"{KIND_LABELS.get(c.kind, c.kind):>3} ", style="dim")
        label.append(redact_text(c.text), style="bold")  # a remembered URI may hold a secret
        if c.detail:
            label.append(f"  {redact_text(c.detail)[:48]}", style="italic dim")
        return Option(label)
