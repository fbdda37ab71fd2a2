"""Asks for one secret a remembered collection needs (the store keeps only its name)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from syntax.uri import contains_secret, redact_uri


class SecretPrompt(ModalScreen[str | None]):
    """Dismisses with the value typed (kept in memory only), or None when skipped."""

    DEFAULT_CSS = """
    SecretPrompt { align: center middle; }
    SecretPrompt > Vertical { width: 80; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    """
    BINDINGS = [Binding("escape", "skip", "Skip")]

    def __init__(self, uri: str, name: str) -> None:
        super().__init__()
        self.uri = uri
        self.param = name

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"[b]{redact_uri(self.uri)}[/b] needs {self.param}", markup=True)
            yield Label("It was not stored (secrets never are). Enter it for this session, or Esc to skip.")
            yield Input(password=True, placeholder=self.param, id="secret-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value or None)

    def action_skip(self) -> None:
        self.dismiss(None)


class AddCollectionPrompt(ModalScreen[str | None]):
    """Asks for a collection URI (palette: "Add collection")."""

    DEFAULT_CSS = """
    AddCollectionPrompt { align: center middle; }
    AddCollectionPrompt > Vertical { width: 90; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    """
    BINDINGS = [Binding("escape", "skip", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Collection URI (e.g. nodelocal://self/backups, s3://bucket/path?AUTH=implicit)")
            yield Input(placeholder="nodelocal://self/...", id="collection-input")
            yield Label("", id="collection-shown")

    def on_input_changed(self, event: Input.Changed) -> None:
        """Once the URI holds a secret value, mask the field and show it redacted below."""
        secret = contains_secret(event.value)
        event.input.password = secret
        shown = self.query_one("#collection-shown", Label)
        shown.update(f"as stored: {redact_uri(event.value)}" if secret else "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_skip(self) -> None:
        self.dismiss(None)
