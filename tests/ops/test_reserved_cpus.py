"""A host's reserved CPUs set by name: checked, asked through the door, audited; QEMU's
threads of dedicated VMs move onto them, shared VMs off them."""

from __future__ import annotations

import pytest

import emulator
from tests.conftest import running_vm_on_shared_storage
from vdctui.model import CpuPolicy
from vdctui.ops import Console, Refused
from vdctui.ops.core_map import cpu_list
from vdctui.ops.cores import set_policy
from vdctui.ops.reserved_cpus import parse_cpus, reserve_cpus


def test_cpu_lists_as_typed() -> None:
    assert parse_cpus("0-1,8") == (0, 1, 8)
    assert parse_cpus(" none ") == ()
    for bad in ("", "a", "3-1", "1-", "-1", "0-99999", "1;reboot"):
        with pytest.raises(Refused, match="Not a CPU list"):
            parse_cpus(bad)


async def test_reserving_cpus_moves_emulators_on_and_shared_vms_off(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    pins = await set_policy(console, name, CpuPolicy.DEDICATED)
    host = pins.host or ""
    topology = console.store.cpu_topology(host)
    assert topology is not None
    free = [c for c in topology.cpus if c not in pins.taken and c not in topology.reserved]
    wanted = tuple(sorted(free[:3]))
    changed = await reserve_cpus(console, host, wanted)
    assert changed.reserved == wanted
    assert console.store.cpu_topology(host).reserved == wanted  # type: ignore[union-attr]
    assert fleet.cpu_layout(host)["reserved"] == list(wanted)
    assert fleet.hosts[host].reserved_cpus == 3
    _, emulator_cpus = fleet.vcpu_affinity(name)
    assert tuple(emulator_cpus) == wanted
    assert console.store.vm_cpus(name).emulator_pins == wanted  # type: ignore[union-attr]
    for other in fleet.vms_on(host):
        if other.name != name and other.state == "running":
            per_vcpu, _ = fleet.vcpu_affinity(other.name)
            assert not {c for g in per_vcpu[: other.vcpus] for c in g} & set(wanted)
    record = console.store.audit(action="host.reserve-cpus")[0]
    assert record.result == "ok" and record.params["cpus"] == cpu_list(wanted)


async def test_reserving_a_dedicated_vms_cpu_or_a_missing_one_is_refused(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    pins = await set_policy(console, name, CpuPolicy.DEDICATED)
    host = pins.host or ""
    before = console.store.cpu_topology(host)
    cpu = pins.vcpu_pins[0]
    for wanted, said in (
        ((cpu,), f"CPU {cpu} of host {host} is held by dedicated VM {name}"),
        ((100000,), f"Host {host} has no CPU 100000"),
        ("0-x", "Not a CPU list"),
    ):
        with pytest.raises(Refused, match=said):
            await reserve_cpus(console, host, wanted)
        assert console.store.cpu_topology(host) == before
    refused = console.store.audit(action="host.reserve-cpus")
    assert len(refused) == 3 and all(r.result == "refused" for r in refused)
