"""A VM's serial console through the HostDriver contract: the emulated driver (in-process)
and the SSH driver (virsh console on a pty, against the emulated hosts) say the same."""

from __future__ import annotations

import pytest

from tests.drivers.contract import ContractFleet
from vdctui.drivers.base import HostUnreachable, InvalidOperation, NoSuchVm
from vdctui.drivers.serial import SerialChannel


async def read_until(channel: SerialChannel, text: str, seen: str = "") -> str:
    while text not in seen:
        chunk = await channel.read()
        assert chunk, f"the console ended before {text!r}: {seen!r}"
        seen += chunk.decode()
    return seen


async def test_the_console_answers_and_the_escape_character_ends_it(
    fleet: ContractFleet,
) -> None:
    driver, vm = fleet.driver, fleet.running_vm
    channel = await driver.open_console(vm, (100, 30), "xterm")
    host = (await driver.get_vm(vm)).host
    assert (channel.vm, channel.host, channel.escape_key) == (vm, host, "Ctrl-]")
    seen = await read_until(channel, "login: ")
    assert f"Connected to domain '{vm}'" in seen
    channel.resize(120, 40)
    channel.write(b"root\r")
    await read_until(channel, "Password: ")
    channel.write(b"pw\r")
    await read_until(channel, ":~# ")
    channel.write(b"nproc\r")
    seen = await read_until(channel, "nproc\r\n")
    seen = await read_until(channel, ":~# ", seen.split("nproc\r\n", 1)[1])
    assert seen.split("\r\n")[0] == str((await driver.get_vm(vm)).vcpus)
    channel.write(b"\x1d")
    while await channel.read():
        pass
    await channel.close()
    assert channel.exit_status() == 0 and channel.error() == ""


async def test_refusals_are_one_sentence(fleet: ContractFleet) -> None:
    driver = fleet.driver
    with pytest.raises(InvalidOperation, match=fleet.stopped_vm):
        await driver.open_console(fleet.stopped_vm)
    with pytest.raises(NoSuchVm):
        await driver.open_console("no-such-vm")
    host = (await driver.get_vm(fleet.running_vm)).host
    assert host is not None
    await fleet.partition(host)
    with pytest.raises(HostUnreachable):
        await driver.open_console(fleet.running_vm)
