"""Growth through the door: hosts join a rack and take load; empty ones leave."""

from __future__ import annotations

import statistics

import pytest

import emulator
from tests.conftest import keep_running_vms_busy
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import HostState, Role
from vdctui.ops import Console, Identity, Refused
from vdctui.ops.balancing import apply_moves
from vdctui.ops.growth import add_hosts, moves_onto, remove_host, take_load
from vdctui.store import Store


def loaded_rack() -> emulator.Fleet:
    """One rack of 8 hosts whose running VMs are busy (75 % of their vCPUs)."""
    fleet = emulator.build_demo(seed=7, hosts=8, vms=120)
    keep_running_vms_busy(fleet, 0.75)
    return fleet


def spread(console: Console) -> float:
    return statistics.pstdev(h.cpu_util or 0.0 for h in console.hosts() if h.state is HostState.UP)


async def test_four_new_hosts_take_load_and_the_spread_improves() -> None:
    fleet = loaded_rack()
    console = Console(
        Store(":memory:"), EmulatedDriver(fleet, speed=None), Identity("root", Role.ADMIN)
    )
    await console.sync()
    added = await add_hosts(console, "rk1", count=4)
    new = [h.name for h in added]
    assert new == ["rk1-h09", "rk1-h10", "rk1-h11", "rk1-h12"]
    assert all(h.state is HostState.UP and h.vm_count == 0 for h in added)
    assert [r.action for r in console.audit(limit=4)] == ["host.add"] * 4
    before = spread(console)
    plan = take_load(console, new)
    assert plan.moves and moves_onto(plan, new) >= len(plan.moves) * 3 // 4
    assert all(move.gain for move in plan.moves)
    assert plan.spread_after < plan.spread_before
    applied = await apply_moves(console, plan)
    assert applied.done == applied.steps
    await console.sync()
    after = spread(console)
    assert after < before
    assert all(fleet.hosts[name].vm_names for name in new)
    await console.close()


async def test_a_viewer_cannot_add_and_the_refusal_is_audited(console: Console) -> None:
    viewer = Console(console.store, console.driver, Identity("bob", Role.VIEWER))
    hosts = len(console.hosts())
    with pytest.raises(Refused):
        await add_hosts(viewer, "rk1")
    assert len(console.hosts()) == hosts
    record = console.audit(limit=1)[0]
    assert (record.action, record.result, record.actor) == ("host.add", "refused", "bob")


async def test_a_full_rack_is_a_refusal_with_the_reason(
    console: Console, fleet: emulator.Fleet
) -> None:
    fleet.racks["rk1"].units = 10
    with pytest.raises(Refused, match=r"Added rk1-h09; then: Host not added: rack rk1 is full"):
        await add_hosts(console, "rk1", count=2)
    assert "rk1-h09" in {h.name for h in console.hosts()}
    assert [r.result for r in console.audit(limit=2)] == ["refused", "ok"]


async def test_bad_names_are_refused_before_the_driver(console: Console) -> None:
    with pytest.raises(Refused, match="not a valid rack name"):
        await add_hosts(console, "rk1;reboot")
    with pytest.raises(Refused, match="A number of hosts"):
        await add_hosts(console, "rk1", count=0)


async def test_only_an_empty_host_is_removed(console: Console, fleet: emulator.Fleet) -> None:
    busy = next(h.name for h in console.hosts() if h.vm_count)
    with pytest.raises(Refused, match=f"Host {busy} still holds"):
        await remove_host(console, busy)
    assert busy in fleet.hosts
    (new,) = await add_hosts(console, "rk1")
    await remove_host(console, new.name)
    assert new.name not in fleet.hosts
    assert new.name not in {h.name for h in console.hosts()}
    assert console.audit(limit=1)[0].action == "host.remove"
