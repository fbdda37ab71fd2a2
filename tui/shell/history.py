"""The line shell's history: prompt_toolkit's History interface over rewrap's one history file.

tui/history.py owns the file (JSON lines, redacted, mode 0600, shared with the TUI); this adapter
only lets prompt_toolkit read and extend it, so Up/Down, Ctrl+R search and
AutoSuggestFromHistory all work from the same redacted entries across runs.
"""

from __future__ import annotations

from collections.abc import Iterable

from prompt_toolkit.history import History as PromptToolkitHistory

from tui.history import History


class ShellHistory(PromptToolkitHistory):
    """prompt_toolkit's view of `History`: newest first in, redacted on the way out."""

    def __init__(self, store: History | None = None) -> None:
        self.store = store or History()
        super().__init__()

    def load_history_strings(self) -> Iterable[str]:
        return reversed(self.store.entries())

    def store_string(self, string: str) -> None:
        # The in-memory copy prompt_toolkit keeps for this session stays as typed (so Up re-runs
        # it); only the redacted text reaches the disk.
        self.store.append(string)
