"""NUMA through the console: a dedicated VM's memory bound to its node (numatune, read
back), spread over nodes only when asked, and refused with why otherwise."""

from __future__ import annotations

import emulator
from tests.conftest import running_vm_on_shared_storage
from vdctui.model import CpuPolicy, NumaPolicy, ThreadPolicy
from vdctui.ops import Console, Refused
from vdctui.ops.cores import set_policy


def node_sized(fleet: emulator.Fleet, name: str) -> int:
    """Make `name` one vCPU bigger than a NUMA node of its host holds."""
    vm = fleet.vms[name]
    host = fleet.hosts[vm.host]
    per_node = host.threads // 2
    vm.max_vcpus = vm.vcpus = per_node + 1
    fleet.refresh_host(host)
    return per_node + 1


async def test_a_dedicated_vms_memory_is_bound_to_its_node(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    pins = await set_policy(console, name, CpuPolicy.DEDICATED)
    assert pins.node is not None
    assert fleet.memory_binding(name) == [pins.node]
    await set_policy(console, name, CpuPolicy.SHARED)  # its memory on every node again
    assert fleet.memory_binding(name) == [0, 1]


async def test_spread_over_nodes_only_when_allowed(console: Console, fleet: emulator.Fleet) -> None:
    name = running_vm_on_shared_storage(fleet)
    vcpus = node_sized(fleet, name)
    await console.sync()
    try:
        await set_policy(console, name, CpuPolicy.DEDICATED)
    except Refused as exc:
        assert "does not allow spreading over nodes" in str(exc)
    else:
        raise AssertionError("a VM bigger than a node was pinned in one node")
    assert console.store.vm_cpus(name) is None and name not in fleet.pins
    record = console.store.audit(action="vm.cpu-policy")[0]
    assert record.result == "refused" and record.params["numa"] == "one"

    pins = await set_policy(
        console, name, CpuPolicy.DEDICATED, ThreadPolicy.PREFER, NumaPolicy.SPREAD
    )
    assert pins.node is None and pins.numa is NumaPolicy.SPREAD
    assert len(set(pins.vcpu_pins)) == vcpus
    assert fleet.memory_binding(name) == [0, 1]
    assert console.store.vm_cpus(name) == pins
