from __future__ import annotations

import pytest

import emulator
from tests.conftest import make_busy
from vdctui.model import TaskState
from vdctui.ops import Console, Failed, Refused


def plans(console: Console):  # type: ignore[no-untyped-def]
    return {h.name: console.plan_maintenance(h.name) for h in console.hosts()}


def movable_host(console: Console) -> str:
    return next(
        name for name, plan in sorted(plans(console).items()) if plan.moves and not plan.stuck
    )


async def test_a_plan_changes_nothing_and_names_what_cannot_move(
    console: Console, fleet: emulator.Fleet
) -> None:
    before = fleet.snapshot()
    audit_before = len(console.audit(limit=1000))
    every = plans(console)
    assert fleet.snapshot() == before and console.tasks() == []
    assert len(console.audit(limit=1000)) == audit_before
    for name, plan in every.items():
        on_host = {v.name for v in console.vms(host=name)}
        assert {m.vm for m in plan.moves} | {s.vm for s in plan.stuck} == on_host
        assert all(m.target != name for m in plan.moves)
        assert [m.order for m in plan.moves] == list(range(1, len(plan.moves) + 1))
        for move in plan.moves:
            assert (move.estimated_bytes > 0) == (move.kind.value == "live")
        for stuck in plan.stuck:  # the demo's local-disk VMs
            assert fleet.datastores[fleet.vms[stuck.vm].datastore].kind == "local"
            assert "no other available host reaches" in stuck.reason
    assert any(p.stuck for p in every.values())


async def test_entering_maintenance_empties_the_host(
    console: Console, fleet: emulator.Fleet
) -> None:
    host = movable_host(console)
    plan = console.plan_maintenance(host, max_per_host=1)
    seen: list[float] = []
    evacuation = await console.enter_maintenance(
        host, max_per_host=1, on_progress=lambda e: seen.append(e.percent)
    )
    assert sorted(evacuation.done) == sorted(m.vm for m in plan.moves)
    assert fleet.hosts[host].vm_names == {}
    assert console.store.in_maintenance(host)
    assert len(console.migrations()) == len(plan.moves)
    assert seen and seen[-1] == 100.0
    task = next(t for t in console.tasks() if t.kind == "maintenance")
    assert (task.target, task.state) == (host, TaskState.SUCCEEDED)
    record = next(r for r in console.audit(limit=100) if r.action == "host.maintenance.enter")
    assert record.result == "ok"
    created = await console.create_vms("after", flavor="tiny", pool="web", count=4)
    assert host not in {v.host for v in created}
    with pytest.raises(Refused, match="in maintenance already"):
        await console.enter_maintenance(host)
    await console.exit_maintenance(host)
    assert not console.store.in_maintenance(host)
    with pytest.raises(Refused, match="not in maintenance"):
        await console.exit_maintenance(host)


async def test_a_host_with_vms_that_cannot_move_is_refused_before_anything_moves(
    console: Console, fleet: emulator.Fleet
) -> None:
    host, plan = next((n, p) for n, p in sorted(plans(console).items()) if p.stuck)
    before = fleet.snapshot()
    with pytest.raises(Refused, match=plan.stuck[0].vm):
        await console.enter_maintenance(host)
    assert fleet.snapshot() == before
    assert not console.store.in_maintenance(host)
    assert console.audit(limit=1)[0].result == "refused"


async def test_cancel_aborts_and_the_host_stays_in_service(
    console: Console, fleet: emulator.Fleet
) -> None:
    host = movable_host(console)

    def cancel_on_first_progress(evacuation) -> None:  # type: ignore[no-untyped-def]
        if evacuation.running:
            evacuation.cancel()

    with pytest.raises(Failed, match="cancelled"):
        await console.enter_maintenance(host, on_progress=cancel_on_first_progress)
    assert not console.store.in_maintenance(host)
    assert fleet.hosts[host].vm_names  # VMs are left on it, and it says so
    task = next(t for t in console.tasks() if t.kind == "maintenance")
    assert task.state is TaskState.CANCELLED and "still on" in task.error
    assert any(r.outcome and r.outcome.value == "cancelled" for r in console.migrations())


async def test_a_failed_move_keeps_the_host_out_of_maintenance_and_names_the_vm(
    console: Console, fleet: emulator.Fleet
) -> None:
    host = movable_host(console)
    plan = console.plan_maintenance(host)
    live = next(m.vm for m in plan.moves if m.kind.value == "live")
    make_busy(fleet, live)
    with pytest.raises(Failed, match=live):
        await console.enter_maintenance(host)
    assert not console.store.in_maintenance(host)
    assert fleet.vms[live].host == host
