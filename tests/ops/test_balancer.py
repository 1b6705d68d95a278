from __future__ import annotations

import emulator
from vdctui.ops import Console
from vdctui.ops.balancer import HostLoad, VmLoad, recommend, snapshot_after
from vdctui.ops.balancing import recommendations


def hosts(n: int) -> list[HostLoad]:
    return [HostLoad(f"h{i}", 1000.0, 4096.0, power=lambda u: 100 + 100 * u) for i in range(n)]


def test_an_overloaded_host_is_relieved_and_idle_hosts_are_emptied() -> None:
    vms = [
        VmLoad("a", "h0", 500, 512),
        VmLoad("b", "h0", 450, 512),
        VmLoad("c", "h1", 100, 512),
        VmLoad("d", "h2", 100, 512),
    ]
    rec = recommend(hosts(3), vms, threshold=3, goal="power")
    load: dict[str, float] = {}
    for vm in snapshot_after(rec, hosts(3), vms)[1]:
        load[vm.host] = load.get(vm.host, 0) + vm.demand
    assert all(v <= 800 for v in load.values())  # everyone under the 80 % target
    assert rec.moves[0].reason == "overload" and rec.moves[0].source == "h0"
    assert len(rec.power_off) == 1 and rec.watts_saved > 0
    assert set(load) == {"h0", "h1", "h2"} - set(rec.power_off)


def test_spread_narrows_the_gap_and_a_conservative_threshold_moves_less() -> None:
    def fleet() -> list[VmLoad]:
        return [VmLoad(f"v{i}", "h0", 70, 256) for i in range(10)]

    aggressive = recommend(hosts(2), fleet(), threshold=5, goal="spread")
    conservative = recommend(hosts(2), fleet(), threshold=1, goal="spread")
    assert aggressive.spread_after < aggressive.spread_before
    assert len(conservative.moves) <= len(aggressive.moves)
    assert all(m.reason in ("overload", "spread") for m in aggressive.moves)


async def test_recommendations_from_the_console_change_nothing(
    console: Console, fleet: emulator.Fleet
) -> None:
    before = fleet.snapshot()
    rec = recommendations(console, threshold=5, goal="power")
    assert fleet.snapshot() == before
    on_local = {n for n, v in fleet.vms.items() if fleet.datastores[v.datastore].kind == "local"}
    assert not {m.vm for m in rec.moves} & on_local


def test_consolidation_moves_each_vm_once_and_fills_hosts_that_hold_vms() -> None:
    # two quiet hosts with a VM each and an empty one (as in the lab): one move, the
    # emptied host and the empty one powered off; never a VM moved twice, nor moved onto
    # a host that holds nothing (which the plan powers off anyway)
    vms = [VmLoad("q1", "h0", 190, 64), VmLoad("q2", "h1", 206, 64)]
    rec = recommend(hosts(3), vms, threshold=1, goal="power")
    assert [(m.vm, m.source, m.target) for m in rec.moves] == [("q1", "h0", "h1")]
    assert set(rec.power_off) == {"h0", "h2"}
    alone = recommend(hosts(3), [VmLoad("q", "h1", 100, 64)], threshold=1, goal="power")
    assert alone.moves == () and set(alone.power_off) == {"h0", "h2"}
