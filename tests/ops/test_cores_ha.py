"""HA restarts choose pins on the target for dedicated VMs (before they start there),
and shared VMs restarted beside dedicated ones float over the target's shared CPUs."""

from __future__ import annotations

import emulator
from tests.ops.test_ha import busy_host, running_on
from vdctui.model import CpuPolicy
from vdctui.ops import Console
from vdctui.ops.cores import set_policy
from vdctui.ops.ha import restart_vms_of


async def test_a_crashed_hosts_dedicated_vm_restarts_pinned_on_its_new_host(
    console: Console, fleet: emulator.Fleet
) -> None:
    host = busy_host(fleet)
    victims = [
        n
        for n in running_on(fleet, host)
        if fleet.datastores[fleet.vms[n].datastore].kind == "shared"
    ]
    dedicated, shared = victims[0], victims[1:]
    before = await set_policy(console, dedicated, CpuPolicy.DEDICATED)
    fleet.crash_host(host)
    outcomes = await restart_vms_of(console, host)
    placed = {o.vm: o.target for o in outcomes}
    assert placed[dedicated] not in (None, host), outcomes
    pins = console.store.vm_cpus(dedicated)
    assert pins is not None and pins.dedicated and pins.host == placed[dedicated]
    assert pins != before
    per_vcpu, emulator_cpus = fleet.vcpu_affinity(dedicated)
    assert per_vcpu[: len(pins.vcpu_pins)] == [[cpu] for cpu in pins.vcpu_pins]
    assert tuple(emulator_cpus) == pins.emulator_pins
    assert fleet.memory_binding(dedicated) == [pins.node]
    assert fleet.vms[dedicated].state == "running"
    # its neighbours there (and the shared VMs restarted beside it) keep off its CPUs
    for other in fleet.vms_on(pins.host or ""):
        if other.name != dedicated and other.state == "running":
            cpus = {c for group in fleet.vcpu_affinity(other.name)[0][: other.vcpus] for c in group}
            assert not cpus & set(pins.taken), other.name
    for name in shared:
        assert placed.get(name), outcomes
