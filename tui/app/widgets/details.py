"""The details panel: what the browser's selected node is, loaded in a worker by the app."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.app.messages import DetailsLoaded, NodeRef


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

    def show(self, message: DetailsLoaded) -> None:
        if message.node != self.node:
            return  # the selection moved on
        self.fields = message.fields
        table = Table.grid(padding=(0, 1))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for label, value in message.fields:
            table.add_row(label, value)
        self.update(table)
