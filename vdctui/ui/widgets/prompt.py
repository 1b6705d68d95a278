"""An input line that appears on demand and takes the very next key.

Reopened, it shows what it held, selected: typing replaces it, an arrow key keeps it.

`Widget.focus()` takes effect a moment later, so a fast typist's `/web` would
lose `web` to the table; opening moves the focus at once instead.
"""

from __future__ import annotations

from textual.widgets import Input
from textual.widgets.input import Selection


class Prompt(Input):
    DEFAULT_CSS = """
    Prompt { display: none; height: 1; border: none; padding: 0 1; }
    Prompt:focus { border: none; }
    """

    def open(self, value: str = "") -> None:
        self.value = value
        self.cursor_position = len(value)
        self.display = True
        self.screen.set_focus(self)
        self.selection = Selection(0, len(value))

    def insert_text_at_cursor(self, text: str) -> None:
        """Typed text replaces the selection (the old filter), as in any text field."""
        if self.selection.is_empty:
            super().insert_text_at_cursor(text)
        else:
            self.replace(text, *self.selection)

    def close(self) -> None:
        self.display = False

    @property
    def is_open(self) -> bool:
        return bool(self.display)
