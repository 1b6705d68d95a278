"""A table that shows one page of a long list and asks for the next at its edges.

The list itself stays in SQLite (through ops): the table never holds more rows
than fit on the screen, so 100,000 VMs scroll like 40. It draws with Textual's
line API (one pre-formatted string per row), which keeps a repaint to a few
milliseconds where a DataTable of the same page takes tens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

ALL = 1 << 40  # "as far as it goes"
GAP = "  "


class PagedTable(Widget, can_focus=True):
    DEFAULT_CSS = """
    PagedTable { height: 1fr; }
    PagedTable > .paged-table--header { text-style: bold; background: $panel; }
    PagedTable > .paged-table--cursor { background: $accent; color: $text; text-style: bold; }
    PagedTable > .paged-table--odd { background: $surface; }
    PagedTable > .paged-table--marked { color: $warning; }
    """
    COMPONENT_CLASSES = {
        "paged-table--header",
        "paged-table--cursor",
        "paged-table--odd",
        "paged-table--marked",
    }
    BINDINGS = [
        Binding("down,j", "cursor_down", "Down", id="table.down", show=False),
        Binding("up,k", "cursor_up", "Up", id="table.up", show=False),
        Binding("pagedown", "page_down", "Page down", id="table.page-down", show=False),
        Binding("pageup", "page_up", "Page up", id="table.page-up", show=False),
        Binding("home,ctrl+home,g", "scroll_top", "Top", id="table.top", show=False),
        Binding("end,ctrl+end,G", "scroll_bottom", "Bottom", id="table.bottom", show=False),
    ]

    cursor_row: reactive[int] = reactive(0)
    """The row under the cursor, on this page."""

    @dataclass
    class Edge(Message):
        """The cursor wants to move `rows` (down; up when <0), which leaves the page: the
        owner of the list turns the page and puts the cursor on the row it asked for."""

        table: PagedTable
        rows: int

    @dataclass
    class PageResized(Message):
        """The table's height changed: the page holds a different number of rows now."""

        table: PagedTable

    @dataclass
    class HeaderClicked(Message):
        """A column's header was clicked (to sort by it)."""

        table: PagedTable
        column: int

    def __init__(self, headers: Sequence[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.headers = list(headers)
        self._rows: list[list[str]] = []
        self._marked: list[bool] = []
        self._widths = [cell_len(h) for h in self.headers]
        self.sorted_by: tuple[int, bool] | None = None
        """The column the list is sorted by, and whether it is descending."""

    def headers_shown(self) -> list[str]:
        """The headings as drawn: upper case, the sorted column with its direction."""
        shown = [h.upper() for h in self.headers]
        if self.sorted_by is not None:
            column, descending = self.sorted_by
            shown[column] += " ▼" if descending else " ▲"
        return shown

    # --- contents ------------------------------------------------------------------

    def show(self, rows: list[list[str]], marked: list[bool] | None = None) -> None:
        """Replace the page; column widths fit the headers and this page's cells."""
        self._rows = rows
        self._marked = marked or [False] * len(rows)
        self._widths = [
            max([cell_len(h)] + [cell_len(r[i]) for r in rows])
            for i, h in enumerate(self.headers_shown())
        ]
        self.cursor_row = min(max(self.cursor_row, 0), max(len(rows) - 1, 0))
        self.refresh()

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def page_rows(self) -> int:
        """How many rows fit (the header takes one line)."""
        return max(self.size.height - 1, 1)

    def move_cursor(self, *, row: int) -> None:
        self.cursor_row = min(max(row, 0), max(len(self._rows) - 1, 0))

    def watch_cursor_row(self) -> None:
        self.refresh()

    # --- drawing --------------------------------------------------------------------

    def _segments(self, cells: Sequence[str], look: Style) -> list[Segment]:
        """One segment per cell, padded to its column (in terminal cells), and one per gap:
        each cell starts at its own column in every rendering, whatever the glyphs before
        it (a picture's font may draw a sparkline's blocks wider than a letter)."""
        segments = [Segment(" ", look)]
        for index, (text, width) in enumerate(zip(cells, self._widths, strict=False)):
            if index:
                segments.append(Segment(GAP, look))
            segments.append(Segment(set_cell_size(text, width), look))
        return segments

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            cells, style = self.headers_shown(), "paged-table--header"
        elif y - 1 < len(self._rows):
            row = y - 1
            cells = self._rows[row]
            if row == self.cursor_row and self.has_focus:
                style = "paged-table--cursor"
            elif self._marked[row]:
                style = "paged-table--marked"
            else:
                style = "paged-table--odd" if row % 2 else ""
        else:
            return Strip.blank(width, self.rich_style)
        look: Style = self.rich_style + (self.get_component_rich_style(style) if style else Style())
        return Strip(self._segments(cells, look)).adjust_cell_length(width, look)

    def on_resize(self) -> None:
        self.post_message(self.PageResized(self))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            self.post_message(self.HeaderClicked(self, self._column_at(event.x)))
        elif 0 < event.y <= len(self._rows):
            self.move_cursor(row=event.y - 1)

    def _column_at(self, x: int) -> int:
        edge = 1
        for index, width in enumerate(self._widths):
            edge += width + len(GAP)
            if x < edge:
                return index
        return len(self._widths) - 1

    # --- moving: past an edge of the page, ask for the next one ---------------------------

    def _past_bottom(self, rows: int) -> bool:
        if self.cursor_row + rows <= self.row_count - 1:
            return False
        self.post_message(self.Edge(self, rows))
        return True

    def _past_top(self, rows: int) -> bool:
        if self.cursor_row - rows >= 0:
            return False
        self.post_message(self.Edge(self, -rows))
        return True

    def action_cursor_down(self) -> None:
        if not self._past_bottom(1):
            self.cursor_row += 1

    def action_cursor_up(self) -> None:
        if not self._past_top(1):
            self.cursor_row -= 1

    def action_page_down(self) -> None:
        if not self._past_bottom(self.page_rows):
            self.cursor_row += self.page_rows

    def action_page_up(self) -> None:
        if not self._past_top(self.page_rows):
            self.cursor_row -= self.page_rows

    def action_scroll_bottom(self) -> None:
        self.post_message(self.Edge(self, ALL))

    def action_scroll_top(self) -> None:
        self.post_message(self.Edge(self, -ALL))
