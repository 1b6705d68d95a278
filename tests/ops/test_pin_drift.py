"""Pins kept true: shared VMs re-floated when dedicated VMs come and go, drift between the
hypervisor's pins and the console's found (audited) and repaired (through the door)."""

from __future__ import annotations

import emulator
from tests.conftest import running_vm_on_shared_storage
from vdctui.model import CpuPolicy, Role
from vdctui.ops import Console, Identity, Refused, pin_drift
from vdctui.ops.cores import set_policy


def floating(fleet: emulator.Fleet, name: str) -> set[int]:
    per_vcpu, _ = fleet.vcpu_affinity(name)
    return {c for cpus in per_vcpu[: fleet.vms[name].vcpus] for c in cpus}


def shared_neighbour(fleet: emulator.Fleet, host: str, besides: str) -> str:
    return next(v.name for v in fleet.vms_on(host) if v.name != besides and v.state == "running")


async def test_shared_vms_get_a_dedicated_vms_cpus_back_when_it_turns_shared(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    pins = await set_policy(console, name, CpuPolicy.DEDICATED)
    other = shared_neighbour(fleet, pins.host or "", name)
    assert not floating(fleet, other) & set(pins.taken)
    await set_policy(console, name, CpuPolicy.SHARED)
    assert set(pins.taken) <= floating(fleet, other)  # its CPUs are shared again


async def test_drift_is_found_audited_and_repaired(console: Console, fleet: emulator.Fleet) -> None:
    name = running_vm_on_shared_storage(fleet)
    pins = await set_policy(console, name, CpuPolicy.DEDICATED)
    host = pins.host or ""
    assert await pin_drift.check(console, host) == []
    other = shared_neighbour(fleet, host, name)
    # behind the console's back: the dedicated VM and a shared one unpinned
    fleet.pins.pop(name)
    fleet.pins.pop(other)
    every = f"0-{fleet.hosts[host].threads - 1}"
    drift = await pin_drift.check(console, host)
    whats = [d.what for d in drift if d.vm == name]
    assert whats[0] == f"vCPU 0 may run on CPUs {every}, not {pins.vcpu_pins[0]} alone"
    assert any(w.startswith(f"its emulator runs on CPUs {every}") for w in whats)
    assert any(d.vm == other and "dedicated or reserved CPUs" in d.what for d in drift)
    audited = console.store.audit(action="host.pins-drift")
    assert {r.target for r in audited} >= {name, other}

    viewer = Console(console.store, console.driver, Identity("bob", Role.VIEWER))
    try:
        await pin_drift.repair(viewer, host)
    except Refused:
        pass
    else:
        raise AssertionError("a viewer repaired pins")
    repaired = await pin_drift.repair(console, host)
    assert repaired and all(d.repaired for d in repaired)
    assert await pin_drift.check(console, host) == []
    assert fleet.vcpu_affinity(name)[0][0] == [pins.vcpu_pins[0]]
    assert not floating(fleet, other) & set(pins.taken)
    record = console.store.audit(action="host.pins-repair")[0]
    assert (record.target, record.result) == (host, "ok")


async def test_a_shared_vm_created_beside_a_dedicated_one_starts_on_shared_cpus(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    held = await set_policy(console, name, CpuPolicy.DEDICATED)
    host = held.host or ""
    for other in console.store.hosts():  # only its host takes new VMs
        if other.name != host:
            console.store.set_maintenance(other.name, True, actor="test")
    [vm] = await console.create_vms("web-new", flavor="small", pool="web", count=1)
    assert vm.host == host
    assert floating(fleet, vm.name) and not floating(fleet, vm.name) & set(held.taken)
    assert await pin_drift.check(console, host) == []


async def test_a_shut_off_shared_vm_starts_off_a_dedicated_vms_cpus(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    host = fleet.vms[name].host
    other = shared_neighbour(fleet, host, name)
    await console.destroy_vm(other)
    fleet.pins.pop(other, None)  # shut off and never pinned
    held = await set_policy(console, name, CpuPolicy.DEDICATED)
    await console.start_vm(other)
    assert floating(fleet, other) and not floating(fleet, other) & set(held.taken)
    assert await pin_drift.check(console, host) == []
