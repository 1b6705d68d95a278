"""What every screen has: the fleet header, a body, the footer and the command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from textual import events
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from vdctui.ops import Console
from vdctui.ui.widgets.command_line import CommandLine
from vdctui.ui.widgets.header import FleetHeader
from vdctui.ui.widgets.prompt import Prompt

if TYPE_CHECKING:
    from vdctui.ui.app import VdcApp


PROMPT_ACTIONS = {"filter", "command_line"}  # actions that open a line to type in


class FleetScreen(Screen[None]):
    """A screen of the console; subclasses compose `body()` and fill `refresh_data()`."""

    @property
    def vdc(self) -> VdcApp:
        return cast("VdcApp", self.app)

    @property
    def ops(self) -> Console:
        return self.vdc.ops

    @property
    def header(self) -> FleetHeader:
        return self.query_one(FleetHeader)

    @property
    def ready(self) -> bool:
        """Composed, mounted and not being taken down: only then may a sync or the clock
        draw on it (a switch or a shutdown can be half done when a sync ends)."""
        return (
            self.app.is_running
            and self.is_mounted
            and self.is_attached
            and bool(self.query(FleetHeader))
        )

    def compose(self) -> ComposeResult:
        yield FleetHeader()
        yield from self.body()
        yield CommandLine()
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p: in help and README

    def body(self) -> ComposeResult:
        yield from ()

    def on_key(self, event: events.Key) -> None:
        """A burst like `/web` reaches the screen key by key before any binding runs, so
        the keys that open a prompt act here at once, and the keys after them go into it."""
        prompt = next((p for p in self.query(Prompt) if p.is_open), None)
        if prompt is not None and not prompt.has_focus and event.is_printable:
            assert event.character is not None
            prompt.insert_text_at_cursor(event.character)
        elif prompt is None and (opener := self._opener(event.key)) is not None:
            opener()
        else:
            return
        event.stop()
        event.prevent_default()

    def _opener(self, key: str) -> Callable[[], object] | None:
        active = self.active_bindings.get(key)
        if active is None or active.binding.action not in PROMPT_ACTIONS:
            return None
        action: Callable[[], object] = getattr(active.node, f"action_{active.binding.action}")
        return action

    def on_screen_resume(self) -> None:
        # once drawn: the app may load the fleet (asked first, so that it is told as soon
        # as the frame is drawn, before what the screen reads after its first frame)
        self.call_after_refresh(self.vdc.painted)
        self.refresh_data()
        self.vdc.update_header(self.header)

    def refresh_data(self) -> None:
        """Re-read what this screen shows from the console (cheap: called every sync)."""

    def apply_filter(self, text: str) -> None:
        """Show what `text` matches (`:vms state:running`); a screen without a filter
        ignores it."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the changing actions from a read-only console (ops refuses them anyway)."""
        return not (self.vdc.read_only and action in getattr(self, "MUTATING", ()))

    def act(self, work: Any, done: str | None = None) -> None:
        """Run a console call in a worker; errors become notifications."""
        self.run_worker(self.vdc.act(work, done), group="act")
