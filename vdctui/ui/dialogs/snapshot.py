"""Taking a snapshot: its name (checked as you type), a description, memory or disk only."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from vdctui import checks
from vdctui.escape import for_terminal
from vdctui.ops import Refused
from vdctui.ops.snapshots import check_description
from vdctui.ui.dialogs.ask import DIALOG_CSS


@dataclass(frozen=True)
class SnapshotRequest:
    name: str
    description: str
    disk_only: bool


class SnapshotDialog(ModalScreen[SnapshotRequest | None]):
    """Enter takes the snapshot; Esc cancels. Nothing is changed here (the caller acts)."""

    DEFAULT_CSS = DIALOG_CSS.format(name="SnapshotDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, vm: str, running: bool) -> None:
        super().__init__()
        self.vm = vm
        self.running = running

    def compose(self) -> ComposeResult:
        memory = "with its memory" if self.running else "of its disk (it is not running)"
        with Vertical():
            yield Static(Text(f"Snapshot {for_terminal(self.vm)}, {memory}"), classes="title")
            yield Input("", placeholder="name, e.g. before-upgrade", id="snapshot-name")
            yield Input("", placeholder="description (optional)", id="snapshot-description")
            yield Checkbox("Disk only (a running VM's memory is not kept)", id="snapshot-disk-only")
            yield Static("", classes="why", id="why")
            yield Static("Enter takes it; Esc cancels.", classes="keys")
            with Horizontal():
                yield Button("Take (Enter)", variant="primary", id="ok")
                yield Button("Cancel (Esc)", id="cancel")

    def _request(self) -> SnapshotRequest:
        name = self.query_one("#snapshot-name", Input).value.strip()
        try:
            checks.name(name, "snapshot")
        except checks.BadInput as exc:
            raise Refused(str(exc)) from None
        description = check_description(self.query_one("#snapshot-description", Input).value)
        disk_only = self.query_one("#snapshot-disk-only", Checkbox).value
        return SnapshotRequest(name, description, disk_only)

    def on_input_changed(self) -> None:
        why = self.query_one("#why", Static)
        try:
            self._request()
        except Refused as exc:
            why.update(Text(str(exc)) if self.query_one("#snapshot-name", Input).value else "")
            return
        why.update("")

    def on_input_submitted(self) -> None:
        self.ok()

    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        try:
            request = self._request()
        except Refused as exc:
            self.query_one("#why", Static).update(Text(str(exc)))
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
