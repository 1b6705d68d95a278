"""Dialogs: confirm, migrate (ranked candidates with reasons), resize, create."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from vdctui.model import Vm
from vdctui.ops import Console, Refused
from vdctui.units import format_mib, format_percent, parse_memory_mib

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 90; max-width: 95%; height: auto; max-height: 90%;
    border: thick $accent; background: $surface; padding: 1 2; }}
{name} .title {{ text-style: bold; margin-bottom: 1; }}
{name} .why {{ color: $error; height: auto; }}
{name} Horizontal {{ height: auto; margin-top: 1; }}
{name} Button {{ margin-right: 2; }}
"""


class ConfirmDialog(ModalScreen[bool]):
    """Ask before anything destructive; Enter/y confirms, Esc/n cancels."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")
    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str, verb: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.verb = verb

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, classes="title")
            with Horizontal():
                yield Button(self.verb, variant="error", id="yes")
                yield Button("Cancel", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class MigrateDialog(ModalScreen[str | None]):
    """Hosts ranked by placement; excluded ones greyed out with the reason."""

    DEFAULT_CSS = (
        DIALOG_CSS.format(name="MigrateDialog")
        + """
    MigrateDialog OptionList { height: auto; max-height: 20; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, console: Console, vm: str, also: int = 0) -> None:
        super().__init__()
        self.ops = console
        self.vm = vm
        self.also = also  # marked VMs that go to the same host

    def compose(self) -> ComposeResult:
        with Vertical():
            others = f" and {self.also} more marked VM(s)" if self.also else ""
            yield Label(f"Migrate {self.vm}{others} to ...", classes="title")
            try:
                candidates = self.ops.migration_candidates(self.vm)
            except Refused as exc:
                yield Static(str(exc), classes="why")
                return
            options = []
            for c in candidates:
                h = c.host
                line = Text(f"{h.name:<14}", style="bold" if c.reason is None else "dim")
                if c.reason is None:
                    free = h.usable_memory_mib - h.memory_used_mib
                    busy = format_percent(h.cpu_util)
                    line.append(f" {h.rack:<6} cpu {busy:>3}%  {format_mib(free)} free")
                else:
                    line.append(f" excluded: {c.reason}", style="dim")
                options.append(Option(line, id=h.name, disabled=c.reason is not None))
            yield OptionList(*options)
            fits = sum(1 for c in candidates if c.reason is None)
            yield Static(
                f"{fits} of {len(candidates)} hosts can take it. Enter moves it live; Esc cancels."
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ResizeDialog(ModalScreen[None]):
    """vCPUs and memory, checked as you type against the maxima and the host's room."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ResizeDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, console: Console, vm: Vm) -> None:
        super().__init__()
        self.ops = console
        self.vm = vm

    def compose(self) -> ComposeResult:
        vm = self.vm
        with Vertical():
            yield Label(
                f"Resize {vm.name} (now {vm.vcpus} vCPUs, {format_mib(vm.memory_mib)}; "
                f"at most {vm.max_vcpus}, {format_mib(vm.max_memory_mib)})",
                classes="title",
            )
            yield Input(str(vm.vcpus), placeholder="vCPUs", id="vcpus")
            yield Input(f"{vm.memory_mib}MiB", placeholder="memory, e.g. 8GiB", id="memory")
            yield Static("", classes="why", id="why")
            with Horizontal():
                yield Button("Resize", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def _wanted(self) -> tuple[int, int]:
        try:
            vcpus = int(self.query_one("#vcpus", Input).value)
        except ValueError:
            raise Refused("vCPUs must be a whole number.") from None
        try:
            memory = parse_memory_mib(self.query_one("#memory", Input).value)
        except ValueError as exc:
            raise Refused(str(exc)) from None
        return vcpus, memory

    def _check(self) -> tuple[int, int] | None:
        why = self.query_one("#why", Static)
        try:
            vcpus, memory = self._wanted()
            self.ops.check_resize(self.vm, vcpus, memory)
        except Refused as exc:
            why.update(str(exc))
            self.query_one("#ok", Button).disabled = True
            return None
        why.update("")
        self.query_one("#ok", Button).disabled = False
        return vcpus, memory

    def on_input_changed(self) -> None:
        self._check()

    async def on_input_submitted(self) -> None:
        await self._resize()

    @on(Button.Pressed, "#ok")
    async def ok(self) -> None:
        await self._resize()

    async def _resize(self) -> None:
        wanted = self._check()
        if wanted is None:
            return
        app: Any = self.app
        self.dismiss(None)
        await app.act(
            self.ops.resize_vm(self.vm.name, vcpus=wanted[0], memory_mib=wanted[1]),
            f"{self.vm.name}: {wanted[0]} vCPUs, {format_mib(wanted[1])}.",
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class CreateDialog(ModalScreen[None]):
    DEFAULT_CSS = DIALOG_CSS.format(name="CreateDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, console: Console, name: str) -> None:
        super().__init__()
        self.ops = console
        self.initial_name = name

    def compose(self) -> ComposeResult:
        flavors = [
            (f"{f.name} ({f.vcpus} vCPU, {format_mib(f.memory_mib)})", f.name)
            for f in self.ops.flavors()
        ]
        pools = [(u.pool.name, u.pool.name) for u in self.ops.pools()]
        with Vertical():
            yield Label("Create VMs", classes="title")
            yield Input(self.initial_name, placeholder="name (count > 1: NAME-01, ...)", id="name")
            yield Select(flavors, prompt="flavor", id="flavor")
            yield Select(pools, prompt="pool", id="pool")
            yield Input("1", placeholder="count", id="count")
            yield Static("", classes="why", id="why")
            with Horizontal():
                yield Button("Create", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#ok")
    async def ok(self) -> None:
        why = self.query_one("#why", Static)
        flavor = self.query_one("#flavor", Select).value
        pool = self.query_one("#pool", Select).value
        count_text = self.query_one("#count", Input).value
        if flavor is Select.BLANK or pool is Select.BLANK:
            why.update("Pick a flavor and a pool.")
            return
        if not count_text.isdigit():
            why.update("The count must be a whole number.")
            return
        name = self.query_one("#name", Input).value.strip()
        app: Any = self.app
        self.dismiss(None)
        await app.act(
            self.ops.create_vms(name, flavor=str(flavor), pool=str(pool), count=int(count_text)),
            f"Created {count_text} VM(s) named {name}.",
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
