"""An emulated VM's serial console: virsh's banner, a login, a tiny shell that answers with
the VM's own figures, the escape character, and the end when the VM stops."""

from __future__ import annotations

import pytest

from emulator.demo import build_demo
from emulator.fleet import Fleet
from emulator.serial import ESCAPE, ConsoleRefused, SerialConsole
from emulator.vm import Vm


@pytest.fixture
def fleet() -> Fleet:
    return build_demo(seed=3, hosts=2, vms=6)


def running(fleet: Fleet) -> Vm:
    return next(v for v in fleet.vms.values() if v.state == "running")


def logged_in(fleet: Fleet, vm: Vm) -> SerialConsole:
    console = SerialConsole(fleet, vm.host, vm.name)
    opening = console.open()
    assert opening.startswith(f"Connected to domain '{vm.name}'\r\n")
    assert "Escape character is ^] (Ctrl + ])" in opening
    assert opening.endswith(f"{vm.name} login: ")
    assert console.feed("root\r") == "root\r\nPassword: "
    assert console.feed("hunter2\r").endswith(f"root@{vm.name}:~# ")  # not echoed
    return console


def answer(console: SerialConsole, command: str) -> str:
    out = console.feed(command + "\r")
    echoed, _, rest = out.partition("\r\n")
    assert echoed == command
    return rest.rsplit("\r\n", 1)[0]


def test_the_shell_answers_with_the_vms_own_figures(fleet: Fleet) -> None:
    vm = running(fleet)
    console = logged_in(fleet, vm)
    assert answer(console, "nproc") == str(vm.vcpus)
    assert answer(console, "hostname") == vm.name
    free = answer(console, "free -m").split("\r\n")
    assert free[1].split()[:2] == ["Mem:", str(vm.memory_mib)]
    load = vm.vcpus * vm.cpu_util
    assert answer(console, "uptime").endswith(f"load average: {load:.2f}, {load:.2f}, {load:.2f}")
    vm.vcpus += 1  # figures are read at each command
    assert answer(console, "nproc") == str(vm.vcpus)
    assert answer(console, "reboot") == "-bash: reboot: command not found"
    assert console.feed("exit\r").endswith(f"logout\r\n\r\n{vm.name} login: ")


def test_line_editing_and_keys_a_terminal_sends(fleet: Fleet) -> None:
    vm = running(fleet)
    console = logged_in(fleet, vm)
    assert console.feed("hostnamX\x7fe") == "hostnamX\b \be"
    assert console.feed("\x1b[A") == ""  # an arrow key: swallowed, not typed
    assert console.feed("\r").startswith(f"\r\n{vm.name}\r\n")
    assert console.feed("abc\x03") == f"abc^C\r\nroot@{vm.name}:~# "
    assert console.feed("\x07\x01\x9b") == ""  # controls are not echoed raw
    assert console.feed("\x04").endswith(f"{vm.name} login: ")  # Ctrl-D logs out


def test_the_escape_character_ends_it(fleet: Fleet) -> None:
    vm = running(fleet)
    console = logged_in(fleet, vm)
    console.feed("nproc" + ESCAPE + "hostname\r")
    assert console.ended and console.why == "the escape character was typed"
    assert console.feed("nproc\r") == ""


def test_the_vm_stopping_ends_it(fleet: Fleet) -> None:
    vm = running(fleet)
    console = logged_in(fleet, vm)
    fleet.destroy_vm(vm.name)
    assert console.check() == "\r\n"
    assert console.ended and "no longer running" in console.why


def test_refusals_in_virshs_words(fleet: Fleet) -> None:
    vm = running(fleet)
    other = next(h for h in fleet.hosts if h != vm.host)
    with pytest.raises(ConsoleRefused, match=f"failed to get domain '{vm.name}'"):
        SerialConsole(fleet, other, vm.name).open()
    fleet.destroy_vm(vm.name)
    with pytest.raises(ConsoleRefused, match="The domain is not running"):
        SerialConsole(fleet, vm.host, vm.name).open()


def test_a_paused_guest_answers_once_it_resumes(fleet: Fleet) -> None:
    vm = running(fleet)
    console = logged_in(fleet, vm)
    fleet.suspend_vm(vm.name)
    assert console.feed("nproc\r") == ""
    assert not console.ended
    fleet.resume_vm(vm.name)
    assert console.check() == f"nproc\r\n{vm.vcpus}\r\nroot@{vm.name}:~# "
