"""Each VM's CPU and memory at the console's recent syncs (its sparklines), bounded."""

from __future__ import annotations

import emulator
from tests.conftest import running_vm_on_shared_storage
from vdctui.model import Vm, VmState
from vdctui.ops import Console
from vdctui.ops.vm_history import SAMPLES, UNKNOWN_LEVELS, VmHistory, vm_levels


def _vm(name: str, **fields: object) -> Vm:
    base: dict[str, object] = dict(
        state=VmState.RUNNING,
        host="h1",
        vcpus=2,
        memory_mib=1024,
        max_vcpus=2,
        max_memory_mib=1024,
        cpu_util=0.5,
        memory_used_mib=512,
    )
    base.update(fields)
    return Vm(name=name, **base)  # type: ignore[arg-type]


def test_levels_unknown_is_never_zero() -> None:
    assert vm_levels(_vm("a")) == (50, 50)
    assert vm_levels(_vm("a", cpu_util=None, memory_used_mib=None)) == UNKNOWN_LEVELS
    assert vm_levels(_vm("a", state=VmState.SHUTOFF, cpu_util=0.0)) == UNKNOWN_LEVELS
    assert vm_levels(_vm("a", cpu_util=1.7)) == (100, 50)  # clamped


async def test_samples_are_bounded_and_vanished_vms_forgotten() -> None:
    history = VmHistory()
    for i in range(SAMPLES + 10):
        listed = [_vm("a", cpu_util=(i % 101) / 100, memory_used_mib=205)]
        if i < 3:
            listed.append(_vm("gone"))
        await history.record(listed)
    trend = history.trend("a")
    assert len(trend.cpu) == len(trend.memory) == SAMPLES
    assert trend.cpu[-1] == (SAMPLES + 9) / 100 and trend.memory[0] == 0.2
    assert history.trend("gone").cpu == []  # its samples left the ring
    await history.record([_vm("a", state=VmState.SHUTOFF)])
    assert history.trend("a").cpu[-1] is None
    new = [_vm(f"n{i}") for i in range(2000)]
    await history.record(new)
    assert history.trend("n1").cpu == [0.5]  # nothing before it was first seen
    await history.record(new[:1000])  # twice as many slots as listed VMs: the rest dropped
    assert len(history) == 1000 and history.trend("n1500").cpu == []
    assert history.trend("n5").cpu == [0.5, 0.5]


async def test_console_keeps_each_vm_trend(console: Console, fleet: emulator.Fleet) -> None:
    name = running_vm_on_shared_storage(fleet)
    fleet.set_vm_util(fleet.vms[name], 0.25)
    await console.sync()
    fleet.set_vm_util(fleet.vms[name], 0.75)
    await console.sync()
    trend = console.vm_trend(name)
    assert trend.cpu[-2:] == [0.25, 0.75]
    assert trend.memory[-1] == 1.0  # the emulator holds a running VM's whole memory
    await console.destroy_vm(name)
    await console.sync()
    assert console.vm_trend(name).cpu[-1] is None  # a VM that does not run: unknown, not 0
