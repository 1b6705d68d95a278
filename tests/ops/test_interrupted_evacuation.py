"""kill -9 during `host maintenance NAME --yes`: the next start shows the evacuation as
interrupted, and it can be resumed or cancelled, never stuck "entering"."""

from __future__ import annotations

import pytest

import emulator
from tests.orphans import its_process_died
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role, TaskState
from vdctui.ops import Console, Identity, Refused
from vdctui.ops.maintenance import ENTERING, INTERRUPTED_EVACUATION
from vdctui.store import Store


async def killed_mid_evacuation(driver: EmulatedDriver, fleet: emulator.Fleet) -> tuple[Store, str]:
    """What a console killed one move into an evacuation leaves in its store and fleet."""
    store = Store(":memory:")
    first = Console(store, driver, Identity("alice", Role.ADMIN))
    await first.sync()
    host = next(
        h
        for h in sorted(fleet.hosts)
        if len(first.plan_maintenance(h).moves) >= 2 and not first.plan_maintenance(h).stuck
    )
    plan = first.plan_maintenance(host)
    task = store.create_task("maintenance", host, "alice", {"moves": len(plan.moves)})
    store.update_task(task.id, state=TaskState.RUNNING)
    store.set_maintenance(host, True, actor="alice", reason=ENTERING)
    moved = plan.moves[0]
    fleet.migrate(moved.vm, moved.target)
    while fleet.migrations:
        fleet.step(0.5)
    its_process_died(store)
    return store, host


async def test_an_interrupted_evacuation_is_shown_and_can_be_resumed(
    driver: EmulatedDriver, fleet: emulator.Fleet
) -> None:
    store, host = await killed_mid_evacuation(driver, fleet)
    console = Console(store, driver, Identity("bob", Role.ADMIN))
    await console.sync()
    (task,) = [t for t in console.tasks() if t.kind == "maintenance"]
    assert task.state is TaskState.FAILED and "interrupted" in task.error
    assert store.maintenance_reasons()[host] == INTERRUPTED_EVACUATION
    ends = [r for r in console.audit(limit=20) if r.action == "host.maintenance.end"]
    assert ends and ends[0].params["task"] == task.id
    with pytest.raises(Refused, match="in maintenance already|being evacuated"):
        store.set_maintenance(host, True, reason=ENTERING)
        await console.enter_maintenance(host)
    store.set_maintenance(host, True, reason=INTERRUPTED_EVACUATION)
    evacuation = await console.enter_maintenance(host, resume=True)
    assert fleet.hosts[host].vm_names == {} and evacuation.done
    assert store.maintenance_reasons()[host] == "maintenance"


async def test_an_interrupted_evacuation_can_be_cancelled(
    driver: EmulatedDriver, fleet: emulator.Fleet
) -> None:
    store, host = await killed_mid_evacuation(driver, fleet)
    console = Console(store, driver, Identity("bob", Role.ADMIN))
    await console.sync()
    with pytest.raises(Refused, match="no interrupted evacuation"):
        await console.enter_maintenance(sorted(h for h in fleet.hosts if h != host)[0], resume=True)
    await console.exit_maintenance(host)
    assert host not in store.maintenance_reasons()
