"""The balancer moves a VM only to a host that reaches its datastore (a fresh demo planned
`batch-096 ... host rk2-h01 does not reach datastore san-2`: its snapshot did not know)."""

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


def _watts(u: float) -> float:
    return 100 + 100 * u


@pytest.mark.parametrize("goal", ["power", "spread"])
def test_a_plan_never_moves_a_vm_to_a_host_that_does_not_reach_its_datastore(goal: str) -> None:
    hosts = [
        HostLoad("a1", 1000.0, 8192.0, power=_watts, datastores=frozenset({"san-a"})),
        HostLoad("a2", 1000.0, 8192.0, power=_watts, datastores=frozenset({"san-a"})),
        HostLoad("b1", 4000.0, 8192.0, power=_watts, datastores=frozenset({"san-b"})),
    ]
    vms = [VmLoad(f"v{i}", "a1", 120.0, 512.0, datastore="san-a") for i in range(8)]
    vms.append(VmLoad("w", "a2", 10.0, 512.0, datastore="san-a"))
    rec = recommend(hosts, vms, threshold=3, goal=goal)
    assert rec.moves  # a1 is overloaded: relieved onto a2, never onto the big idle b1
    assert all(m.target == "a2" for m in rec.moves if m.vm != "w"), rec.moves
    assert not any(m.target == "b1" for m in rec.moves)


def test_a_host_that_does_not_say_what_it_reaches_takes_any_vm() -> None:
    hosts = [
        HostLoad("a1", 1000.0, 8192.0, power=_watts, datastores=frozenset({"san-a"})),
        HostLoad("x", 1000.0, 8192.0, power=_watts),  # datastores None: not known
    ]
    vms = [VmLoad("diskless", "a1", 450.0, 512.0), VmLoad("on-san", "a1", 450.0, 256.0)]
    assert [m.target for m in recommend(hosts, vms, threshold=3, goal="spread").moves] == ["x"]


def two_rooms() -> emulator.Fleet:
    """Room A: two small hosts and san-a, busy; room B: one big idle host and san-b."""
    fleet = emulator.Fleet(seed=2)
    fleet.add_site("dc")
    for room in ("A", "B"):
        fleet.add_room(room, "dc")
        fleet.add_rack(f"rk{room}", room)
        fleet.add_datastore(f"san-{room.lower()}", "shared", 10_000, room=room)
    fleet.add_network("prod", 100)
    for name, rack, threads in (("a1", "rkA", 8), ("a2", "rkA", 8), ("b1", "rkB", 64)):
        fleet.add_host(
            name, rack, cores=threads // 2, threads=threads, memory_mib=65536,
            reserved_cpus=0, reserved_memory_mib=0,
        )  # fmt: skip
    for i in range(6):
        fleet.define_vm(f"v{i}", "a1", vcpus=2, memory_mib=1024, datastore="san-a", network="prod")
        fleet.start_vm(f"v{i}")
    keep_running_vms_busy(fleet, 0.9)
    return fleet


@pytest.fixture
async def console() -> AsyncIterator[Console]:
    driver = EmulatedDriver(two_rooms(), speed=None, tick=0.5)
    console = Console(Store(":memory:"), driver, Identity("alice", Role.ADMIN))
    await console.sync()
    yield console
    await console.close()


@pytest.mark.parametrize("goal", ["power", "spread"])
async def test_the_console_plans_moves_only_within_a_vms_datastore_reach(
    console: Console, goal: str
) -> None:
    reach = {h.name: set(h.datastores) for h in console.hosts()}
    assert "san-a" not in reach["b1"]
    rec = recommendations(console, threshold=3, goal=goal)
    assert rec.moves
    for move in rec.moves:
        assert console.vm(move.vm).datastore in reach[move.target], move
