"""CPU contention: shared VMs on an overcommitted host wait for each other (steal);
dedicated VMs never wait, and the CPUs they hold leave the shared pool."""

from __future__ import annotations

import pytest

from emulator import Fleet
from tests.emulator.conftest import add_vm


def busy_host(fleet: Fleet, vms: int, util: float = 1.0) -> list[str]:
    """`vms` VMs of 4 vCPUs at `util` on ra1 (16 cores, 32 threads, 2 reserved)."""
    names = [f"s{k}" for k in range(vms)]
    for name in names:
        add_vm(fleet, name, "ra1", memory_gib=2, vcpus=4, workload=f"constant:{util}")
    return names


def test_an_overcommitted_host_makes_its_shared_vms_wait(fleet: Fleet) -> None:
    shared = busy_host(fleet, 10)  # 40 CPUs wanted of 30
    c = fleet.cpu_contention("ra1")
    assert (c.reserved_cpus, c.dedicated_cpus, c.shared_cpus) == (2, 0, 30)
    assert c.wanted_cpus == pytest.approx(40.0)
    assert c.steal[shared[0]] == pytest.approx(0.25)  # gets 30/40 of what it wants
    assert fleet.cpu_contention("ra2").steal == {}  # nothing runs there


def test_a_host_with_room_makes_nobody_wait(fleet: Fleet) -> None:
    shared = busy_host(fleet, 10, util=0.5)  # 20 CPUs wanted of 30
    assert set(fleet.cpu_contention("ra1").steal.values()) == {0.0}
    assert shared


def test_dedicated_vms_never_wait_and_take_their_cpus_from_the_pool(fleet: Fleet) -> None:
    shared = busy_host(fleet, 10)
    add_vm(fleet, "dedicated", "ra1", memory_gib=2, vcpus=8, workload="constant:1.0")
    before = fleet.cpu_contention("ra1")
    assert before.steal["dedicated"] > 0  # not pinned yet: one more shared VM (48 of 30)
    fleet.pin_vcpus("dedicated", [[cpu] for cpu in range(1, 9)], [9])
    c = fleet.cpu_contention("ra1")
    assert (c.dedicated_cpus, c.shared_cpus) == (8, 22)
    assert c.wanted_cpus == pytest.approx(40.0)  # its demand is no longer the pool's
    assert c.steal["dedicated"] == 0.0
    assert c.steal[shared[0]] == pytest.approx(1 - 22 / 40)
    fleet.destroy_vm(shared[0])  # a shared VM less: the others wait less
    assert fleet.cpu_contention("ra1").steal[shared[1]] == pytest.approx(1 - 22 / 36)
    assert shared[0] not in fleet.cpu_contention("ra1").steal
