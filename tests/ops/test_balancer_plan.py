"""The balancer's plan is a value: computing it changes nothing it was given, and the
same snapshot always gives the same plan."""

from __future__ import annotations

import copy
from dataclasses import asdict, replace

import pytest

from vdctui.ops.balancer import HostLoad, Recommendation, VmLoad, recommend, snapshot_after


def _watts(u: float) -> float:
    return 100 + 100 * u


def snapshot() -> tuple[list[HostLoad], list[VmLoad]]:
    """Four hosts (one off, one slow-cored, one that cannot receive), with an overload,
    a VM starved by slow cores, and idle hosts to empty: every phase has work to do."""
    hosts = [
        HostLoad("h0", 1000.0, 4096.0, power=_watts, core_capacity=500.0, demand=123.0),
        HostLoad("h1", 2000.0, 4096.0, power=_watts, core_capacity=1000.0),
        HostLoad("h2", 2000.0, 4096.0, power=_watts, core_capacity=1000.0, memory_used=7.0),
        HostLoad("h3", 2000.0, 4096.0, on=False, power=_watts, core_capacity=1000.0),
        HostLoad("h4", 2000.0, 4096.0, can_receive=False, power=_watts, core_capacity=1000.0),
    ]
    vms = [
        VmLoad("a", "h0", 500, 512),
        VmLoad("b", "h0", 450, 512),
        VmLoad("big", "h0", 480, 870),
        VmLoad("c", "h1", 100, 512),
        VmLoad("d", "h2", 100, 512),
        VmLoad("e", "h4", 300, 512, movable=False),
    ]
    return hosts, vms


def state(hosts: list[HostLoad], vms: list[VmLoad]) -> list[dict[str, object]]:
    """Everything recommend receives, as plain values (the power curves by identity)."""
    return [{**asdict(x), "power": id(x.power)} for x in hosts] + [asdict(v) for v in vms]


@pytest.mark.parametrize("goal", ["power", "spread"])
@pytest.mark.parametrize("threshold", [1, 3, 5])
def test_recommend_changes_nothing_it_is_given(goal: str, threshold: int) -> None:
    hosts, vms = snapshot()
    before = copy.deepcopy(state(hosts, vms))
    rec = recommend(hosts, vms, threshold=threshold, goal=goal)
    assert rec.moves  # the snapshot does call for moves, so the check below means something
    assert state(hosts, vms) == before


@pytest.mark.parametrize("goal", ["power", "spread"])
def test_the_same_snapshot_gives_the_same_plan(goal: str) -> None:
    hosts, vms = snapshot()
    first = recommend(hosts, vms, threshold=3, goal=goal)
    again = recommend(hosts, vms, threshold=3, goal=goal)
    fresh = recommend(*snapshot(), threshold=3, goal=goal)
    assert first == again == fresh


def test_the_snapshot_after_a_plan_keeps_every_field_but_placement_and_power() -> None:
    host = HostLoad("h0", 1.0, 2.0, False, False, _watts, 3.0, 4.0, 5.0, frozenset("d"), 9.0)
    vm = VmLoad("v", "h0", 6.0, 7.0, False, 8, "d", 2.0, False)
    (after_host,), (after_vm,) = snapshot_after(
        Recommendation((), (), (), 0.0, 0.0, 0.0), [host], [vm]
    )
    assert after_vm == vm and after_vm is not vm
    # the loads are tallied again from the VMs on the host
    assert after_host == replace(host, demand=6.0, memory_used=7.0, vcpus_held=8.0)


def test_the_snapshot_after_a_plan_changes_nothing_it_is_given() -> None:
    hosts, vms = snapshot()
    rec = recommend(hosts, vms, threshold=3, goal="power")
    before = copy.deepcopy(state(hosts, vms))
    after_hosts, after_vms = snapshot_after(rec, hosts, vms)
    assert state(hosts, vms) == before
    # the copies carry the plan out: every moved VM sits on its last move's target
    where = {v.name: v.host for v in after_vms}
    last = {m.vm: m.target for m in rec.moves}
    assert last and all(where[vm] == target for vm, target in last.items())
    assert not {h.name for h in after_hosts if h.on} & set(rec.power_off)
