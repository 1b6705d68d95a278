"""A VM's max migration downtime lives as long as its QEMU process, as on real libvirt
(shared/lab/virsh-maxdowntime.txt, measured in lab 5): it stays through a reset, a reboot and a
suspend; the VM stopped (destroyed, shut down, crashed with its host), it is gone: a
shut-off domain has none to read, and started again it has the default, 300 ms."""

from __future__ import annotations

import emulator
from emulator.sshd.virsh import Virsh

URI = "qemu:///system"


async def virsh(fleet: emulator.Fleet, words: str) -> tuple[int, str]:
    vm_host = fleet.vms[words.split()[1]].host
    result = await Virsh(fleet, vm_host).run(f"virsh -c {URI} {words}")
    return result.status, (result.stdout + result.stderr).strip()


def running_vm(fleet: emulator.Fleet) -> str:
    return next(n for n, v in sorted(fleet.vms.items()) if v.state == "running")


async def test_the_max_downtime_stays_while_the_vms_qemu_runs() -> None:
    fleet = emulator.build_demo(seed=3, hosts=4, vms=12)
    vm = running_vm(fleet)
    assert await virsh(fleet, f"migrate-getmaxdowntime {vm}") == (0, "300")
    assert (await virsh(fleet, f"migrate-setmaxdowntime {vm} 1234"))[0] == 0
    for kept_through in (f"reboot {vm}", f"suspend {vm}", f"resume {vm}"):
        assert (await virsh(fleet, kept_through))[0] == 0
        assert await virsh(fleet, f"migrate-getmaxdowntime {vm}") == (0, "1234"), kept_through


async def test_a_vm_restarted_has_the_default_max_downtime_again() -> None:
    fleet = emulator.build_demo(seed=3, hosts=4, vms=12)
    vm = running_vm(fleet)
    assert (await virsh(fleet, f"migrate-setmaxdowntime {vm} 1234"))[0] == 0
    assert (await virsh(fleet, f"destroy {vm}"))[0] == 0
    status, said = await virsh(fleet, f"migrate-getmaxdowntime {vm}")
    assert status == 1 and "domain is not running" in said
    assert (await virsh(fleet, f"start {vm}"))[0] == 0
    assert await virsh(fleet, f"migrate-getmaxdowntime {vm}") == (0, "300")


async def test_a_vm_whose_host_crashed_has_the_default_once_started_again() -> None:
    fleet = emulator.build_demo(seed=3, hosts=4, vms=12)
    vm = running_vm(fleet)
    host = fleet.vms[vm].host
    assert (await virsh(fleet, f"migrate-setmaxdowntime {vm} 1234"))[0] == 0
    fleet.crash_host(host)
    fleet.power_on_host(host)
    fleet.start_vm(vm)
    assert await virsh(fleet, f"migrate-getmaxdowntime {vm}") == (0, "300")
