"""An input line that appears on demand and takes the very next key.

`Widget.focus()` takes effect a moment later, so a fast typist's `/web` would
lose `web` to the table; opening moves the focus at once instead.
"""

from __future__ import annotations

from textual.widgets import Input


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

    def close(self) -> None:
        self.display = False

    @property
    def is_open(self) -> bool:
        return bool(self.display)
