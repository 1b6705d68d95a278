"""A DataTable that shows one page of a long list and asks for the next at its edges.

The list itself stays in SQLite (through ops): the table never holds more rows
than fit on the screen, so 100,000 VMs scroll like 40.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

ALL = 1 << 40  # "as far as it goes"


class PagedTable(DataTable[object]):
    BINDINGS = [
        Binding("home,ctrl+home,g", "scroll_top", "Top", id="table.top", show=False),
        Binding("end,ctrl+end,G", "scroll_bottom", "Bottom", id="table.bottom", show=False),
    ]

    @dataclass
    class Edge(Message):
        """The cursor wants to go `rows` past the top (<0) or the bottom (>0) of the page."""

        table: PagedTable
        rows: int

    @dataclass
    class PageResized(Message):
        """The table's height changed: the page holds a different number of rows now."""

        table: PagedTable

    def on_resize(self) -> None:
        self.post_message(self.PageResized(self))

    def _past_bottom(self, rows: int) -> bool:
        if self.cursor_row + rows <= self.row_count - 1:
            return False
        self.post_message(self.Edge(self, self.cursor_row + rows - (self.row_count - 1)))
        return True

    def _past_top(self, rows: int) -> bool:
        if self.cursor_row - rows >= 0:
            return False
        self.post_message(self.Edge(self, self.cursor_row - rows))
        return True

    def action_cursor_down(self) -> None:
        if not self._past_bottom(1):
            super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if not self._past_top(1):
            super().action_cursor_up()

    def action_page_down(self) -> None:
        self._past_bottom(max(self.page_rows, 1)) or super().action_page_down()

    def action_page_up(self) -> None:
        self._past_top(max(self.page_rows, 1)) or super().action_page_up()

    def action_scroll_bottom(self) -> None:
        self.post_message(self.Edge(self, ALL))

    def action_scroll_top(self) -> None:
        self.post_message(self.Edge(self, -ALL))

    @property
    def page_rows(self) -> int:
        """How many rows fit (the header takes one line)."""
        return max(self.size.height - 1, 1)
