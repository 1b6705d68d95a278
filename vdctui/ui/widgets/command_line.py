"""The `:` line at the bottom: type a command, Tab completes, Enter runs, Esc leaves."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import Input

from vdctui.ui.commands import CommandSuggester, execute
from vdctui.ui.widgets.prompt import Prompt


class CommandLine(Prompt):
    DEFAULT_CSS = """
    CommandLine { dock: bottom; background: $boost; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="command-line.close"),
        Binding("tab", "complete", "Complete", id="command-line.complete", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(placeholder=":command  (Tab completes, Esc closes)")

    def on_mount(self) -> None:
        app: Any = self.app
        self.suggester = CommandSuggester(app)

    def action_close(self) -> None:
        self.value = ""
        self.close()
        self.screen.focus_next()

    def action_complete(self) -> None:
        if self._suggestion:
            self.value = self._suggestion
            self.cursor_position = len(self.value)

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value
        self.action_close()
        app: Any = self.app
        await execute(app, line)
