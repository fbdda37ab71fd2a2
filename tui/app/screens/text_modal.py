"""The whole of one text: a result cell, a progress row's reason, the notice log (Enter opens it,
as harlequin's error modal does). Wrapped to the screen, scrollable, copyable."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class TextModal(ModalScreen[None]):
    DEFAULT_CSS = """
    TextModal { align: center middle; }
    TextModal > Vertical { width: 96%; max-width: 120; height: auto; max-height: 90%;
                           border: thick $primary; background: $surface; padding: 0 1; }
    TextModal #text-title { text-style: bold; }
    TextModal VerticalScroll { height: auto; max-height: 1fr; }
    TextModal #text-keys { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,enter,q", "close", "Close"),
        Binding("c", "copy", "Copy"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text), id="text-title")
            with VerticalScroll(id="text-scroll"):
                yield Static(Text(self.text), id="text-body")
            yield Label("Esc close  c copy  ↑↓ scroll", id="text-keys")

    def on_mount(self) -> None:
        self.query_one("#text-scroll").focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.text)
        self.notify("copied", timeout=1.5)

    def action_close(self) -> None:
        self.dismiss(None)
