"""Dedicated cores through the console: topologies learnt at sync, a VM made dedicated
(pins applied and read back, shared VMs moved off its CPUs), created from a dedicated
flavor, kept dedicated across a migration and an evacuation, resized within its node."""

from __future__ import annotations

import emulator
from tests.conftest import host_with_room_for, running_vm_on_shared_storage
from vdctui.model import CpuPolicy, Role, ThreadPolicy
from vdctui.ops import Console, Identity, Refused
from vdctui.ops.cores import set_policy


def pinned_cpus(fleet: emulator.Fleet, vm: str) -> list[int]:
    per_vcpu, _ = fleet.vcpu_affinity(vm)
    return [cpus[0] for cpus in per_vcpu[: fleet.vms[vm].vcpus]]


async def test_a_sync_learns_every_hosts_topology_with_named_reserved_cpus(
    console: Console, fleet: emulator.Fleet
) -> None:
    topologies = console.store.cpu_topologies()
    assert set(topologies) == set(fleet.hosts)
    some = next(iter(topologies.values()))
    assert some.source == "emulator host model"
    assert len(some.nodes) == 2 and some.reserved  # named CPUs, e.g. (0, 32)
    host = fleet.hosts[some.host]
    assert len(some.reserved) == host.reserved_cpus
    assert len(some.cpus) == host.threads


