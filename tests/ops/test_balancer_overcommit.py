"""The balancer's plan respects each VM's pool vCPU overcommit, as placement does: a
consolidation never packs a host past its CPUs times the moving VM's pool ratio (the
plan used to count only MHz demand and memory, so idle VMs of a 1x pool were stacked
two vCPUs per CPU)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import emulator
from tests.conftest import keep_running_vms_busy
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ops import Console, Identity
from vdctui.ops.balancer import HostLoad, VmLoad, recommend
from vdctui.ops.balancing import recommendations
from vdctui.store import Store


def idle_hosts() -> emulator.Fleet:
    """Three 8-thread hosts, each with one idle 6-vCPU VM of pool "tight"."""
    fleet = emulator.Fleet(seed=4)
    fleet.add_site("dc")
    fleet.add_room("A", "dc")
    fleet.add_rack("rk", "A")
    fleet.add_datastore("san", "shared", 10_000, room="A")
    fleet.add_network("prod", 100)
    for i in range(3):
        fleet.add_host(
            f"h{i}", "rk", cores=4, threads=8, memory_mib=65536,
            reserved_cpus=0, reserved_memory_mib=0,
        )  # fmt: skip
        fleet.define_vm(
            f"v{i}", f"h{i}", vcpus=6, memory_mib=1024, datastore="san", network="prod",
            pool="tight",
        )  # fmt: skip
        fleet.start_vm(f"v{i}")
    keep_running_vms_busy(fleet, 0.02)
    return fleet


@pytest.fixture
async def console() -> AsyncIterator[Console]:
    driver = EmulatedDriver(idle_hosts(), speed=None, tick=0.5)
    console = Console(Store(":memory:"), driver, Identity("alice", Role.ADMIN))
    await console.sync()
    yield console
    await console.close()


@pytest.mark.parametrize(("ratio", "packs"), [(4.0, True), (1.0, False)])
async def test_consolidation_stays_within_the_pools_vcpu_overcommit(
    console: Console, ratio: float, packs: bool
) -> None:
    await console.set_pool("tight", cpu_overcommit=ratio)
    rec = recommendations(console, threshold=3, goal="power")
    held: dict[str, int] = {h.name: 0 for h in console.hosts()}
    for vm in console.vms():
        held[vm.host or ""] += vm.vcpus
    worst = 0.0
    for move in rec.moves:
        held[move.source] -= 6
        held[move.target] += 6
        worst = max(worst, held[move.target] / 8)
    assert bool(rec.moves) is packs, rec
    assert worst <= ratio, rec.moves


def test_a_vm_goes_only_where_its_pools_overcommit_leaves_room_for_its_vcpus() -> None:
    hosts = [HostLoad(f"h{i}", 8000.0, 65536.0, shared_cpus=8.0) for i in range(3)]
    vms = [VmLoad(f"v{i}", f"h{i}", 100.0, 1024.0, vcpus=6, vcpu_overcommit=1.0) for i in range(3)]
    assert recommend(hosts, vms, goal="power").moves == ()
    roomy = [VmLoad(v.name, v.host, v.demand, v.memory_mib, vcpus=6, vcpu_overcommit=2.0)
             for v in vms]  # fmt: skip
    assert len(recommend(hosts, roomy, goal="power").moves) == 1  # 12 of 16 on one host


def test_a_vm_on_dedicated_cores_neither_counts_against_nor_meets_the_overcommit() -> None:
    """As in placement: dedicated cores are not shared CPUs (the host's shared CPUs leave
    them out), and a VM pinned to them is checked for cores, not for the overcommit."""
    hosts = [HostLoad(f"h{i}", 8000.0, 65536.0, shared_cpus=8.0) for i in range(2)]
    pinned = VmLoad("pinned", "h0", 100.0, 1024.0, False, 6, vcpu_overcommit=1.0, dedicated=True)
    shared = VmLoad("shared", "h1", 100.0, 1024.0, vcpus=6, vcpu_overcommit=1.0)
    [move] = recommend(hosts, [pinned, shared], goal="power").moves
    assert (move.vm, move.target) == ("shared", "h0")  # 6 shared vCPUs of 8 there
    full = VmLoad("full", "h0", 100.0, 1024.0, False, 8, vcpu_overcommit=1.0)
    pinned = VmLoad("pinned", "h1", 100.0, 1024.0, vcpus=6, vcpu_overcommit=1.0, dedicated=True)
    [move] = recommend(hosts, [full, pinned], goal="power").moves
    assert (move.vm, move.target) == ("pinned", "h0")
