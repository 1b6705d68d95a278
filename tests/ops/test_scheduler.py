from __future__ import annotations

import random

import pytest

import emulator
from tests.conftest import running_vm_on_shared_storage
from vdctui.model import Host, HostState, Pool, Vm, VmState
from vdctui.ops import Console, Refused
from vdctui.ops.scheduler import PACK, SPREAD, FleetView, PlacementRequest, pick, place


def host(
    name: str,
    *,
    rack: str = "r1",
    state: HostState = HostState.UP,
    cpus: int = 16,
    memory: int = 65536,
    datastores: tuple[str, ...] = ("san",),
    watts: float = 200.0,
    util: float = 0.2,
) -> Host:
    return Host(
        name=name,
        state=state,
        rack=rack,
        room="room",
        site="site",
        model="m",
        cpus=cpus,
        cores=cpus // 2,
        mhz=2000,
        memory_mib=memory,
        nic_gbps=10.0,
        datastores=datastores,
        power_watts=watts if state is HostState.UP else 0.0,
        cpu_util=util,
    )


def vm(name: str, host_name: str, vcpus: int = 2, memory: int = 4096) -> Vm:
    return Vm(
        name=name,
        state=VmState.RUNNING,
        host=host_name,
        vcpus=vcpus,
        memory_mib=memory,
        max_vcpus=vcpus,
        max_memory_mib=memory,
    )


def test_every_excluded_host_names_the_filter_that_excluded_it() -> None:
    hosts = [
        host("a-down", state=HostState.CRASHED),
        host("b-maint"),
        host("c-current"),
        host("d-local", datastores=("local-d",)),
        host("e-full", memory=8192),
        host("f-cpu", cpus=2),
        host("g-peer", rack="r2"),
        host("h-ok", rack="r3"),
        host("i-hot", rack="hot"),
    ]
    view = FleetView(
        hosts,
        [vm("peer", "g-peer", memory=1024)],
        maintenance=["b-maint"],
        rack_budgets_kw={"hot": 0.05},
    )
    request = PlacementRequest(
        "web",
        vcpus=4,
        memory_mib=16384,
        datastore="san",
        current_host="c-current",
        avoid_hosts=frozenset({"g-peer"}),
        cpu_overcommit=1.0,
    )
    answer = place(view, request)
    assert [r.host for r in answer.ranked] == ["h-ok"]
    assert {e.host: e.filter for e in answer.excluded} == {
        "a-down": "ComputeFilter",
        "b-maint": "MaintenanceFilter",
        "c-current": "CurrentHostFilter",
        "d-local": "DatastoreFilter",
        "e-full": "RamFilter",
        "f-cpu": "CoreFilter",
        "g-peer": "AntiAffinityHostFilter",
        "i-hot": "RackPowerFilter",
    }
    assert "crashed" in (answer.why_not("a-down") or "")
    assert "16384 MiB needed" in (answer.why_not("e-full") or "")
    assert answer.why_not("h-ok") is None
    assert pick(view, request) == "h-ok"


def test_racks_and_same_host_groups() -> None:
    hosts = [host("a", rack="r1"), host("b", rack="r1"), host("c", rack="r2")]
    view = FleetView(hosts)
    apart = place(view, PlacementRequest("x", 1, 1024, avoid_racks=frozenset({"r1"})))
    assert [r.host for r in apart.ranked] == ["c"]
    together = place(view, PlacementRequest("x", 1, 1024, same_host="b"))
    assert [r.host for r in together.ranked] == ["b"]
    assert {e.filter for e in together.excluded} == {"AffinityFilter"}


def test_spread_and_pack_choose_opposite_ends() -> None:
    hosts = [host("empty"), host("half"), host("busy")]
    vms = [vm("h1", "half", memory=16384), vm("b1", "busy", memory=40000)]
    view = FleetView(hosts, vms)
    request = PlacementRequest("x", 1, 2048)
    assert pick(view, request, SPREAD) == "empty"
    assert pick(view, request, PACK) == "busy"


def test_claims_are_seen_by_the_next_placement() -> None:
    view = FleetView([host("a", memory=10000), host("b", memory=10000)])
    request = PlacementRequest("x", 1, 6000)
    first = pick(view, request)
    assert first is not None
    view.claim(first, 1, 6000)
    second = pick(view, request)
    assert second is not None and second != first
    view.claim(second, 1, 6000)
    assert pick(view, request) is None
    assert place(view, request).summary().startswith("no host passes the filters (2 by RamFilter")


