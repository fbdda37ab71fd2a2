"""The collection browser: collections, their full backups (newest first, LATEST marked) and
each full backup's incrementals, loaded lazily in thread workers when a node is expanded.

Where the panel is too narrow for "/2026/11/26-022012.34  LATEST" (80 columns), full backups are
shown compact: without the leading "/" (as CockroachDB's SHOW BACKUPS prints them), the latest in
bold green with a "●", and the border's subtitle says what "●" means; the path i inserts is the
full subdir either way.

The browser does no I/O itself: a node expanded for the first time posts ListingWanted; the app
lists it in a worker and hands the answer (or the error, cleaned) to `show_children`.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from syntax.uri import redact_uri
from tui.app.listing import NOTHING_STORED, NothingStored, children_of
from tui.app.messages import NodeRef

__all__ = ["NOTHING_STORED", "CollectionBrowser", "NothingStored", "children_of", "node_label"]


LATEST_MARK = "  LATEST"
COMPACT_MARK = " ●"
COMPACT_LEGEND = "● LATEST"
_GUIDES = 4  # cells left of a full backup's label: its guide and expand icon ("├ ▶ ")


def node_label(ref: NodeRef, compact: bool = False) -> Text:
    """The label of `ref`'s node; `compact` is the narrow panel's form of a full backup."""
    if ref.kind == "collection":
        return Text(redact_uri(ref.collection), style="bold")
    if ref.kind == "full":
        if compact:
            if ref.latest:
                return Text(ref.subdir.lstrip("/") + COMPACT_MARK, style="bold green")
            return Text(ref.subdir.lstrip("/"))
        label = Text(ref.subdir)
        if ref.latest:
            label.append(LATEST_MARK, style="bold green")
        return label
    return Text(ref.path.rsplit("/", 2)[-2] + "/" + ref.path.rsplit("/", 1)[-1], style="italic")


class CollectionBrowser(Tree[NodeRef]):
    BINDINGS = [
        Binding("i", "node('insert')", "Insert path"),
        Binding("s", "node('show')", "SHOW BACKUP"),
        Binding("k", "node('add_key')", "Add key"),
        Binding("r", "node('retire')", "Retire key", show=False),  # F1 and the palette list it
        Binding("delete,x", "node('remove')", "Remove"),  # the collection (palette: Remove collection)
    ]

    class NodeMessage(Message):
        """A message about one node of this browser (`control` is the browser, for @on selectors)."""

        def __init__(self, browser: CollectionBrowser, node: NodeRef) -> None:
            super().__init__()
            self.browser = browser
            self.node = node

        @property
        def control(self) -> CollectionBrowser:
            return self.browser

    class NodeSelected(NodeMessage):
        """The highlighted node changed: the details panel loads its details."""

    class ListingWanted(NodeMessage):
        """A node was expanded for the first time: its children are to be listed (by the app)."""

    class NodeAction(NodeMessage):
        """An action on a node: "insert" its path, "show" (SHOW BACKUP), "add_key", "retire", or
        "remove" (its collection is forgotten: from the tree and the remembered list)."""

        def __init__(self, browser: CollectionBrowser, action: str, node: NodeRef) -> None:
            super().__init__(browser, node)
            self.action = action

    def __init__(self, **kwargs: object) -> None:
        super().__init__("collections", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 2
        self._loaded: set[int] = set()
        self.compact = False  # full backups in the narrow form (node_label)

    def add_collection(self, uri: str) -> TreeNode[NodeRef]:
        for child in self.root.children:
            if child.data is not None and child.data.collection == uri:
                return child
        ref = NodeRef("collection", uri)
        node = self.root.add(node_label(ref), data=ref, allow_expand=True)
        return node

    def mark_listed(self, node: TreeNode[NodeRef]) -> None:
        """`node`'s children are shown already (an early listing): expanding it asks for none."""
        self._loaded.add(node.id)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeRef]) -> None:
        node = event.node
        if node.id in self._loaded or node.data is None or node.data.kind == "incremental":
            return
        self._loaded.add(node.id)
        node.add_leaf(Text("loading…", style="dim"))
        self.post_message(self.ListingWanted(self, node.data))

    def show_children(self, ref: NodeRef, children: list[NodeRef], error: str | None = None) -> None:
        """The listing of `ref` arrived (`error`: already cleaned for the screen)."""
        node = self._find(ref)
        if node is None:
            return
        node.remove_children()
        if error == NOTHING_STORED:
            node.add_leaf(Text(error, style="yellow"))
        elif error:
            node.add_leaf(Text(f"error: {error}", style="red"))
        elif not children:
            node.add_leaf(Text("(empty)", style="dim"))
        for ref in children:
            node.add(node_label(ref, self.compact), data=ref, allow_expand=ref.kind == "full")
        self.fit_labels()

    def on_resize(self) -> None:
        self.fit_labels()

    def fit_labels(self) -> None:
        """Full backups in the wide form if the widest fits the panel, else all compact."""
        fulls = [n for c in self.root.children for n in c.children if n.data is not None and n.data.kind == "full"]
        width = self.scrollable_content_region.width
        wide = max((len(node_label(n.data).plain) for n in fulls if n.data is not None), default=0)
        compact = width > 0 and wide + _GUIDES > width
        if compact != self.compact:
            self.compact = compact
            for n in fulls:
                if n.data is not None:
                    n.set_label(node_label(n.data, compact))
        latest = any(n.data is not None and n.data.latest for n in fulls)
        self.border_subtitle = COMPACT_LEGEND if compact and latest else ""

    def remove_collection(self, uri: str) -> bool:
        """Forget the collection `uri` (its node and everything under it); False if not shown."""
        for child in self.root.children:
            if child.data is not None and child.data.collection == uri:
                self._loaded.discard(child.id)
                child.remove()
                return True
        return False

    def _find(self, ref: NodeRef) -> TreeNode[NodeRef] | None:
        stack = list(self.root.children)
        while stack:
            n = stack.pop()
            if n.data == ref:
                return n
            stack.extend(n.children)
        return None

    def on_focus(self) -> None:
        """Focused with no node under the cursor (the first time): the first collection, so
        i / s / k / Delete act on something instead of asking to select one."""
        if self.cursor_node is None and self.root.children:
            self.move_cursor(self.root.children[0])

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        if event.node.data is not None:
            self.post_message(self.NodeSelected(self, event.node.data))

    def action_node(self, action: str) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            self.notify("select a collection or backup first", severity="warning")
            return
        self.post_message(self.NodeAction(self, action, node.data))
