"""What the app's widgets share about the browser's nodes (a plain value, no Textual).

Messages are declared in the widget that posts them, as Textual's own widgets do
(`CollectionBrowser.NodeSelected`, `SQLEditor.StatementsSubmitted`, `ProgressPane.CancelRequested`,
`RewrapApp.StatementExecuted`); the app routes them with `@on(Widget.Message, selector)`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NodeRef:
    """What a browser node stands for: a collection, a full backup or an incremental."""

    kind: str  # "collection", "full" or "incremental"
    collection: str  # the collection URI as the session knows it (may hold secrets: never show)
    subdir: str = ""  # '/2026/11/24-020012.34' for full backups and incrementals (their full's)
    path: str = ""  # the layer's path relative to the collection
    latest: bool = False