def test_pick_agrees_with_place_on_random_fleets() -> None:
    rng = random.Random(5)
    for _ in range(30):
        hosts = [
            host(
                f"h{i}",
                rack=f"r{i % 3}",
                cpus=rng.choice([4, 8, 16]),
                memory=rng.choice([8192, 16384, 65536]),
                state=rng.choice([HostState.UP] * 5 + [HostState.OFF]),
                datastores=rng.choice([("san",), ("san", "nas"), ("nas",)]),
                watts=rng.uniform(100, 300),
                util=rng.random(),
            )
            for i in range(12)
        ]
        vms = [
            vm(f"v{k}", f"h{rng.randrange(12)}", rng.choice([1, 2, 4]), rng.choice([1024, 4096]))
            for k in range(20)
        ]
        view = FleetView(
            hosts,
            vms,
            maintenance=[f"h{rng.randrange(12)}"],
            rack_budgets_kw={"r0": rng.uniform(0.1, 2.0)},
        )
        request = PlacementRequest(
            "x",
            rng.choice([1, 2, 8]),
            rng.choice([2048, 8192]),
            datastore=rng.choice(["", "san", "nas"]),
            avoid_racks=frozenset({"r1"}) if rng.random() < 0.3 else frozenset(),
            cpu_overcommit=rng.choice([1.0, 4.0]),
        )
        for weights in (SPREAD, PACK):
            answer = place(view, request, weights)
            assert pick(view, request, weights) == answer.best
            assert len(answer.ranked) + len(answer.excluded) == len(hosts)


async def test_migration_to_a_host_in_maintenance_is_refused_with_the_reason(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    candidates = [c.host.name for c in console.migration_candidates(name) if c.reason is None]
    target = candidates[0]
    console.store.set_maintenance(target, True)
    with pytest.raises(Refused, match="in maintenance"):
        await console.migrate_vm(name, target)
    reasons = {c.host.name: c.reason for c in console.migration_candidates(name)}
    assert "maintenance" in (reasons[target] or "")


async def test_anti_affinity_groups_keep_vms_apart(console: Console, fleet: emulator.Fleet) -> None:
    a = running_vm_on_shared_storage(fleet)
    b = running_vm_on_shared_storage(fleet, skip=(a,))
    console.store.upsert_affinity_group("pair", "different-hosts", [a, b])
    answer = console.placement(a)
    host_of_b = fleet.vms[b].host
    if host_of_b != fleet.vms[a].host:
        assert answer.why_not(host_of_b) == f"host {host_of_b} runs a VM of its anti-affinity group"
    assert host_of_b not in [r.host for r in answer.ranked]


async def test_create_avoids_hosts_in_maintenance(console: Console) -> None:
    hosts = [h.name for h in console.hosts()]
    for name in hosts[1:]:
        console.store.set_maintenance(name, True)
    created = await console.create_vms("solo", flavor="tiny", pool="web", count=2)
    assert {v.host for v in created} == {hosts[0]}


async def test_pool_limits_refuse_a_create_and_a_resize(console: Console) -> None:
    usage = {u.pool.name: u for u in console.pools()}["web"]
    held = sum(v.memory_mib for v in console.vms(pool="web") if v.state is not VmState.SHUTOFF)
    console.store.upsert_pool(Pool(**{**_fields(usage.pool), "memory_limit_mib": held + 1024}))
    with pytest.raises(Refused, match="over its limit"):
        await console.create_vms("big", flavor="small", pool="web")
    assert console.audit(limit=1)[0].result == "refused"
    running = next(
        v
        for v in console.vms(pool="web")
        if v.state is VmState.RUNNING and v.max_memory_mib >= v.memory_mib + 2048
    )
    with pytest.raises(Refused, match="over its limit"):
        await console.resize_vm(running.name, memory_mib=running.memory_mib + 2048)
    await console.create_vms("fits", flavor="tiny", pool="web")  # 512 MiB fits under the limit


async def test_a_reservation_keeps_memory_for_its_pool(console: Console) -> None:
    free = sum(h.usable_memory_mib for h in console.hosts()) - sum(
        v.memory_mib for v in console.vms() if v.state is not VmState.SHUTOFF
    )
    db = {u.pool.name: u for u in console.pools()}["db"].pool
    held_db = sum(v.memory_mib for v in console.vms(pool="db") if v.state is not VmState.SHUTOFF)
    console.store.upsert_pool(
        Pool(**{**_fields(db), "memory_reservation_mib": held_db + free - 1024})
    )
    with pytest.raises(Refused, match="reserved for pool db"):
        await console.create_vms("web-x", flavor="small", pool="web")
    await console.create_vms("web-y", flavor="tiny", pool="web")  # 512 MiB is still unreserved


def _fields(pool: Pool) -> dict[str, object]:
    from dataclasses import asdict

    return asdict(pool)
