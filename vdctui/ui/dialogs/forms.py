"""Resize and create: forms checked as you type, returning what was asked for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from vdctui import checks
from vdctui.escape import for_terminal
from vdctui.model import Flavor, Vm
from vdctui.ops import Refused
from vdctui.ops.creation import MAX_COUNT
from vdctui.ui.dialogs.ask import DIALOG_CSS
from vdctui.units import format_mib, parse_memory_mib

CheckResize = Callable[[Vm, int, int], None]  # raises Refused in one sentence


@dataclass(frozen=True)
class ResizeRequest:
    vcpus: int
    memory_mib: int


@dataclass(frozen=True)
class CreateRequest:
    name: str
    flavor: str
    pool: str
    count: int


class ResizeDialog(ModalScreen[ResizeRequest | None]):
    """vCPUs and memory, checked as you type against the maxima and the host's room."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ResizeDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, vm: Vm, check: CheckResize) -> None:
        super().__init__()
        self.vm = vm
        self.check = check

    def compose(self) -> ComposeResult:
        vm = self.vm
        with Vertical():
            yield Static(
                Text(
                    f"Resize {for_terminal(vm.name)} (now {vm.vcpus} vCPUs, "
                    f"{format_mib(vm.memory_mib)}; "
                    f"at most {vm.max_vcpus}, {format_mib(vm.max_memory_mib)})"
                ),
                classes="title",
            )
            yield Input(str(vm.vcpus), placeholder="vCPUs", id="vcpus")
            yield Input(f"{vm.memory_mib}MiB", placeholder="memory, e.g. 8GiB", id="memory")
            yield Static("", classes="why", id="why")
            yield Static("Enter resizes; Esc cancels.", classes="keys")
            with Horizontal():
                yield Button("Resize (Enter)", variant="primary", id="ok")
                yield Button("Cancel (Esc)", id="cancel")

    def _wanted(self) -> ResizeRequest:
        typed = self.query_one("#vcpus", Input).value
        try:
            vcpus = checks.whole_number(
                typed, "vCPUs", low=-checks.MAX_PLAIN_INT, high=checks.MAX_PLAIN_INT
            )
        except checks.BadInput:
            raise Refused("vCPUs must be a whole number.") from None
        try:
            memory = parse_memory_mib(self.query_one("#memory", Input).value)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        return ResizeRequest(vcpus, memory)

    def _checked(self) -> ResizeRequest | None:
        why = self.query_one("#why", Static)
        try:
            wanted = self._wanted()
            self.check(self.vm, wanted.vcpus, wanted.memory_mib)
        except Refused as exc:
            why.update(Text(str(exc)))
            self.query_one("#ok", Button).disabled = True
            return None
        why.update("")
        self.query_one("#ok", Button).disabled = False
        return wanted

    def on_input_changed(self) -> None:
        self._checked()

    def on_input_submitted(self) -> None:
        self.ok()

    @on(Button.Pressed, "#ok")
    def ok(self) -> None:
        wanted = self._checked()
        if wanted is not None:
            self.dismiss(wanted)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class CreateDialog(ModalScreen[CreateRequest | None]):
    """Name, flavor, pool, count. What is missing is said and what was typed stays;
    Enter in a field creates."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="CreateDialog")
        + """
    CreateDialog Label { margin-top: 1; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(
        self, name: str, flavors: list[Flavor], pools: list[str], given: tuple[str, ...] = ()
    ) -> None:
        super().__init__()
        self.initial_name = name
        self.given = given  # a flavor and a pool already typed on the command line
        self.flavors = flavors
        self.pools = pools

    def compose(self) -> ComposeResult:
        flavors = [
            (f"{f.name} ({f.vcpus} vCPU, {format_mib(f.memory_mib)})", f.name) for f in self.flavors
        ]
        with Vertical():
            yield Static("Create VMs", classes="title")
            yield Input(self.initial_name, placeholder="name (count > 1: NAME-01, ...)", id="name")
            flavor = next((f for f in self.given[:1] if f in {v for _, v in flavors}), None)
            pool = next((p for p in self.given[1:2] if p in self.pools), None)
            yield Select(flavors, prompt="flavor", id="flavor", value=flavor or Select.NULL)
            yield Select(
                [(p, p) for p in self.pools], prompt="pool", id="pool", value=pool or Select.NULL
            )
            yield Label("How many:")
            yield Input("1", placeholder="count", id="count")
            yield Static("", classes="why", id="why")
            yield Static("Enter in a field creates; Esc cancels.", classes="keys")
            with Horizontal():
                yield Button("Create (Enter)", variant="primary", id="ok")
                yield Button("Cancel (Esc)", id="cancel")

    def _request(self) -> CreateRequest:
        name = self.query_one("#name", Input).value.strip()
        flavor_box = self.query_one("#flavor", Select)
        pool_box = self.query_one("#pool", Select)
        count = self.query_one("#count", Input).value.strip()
        if not name:
            raise Refused("Give the VM a name.")
        if flavor_box.is_blank() or pool_box.is_blank():
            raise Refused("Pick a flavor and a pool.")
        try:
            how_many = checks.whole_number(count, "The count", low=1, high=MAX_COUNT)
        except checks.BadInput as exc:
            raise Refused(str(exc)) from None
        return CreateRequest(name, str(flavor_box.value), str(pool_box.value), how_many)

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
