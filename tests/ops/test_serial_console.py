"""A VM's console through the door: opened (audited), ended (audited with how), refused
in one sentence when the VM does not run, the role is viewer, or its host is cut off."""

from __future__ import annotations

import pytest

import emulator
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ops import Console, Failed, Identity, Refused
from vdctui.ops import serial_console as serial


def running(fleet: emulator.Fleet) -> str:
    return next(v.name for v in fleet.vms.values() if v.state == "running")


def results(console: Console, vm: str) -> list[tuple[str, str]]:
    return [(r.action, r.result) for r in reversed(console.audit(target=vm, limit=20))]


async def drain(channel: serial.SerialChannel) -> str:
    seen = b""
    while chunk := await channel.read():
        seen += chunk
    return seen.decode()


async def test_open_talk_and_end(console: Console, fleet: emulator.Fleet) -> None:
    vm = running(fleet)
    channel = await serial.open_console(console, vm, (120, 40), "xterm-256color")
    assert (channel.vm, channel.host) == (vm, fleet.vms[vm].host)
    assert serial.escape_note(channel).endswith("Ctrl-] ends it and comes back to vdctui.")
    channel.write(b"root\rpw\rhostname\r\x1d")
    seen = await drain(channel)
    assert f"hostname\r\n{vm}\r\n" in seen
    assert serial.ended(console, channel) == (
        True,
        f"The console of {vm} on host {channel.host} ended.",
    )
    assert results(console, vm)[-2:] == [("vm.console", "ok"), ("vm.console.end", "ok")]


async def test_the_vm_stopping_ends_it(console: Console, fleet: emulator.Fleet) -> None:
    vm = running(fleet)
    channel = await serial.open_console(console, vm)
    fleet.destroy_vm(vm)
    await drain(channel)  # ends by itself: the VM no longer runs
    assert serial.ended(console, channel)[0]


async def test_refusals(console: Console, driver: EmulatedDriver, fleet: emulator.Fleet) -> None:
    vm = running(fleet)
    viewer = Console(console.store, driver, Identity("bob", Role.VIEWER))
    with pytest.raises(Refused):
        await serial.open_console(viewer, vm)
    with pytest.raises(Refused, match="is not one a console can use"):
        await serial.open_console(console, vm, (0, 24))
    fleet.destroy_vm(vm)
    await console.sync()
    with pytest.raises(Refused, match=f"^{vm} is shut off: its console answers only while it runs"):
        await serial.open_console(console, vm)
    with pytest.raises(Refused, match="There is no VM named"):
        await serial.open_console(console, "no-such-vm")
    other = next(
        v for v in fleet.vms.values() if v.state == "running" and v.host != fleet.vms[vm].host
    )
    fleet.partition_host(other.host)
    with pytest.raises(Failed, match=f"{other.host}"):
        await serial.open_console(console, other.name)
    assert [r for a, r in results(console, vm) if a == "vm.console"] == [
        "refused",
        "refused",
        "refused",
    ]
    assert results(console, other.name)[-1] == ("vm.console", "failed")


async def test_while_the_fleet_connects_it_says_so(console: Console, fleet: emulator.Fleet) -> None:
    from vdctui.drivers.pending import MESSAGE, PendingDriver

    real = console.driver
    console.attach(PendingDriver())
    try:
        with pytest.raises(Failed, match=MESSAGE):
            await serial.open_console(console, running(fleet))
    finally:
        console.attach(real)
