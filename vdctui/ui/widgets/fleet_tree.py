"""The physical tree of the inventory: sites, rooms, racks, hosts."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Tree

Node = tuple[str, str]  # (kind, name): ("site", "dc1"), ("rack", "rk1"), ("host", "rk1-h01")


class FleetTree(Tree[Node]):
    """Right opens a branch (or steps into it), left closes it (or steps out)."""

    BINDINGS = [
        Binding("right", "open_branch", "Open", id="inventory.open", show=False),
        Binding("left", "close_branch", "Close", id="inventory.close", show=False),
    ]

    def action_open_branch(self) -> None:
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if node.is_expanded:
            self.action_cursor_down()
        else:
            node.expand()

    def action_close_branch(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.allow_expand:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)
