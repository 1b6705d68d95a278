"""Pins during the move itself: a migration's definition carries the pins chosen on the
target (the VM never runs there unpinned or on its source's CPUs), for dedicated VMs and
for shared VMs arriving on a host with dedicated ones."""

from __future__ import annotations

import pytest

import emulator
from tests.conftest import host_with_room_for, running_vm_on_shared_storage
from vdctui.model import CpuPolicy
from vdctui.ops import Console, cores
from vdctui.ops.cores import set_policy


async def _move(console: Console, fleet: emulator.Fleet, name: str, target: str) -> None:
    run = await console.migrate_vm(name, target)
    while fleet.migrations:
        await console.driver.advance(1.0)  # type: ignore[attr-defined]
    result = await run.wait()
    assert result.outcome.value == "succeeded", result.reason
    await run.follower  # type: ignore[misc]


def floating(fleet: emulator.Fleet, name: str) -> set[int]:
    per_vcpu, _ = fleet.vcpu_affinity(name)
    return {c for cpus in per_vcpu[: fleet.vms[name].vcpus] for c in cpus}


async def test_a_dedicated_vm_arrives_pinned_by_its_migration_alone(
    console: Console, fleet: emulator.Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = running_vm_on_shared_storage(fleet)
    target = host_with_room_for(fleet, name)
    before = await set_policy(console, name, CpuPolicy.DEDICATED)
    blocker = next(v.name for v in fleet.vms_on(target) if v.state == "running")
    # on the target the CPUs it has on its source are another dedicated VM's
    fleet.vms[blocker].max_vcpus = max(fleet.vms[blocker].max_vcpus, len(before.vcpu_pins))
    held = await set_policy(console, blocker, CpuPolicy.DEDICATED)

    async def nothing_after(*args: object) -> None:  # what the migration did, alone
        cores._moving.pop(name, None)

    monkeypatch.setattr(cores, "after_move", nothing_after)
    await _move(console, fleet, name, target)
    moved = console.store.vm_cpus(name)
    assert moved is not None and moved.host == target and moved.vcpu_pins != before.vcpu_pins
    assert not set(moved.vcpu_pins) & set(held.taken)
    per_vcpu, emulator_cpus = fleet.vcpu_affinity(name)
    assert per_vcpu[: len(moved.vcpu_pins)] == [[cpu] for cpu in moved.vcpu_pins]
    assert tuple(emulator_cpus) == moved.emulator_pins
    assert fleet.memory_binding(name) == [moved.node]


async def test_a_shared_vm_arriving_beside_a_dedicated_one_floats_over_shared_cpus(
    console: Console, fleet: emulator.Fleet
) -> None:
    dedicated = running_vm_on_shared_storage(fleet)
    pins = await set_policy(console, dedicated, CpuPolicy.DEDICATED)
    host = pins.host or ""
    shared = next(
        v.name
        for v in sorted(fleet.vms.values(), key=lambda v: v.name)
        if v.host != host
        and v.state == "running"
        and v.datastore in fleet.host_datastores(host)
        and console.store.vm_cpus(v.name) is None
    )
    await _move(console, fleet, shared, host)
    assert fleet.vms[shared].host == host
    assert floating(fleet, shared)  # pinned: not over every CPU
    assert not floating(fleet, shared) & set(pins.taken)
    topology = console.store.cpu_topology(host)
    assert topology is not None and not floating(fleet, shared) & set(topology.reserved)
