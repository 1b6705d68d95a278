"""`c` on a VM: its serial console with the TUI suspended (the runner substituted: Pilot
has no terminal to hand over), refusals said without suspending, read-only hides it."""

from __future__ import annotations

import pytest

from tests.ui.conftest import SIZE, MakeApp, Opened, command, fleet_of, notes, settle
from vdctui.drivers.serial import SerialChannel
from vdctui.model import Role
from vdctui.ui import serial_console
from vdctui.ui.app import VdcApp
from vdctui.ui.screens.vm_detail import VmDetailScreen


class Operator:
    """What the operator does at the console while the TUI is suspended."""

    def __init__(self) -> None:
        self.seen = ""
        self.runs = 0

    async def until(self, channel: SerialChannel, text: str) -> None:
        while text not in self.seen:
            chunk = await channel.read()
            assert chunk, f"the console ended before {text!r}: {self.seen!r}"
            self.seen += chunk.decode()

    async def __call__(self, app: VdcApp, channel: SerialChannel) -> None:
        self.runs += 1
        await self.until(channel, "login: ")
        channel.write(b"root\r")
        await self.until(channel, "Password: ")
        channel.write(b"pw\r")
        await self.until(channel, ":~# ")
        channel.write(b"nproc\r")
        await self.until(channel, "nproc\r\n")
        await self.until(channel, ":~# ")
        channel.write(b"\x1d")  # Ctrl-]
        while await channel.read():
            pass


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch) -> Operator:
    at_the_terminal = Operator()
    monkeypatch.setattr(serial_console, "runner", at_the_terminal)
    return at_the_terminal


def audited(app: VdcApp, name: str) -> list[tuple[str, str]]:
    return [(r.action, r.result) for r in app.ops.audit(target=name, limit=10)]


def running_vm(app: VdcApp) -> str:
    return next(v.name for v in app.ops.vms() if v.state.value == "running")


async def test_c_runs_the_vms_console_and_comes_back(opened: Opened, operator: Operator) -> None:
    app, pilot, _ = opened
    name = running_vm(app)
    app.push_screen(VmDetailScreen(name))
    await settle(pilot)
    await pilot.press("c")
    await settle(pilot)
    assert operator.runs == 1
    vm = fleet_of(app).vms[name]
    assert f"Connected to domain '{name}'" in operator.seen
    assert f"nproc\r\n{vm.vcpus}\r\n" in operator.seen
    assert f"The console of {name} on host {vm.host} ended." in notes(app)
    assert isinstance(app.screen, VmDetailScreen)  # back where it was
    records = audited(app, name)
    assert ("vm.console", "ok") in records and ("vm.console.end", "ok") in records


async def test_c_in_the_vms_list_and_a_refusal_suspends_nothing(
    make_app: MakeApp, operator: Operator
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        first = screen.current()  # type: ignore[attr-defined]
        assert first is not None
        fleet = fleet_of(app)
        if fleet.vms[first.name].state == "running":
            fleet.destroy_vm(first.name)
        await app.ops.sync()
        screen.refresh_data()  # type: ignore[attr-defined]
        await pilot.press("c")
        await settle(pilot)
        assert operator.runs == 0
        assert any(f"{first.name} is shut off: its console answers only" in n for n in notes(app))
        refused = [r.result for r in app.ops.audit(target=first.name, limit=10)]
        assert "refused" in refused


async def test_without_a_terminal_to_hand_over_it_says_so(make_app: MakeApp) -> None:
    app = make_app()  # Pilot's headless driver cannot suspend: the real runner says so
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        name = running_vm(app)
        app.push_screen(VmDetailScreen(name))
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert any(f"use `vdctui vm console {name}` in a shell" in n for n in notes(app))
        assert any(n.startswith(f"The console of {name}") for n in notes(app))


async def test_a_viewer_has_no_console(make_app: MakeApp, operator: Operator) -> None:
    app = make_app(role=Role.VIEWER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        name = running_vm(app)
        app.push_screen(VmDetailScreen(name))
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert operator.runs == 0  # the key is not offered: nothing asked, nothing audited
        assert not [r for r in app.ops.audit(target=name, limit=10) if r.action == "vm.console"]


async def test_the_console_command_opens_a_named_vms_console(
    opened: Opened, operator: Operator
) -> None:
    app, pilot, _ = opened
    name = running_vm(app)
    await command(pilot, f"console {name}")
    await settle(pilot)
    assert operator.runs == 1
    assert f"Connected to domain '{name}'" in operator.seen
    assert ("vm.console", "ok") in audited(app, name)


async def test_the_console_command_on_an_unknown_vm_is_refused_in_one_sentence(
    opened: Opened, operator: Operator
) -> None:
    """The line runs (a VM name is not checked on the command line): ops' open_console
    refuses it through the door, audited, and nothing is suspended."""
    app, pilot, _ = opened
    await command(pilot, "console nosuch-vm")
    await settle(pilot)
    assert operator.runs == 0
    said = [n for n in notes(app) if "nosuch-vm" in n]
    assert said == ["There is no VM named 'nosuch-vm'."], notes(app)
    assert audited(app, "nosuch-vm") == [("vm.console", "refused")]
