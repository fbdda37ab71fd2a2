"""Typed messages between the app, its widgets and its workers.

Workers run in threads and post these (Message.post_message is thread safe); tests assert on
them with `app.run_test(message_hook=...)`, as harlequin does. No message carries a secret: URIs
in `display` fields are redacted, and result rows come from the engine, which redacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


class StatementsSubmitted(Message):
    """The editor (or an action) asks to run these statements' texts, in order."""

    def __init__(self, texts: list[str]) -> None:
        super().__init__()
        self.texts = texts


class StatementExecuted(Message):
    """One statement ran; `rows` and `columns` as the engine returned them."""

    def __init__(self, text: str, columns: list[str], rows: list[tuple[Any, ...]],
                 notices: list[str], ok: bool) -> None:
        super().__init__()
        self.text = text
        self.columns = columns
        self.rows = rows
        self.notices = notices
        self.ok = ok


class StatementFailed(Message):
    """A statement did not run (syntax error, RewrapError, cancelled); `error` is safe to show."""

    def __init__(self, text: str, error: str) -> None:
        super().__init__()
        self.text = text
        self.error = error


class ExecutionFinished(Message):
    """The worker finished the batch (whatever the outcome); input is free for the next run."""

    def __init__(self, ran: int, failed: int, cancelled: bool, token: object = None) -> None:
        super().__init__()
        self.ran = ran
        self.failed = failed
        self.cancelled = cancelled
        self.token = token  # the run's CancelToken: a detached run's late finish is ignored


class ProgressEvent(Message):
    """One engine event (engine.rewrap.events) forwarded from the worker thread."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class CancelRequested(Message):
    """The person asked to cancel the running statement (Esc / Ctrl+C in the progress pane)."""


class CollectionAdded(Message):
    """A collection joined the browser (from --collection, the palette or the store)."""

    def __init__(self, uri: str) -> None:
        super().__init__()
        self.uri = uri


@dataclass(frozen=True)
class NodeRef:
    """What a browser node stands for: a collection, a full backup or an incremental."""

    kind: str  # "collection", "full" or "incremental"
    collection: str  # the collection URI as the session knows it (may hold secrets: never show)
    subdir: str = ""  # '/2026/11/24-020012.34' for full backups and incrementals (their full's)
    path: str = ""  # the layer's path relative to the collection
    latest: bool = False


class NodeSelected(Message):
    """The browser's highlighted node changed: the details panel loads its details."""

    def __init__(self, node: NodeRef) -> None:
        super().__init__()
        self.node = node


class BackupsListed(Message):
    """A lazily loaded listing arrived (full backups of a collection, incrementals of a full)."""

    def __init__(self, node: NodeRef, children: list[NodeRef], error: str | None = None) -> None:
        super().__init__()
        self.node = node
        self.children = children
        self.error = error


class DetailsLoaded(Message):
    """Details of a node, as lines of (label, value) ready to show."""

    def __init__(self, node: NodeRef, fields: list[tuple[str, str]]) -> None:
        super().__init__()
        self.node = node
        self.fields = fields


class InsertText(Message):
    """Insert text at the editor's cursor (browser action "insert path")."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class CompletionAccepted(Message):
    """The dropdown's choice was applied to the editor's text."""

    def __init__(self, text: str, start: int, end: int) -> None:
        super().__init__()
        self.text = text
        self.start = start
        self.end = end


class DiagnosticsUpdated(Message):
    """The editor re-checked its text; `count` problems, the first at the cursor or overall."""

    def __init__(self, count: int, message: str, source_id: str | None = None) -> None:
        super().__init__()
        self.count = count
        self.message = message
        self.source_id = source_id  # the editor's id: the main one, or a rotation field


class HistoryRecalled(Message):
    def __init__(self, index: int, text: str) -> None:
        super().__init__()
        self.index = index
        self.text = text


class Copied(Message):
    """A cell or row went to the clipboard."""

    def __init__(self, what: str, text: str) -> None:
        super().__init__()
        self.what = what
        self.text = text


class NodeAction(Message):
    """An action on a browser node: "insert" its path, "show" (SHOW BACKUP) or "add_key"."""

    def __init__(self, action: str, node: NodeRef) -> None:
        super().__init__()
        self.action = action
        self.node = node