async def test_dedicating_a_vm_pins_it_and_moves_shared_neighbours_off_its_cpus(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    pins = await set_policy(console, name, CpuPolicy.DEDICATED)
    assert pinned_cpus(fleet, name) == list(pins.vcpu_pins)
    topology = console.store.cpu_topology(pins.host or "")
    assert topology is not None
    assert not set(pins.vcpu_pins) & set(topology.reserved)
    assert pins.emulator_pins == topology.reserved
    for other in fleet.vms_on(pins.host or ""):
        if other.name != name and other.state == "running":
            per_vcpu, _ = fleet.vcpu_affinity(other.name)
            floating = {c for cpus in per_vcpu[: other.vcpus] for c in cpus}
            assert not floating & set(pins.vcpu_pins), other.name
    record = console.store.audit(action="vm.cpu-policy")[0]
    assert (record.target, record.result, record.params["policy"]) == (name, "ok", "dedicated")
    assert console.store.vm_cpus(name) == pins


async def test_a_viewer_cannot_dedicate_and_the_refusal_changes_nothing(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    viewer = Console(console.store, console.driver, Identity("bob", Role.VIEWER))
    try:
        await set_policy(viewer, name, CpuPolicy.DEDICATED)
    except Refused:
        pass
    else:
        raise AssertionError("a viewer dedicated a VM")
    assert console.store.vm_cpus(name) is None
    assert name not in fleet.pins


async def test_too_big_for_any_node_is_refused_with_the_largest_free(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    vm = fleet.vms[name]
    host = fleet.hosts[vm.host]
    per_node = host.threads // 2
    vm.max_vcpus = vm.vcpus = per_node  # node 0 lost its reserved CPUs: too big there
    fleet.refresh_host(host)
    await console.sync()
    pins = await set_policy(console, name, CpuPolicy.DEDICATED)
    assert pins.node == 1  # the node without the host's reserved CPUs
    other = next(v.name for v in fleet.vms_on(vm.host) if v.name != name and v.state == "running")
    fleet.vms[other].max_vcpus = fleet.vms[other].vcpus = per_node
    await console.sync()
    try:
        await set_policy(console, other, CpuPolicy.DEDICATED)
    except Refused as exc:
        largest = per_node - host.reserved_cpus
        assert f"needs {per_node} dedicated cores in one NUMA node; largest free: {largest}" in str(
            exc
        )
    else:
        raise AssertionError("two node-sized VMs were dedicated on one host")


async def test_a_dedicated_vm_moves_with_pins_chosen_on_the_target(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    await set_policy(console, name, CpuPolicy.DEDICATED, ThreadPolicy.ISOLATE)
    target = host_with_room_for(fleet, name)
    run = await console.migrate_vm(name, target)
    assert console.store.vm_cpus(name).host == target  # type: ignore[union-attr]  # held first
    while fleet.migrations:
        await console.driver.advance(1.0)  # type: ignore[attr-defined]
    await run.wait()
    await run.follower  # type: ignore[misc]
    held = console.store.vm_cpus(name)
    assert held is not None and held.host == target and held.dedicated
    assert held.threads is ThreadPolicy.ISOLATE
    assert pinned_cpus(fleet, name) == list(held.vcpu_pins)
    assert len(held.taken) == 2 * len(held.vcpu_pins)  # whole cores: siblings left idle


async def test_a_vm_created_from_a_dedicated_flavor_is_pinned_before_it_starts(
    console: Console, fleet: emulator.Fleet
) -> None:
    created = await console.create_vms("rt", flavor="dedicated-small", pool="web", count=2)
    for vm in created:
        held = console.store.vm_cpus(vm.name)
        assert held is not None and held.dedicated and held.host == vm.host
        assert pinned_cpus(fleet, vm.name) == list(held.vcpu_pins)
    if created[0].host == created[1].host:
        a, b = (console.store.vm_cpus(v.name) for v in created)
        assert a and b and not set(a.vcpu_pins) & set(b.vcpu_pins)


async def test_resize_grows_pins_within_the_node_and_refuses_past_it(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    vm = fleet.vms[name]
    host = fleet.hosts[vm.host]
    vm.max_vcpus = host.threads
    await console.sync()
    pins = await set_policy(console, name, CpuPolicy.DEDICATED)
    await console.resize_vm(name, vcpus=vm.vcpus + 1)
    grown = console.store.vm_cpus(name)
    assert grown is not None and grown.vcpu_pins[: len(pins.vcpu_pins)] == pins.vcpu_pins
    assert len(grown.vcpu_pins) == vm.vcpus
    assert pinned_cpus(fleet, name) == list(grown.vcpu_pins)
    try:
        await console.resize_vm(name, vcpus=host.threads)
    except Refused as exc:
        assert "cannot grow to" in str(exc) and "NUMA node" in str(exc)
    else:
        raise AssertionError("grew past its NUMA node")


async def test_a_shrunk_dedicated_vm_gives_its_cpus_back_to_the_shared_vms(
    console: Console, fleet: emulator.Fleet
) -> None:
    """Shrinking a dedicated VM ran its host's shared VMs onto the CPUs it gave back before
    it had let them go: the host refused them, the task failed and the VM stayed shrunk."""
    name = running_vm_on_shared_storage(fleet)
    host = fleet.vms[name].host
    neighbours = [
        vm.name
        for vm in fleet.vms.values()
        if vm.host == host and vm.name != name and vm.state == "running"
    ]
    assert neighbours  # shared VMs beside it, to get its CPUs back
    fleet.vms[name].vcpus = 4
    await console.sync()
    pins = await set_policy(console, name, CpuPolicy.DEDICATED)
    await console.resize_vm(name, vcpus=2)
    shrunk = console.store.vm_cpus(name)
    assert shrunk is not None and shrunk.vcpu_pins == pins.vcpu_pins[:2]
    assert pinned_cpus(fleet, name) == list(shrunk.vcpu_pins)
    given_back = set(pins.vcpu_pins[2:])
    per_vcpu, _ = fleet.vcpu_affinity(neighbours[0])
    assert given_back <= set(per_vcpu[0])  # its neighbours float over them again
    task = console.store.tasks()[0]
    assert (task.kind, task.state.value) == ("resize", "succeeded")


async def test_an_evacuation_keeps_a_dedicated_vm_dedicated(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    source = fleet.vms[name].host
    await set_policy(console, name, CpuPolicy.DEDICATED)
    plan = console.plan_maintenance(source)
    assert any(m.vm == name for m in plan.moves)
