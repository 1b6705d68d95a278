"""`task cancel N` (the console's `:cancel`, the Tasks screen's x) stops a task carried out
step by step (`balance --apply`, an HA restart) after the step under way, as Ctrl-C in its
command does: "cancelled after N of M steps", the task cancelled, the cancel and the
task's end audited; an evacuation is cancelled as its Ctrl-C does. Other tasks are
refused in one sentence.

A step is held under way by a gate on the driver's call, never a sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import emulator
from tests.ops.test_ha import busy_host
from tests.waiting import ENOUGH
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Task, TaskState
from vdctui.ops import Console, Failed, Refused
from vdctui.ops.balancing import apply_moves, recommendations
from vdctui.ops.ha import restart_vms_of


class Gate:
    """Holds every call of a driver's method until opened; counts the calls."""

    def __init__(self, driver: EmulatedDriver, method: str) -> None:
        self.calls: list[str] = []
        self.entered = asyncio.Event()
        self.open = asyncio.Event()
        real: Callable[..., Awaitable[Any]] = getattr(driver, method)

        async def held(name: str, *args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            self.entered.set()
            await self.open.wait()
            return await real(name, *args, **kwargs)

        setattr(driver, method, held)

    async def wait_entered(self) -> None:
        await asyncio.wait_for(self.entered.wait(), ENOUGH)


def running(console: Console, kind: str) -> Task:
    (task,) = [t for t in console.tasks(active=True) if t.kind == kind]
    return task


def audited(console: Console, action: str) -> list[tuple[str, str, str]]:
    return [(r.target, r.result, r.error) for r in console.audit(action=action)]


async def test_task_cancel_stops_a_balance_after_the_step_under_way(
    console: Console, driver: EmulatedDriver
) -> None:
    rec = recommendations(console, threshold=5, goal="power")
    steps = len(rec.power_on) + len(rec.moves) + len(rec.power_off)
    assert len(rec.moves) > 2
    gate = Gate(driver, "migrate")
    applying = asyncio.ensure_future(apply_moves(console, rec))
    await gate.wait_entered()
    balance = running(console, "balance")
    await console.cancel_task(balance.id)
    gate.open.set()
    with pytest.raises(Failed) as failed:
        await asyncio.wait_for(applying, ENOUGH)
    why = f"cancelled after 1 of {steps} steps"
    assert str(failed.value) == f"Balancing {why}; the rest of the plan was not carried out."
    assert len(gate.calls) == 1  # the step under way ended; no other began
    ended = console.task(balance.id)
    assert ended.state is TaskState.CANCELLED and ended.error == why
    assert audited(console, "task.cancel")[:1] == [(str(balance.id), "ok", "")]
    assert audited(console, "balance.apply.end")[:1] == [("fleet", "cancelled", why)]
    assert [t.state for t in console.tasks() if t.kind == "migrate"] == [TaskState.SUCCEEDED]


async def test_task_cancel_stops_an_ha_restart_after_the_vm_under_way(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    host = busy_host(fleet)
    fleet.crash_host(host)
    gate = Gate(driver, "start")
    restarting = asyncio.ensure_future(restart_vms_of(console, host))
    await gate.wait_entered()
    restart = running(console, "ha-restart")
    steps = len(restart.detail["vms"])
    assert steps > 2
    await console.cancel_task(restart.id)
    gate.open.set()
    with pytest.raises(Failed, match=f"was cancelled after 1 of {steps} steps; not restarted: "):
        await asyncio.wait_for(restarting, ENOUGH)
    assert gate.calls == [restart.detail["vms"][0]]  # no further VM was restarted
    ended = console.task(restart.id)
    assert ended.state is TaskState.CANCELLED
    assert ended.error.startswith(f"cancelled after 1 of {steps} steps; not restarted: ")
    assert audited(console, "task.cancel")[:1] == [(str(restart.id), "ok", "")]
    assert audited(console, "ha.restart.end")[:1] == [(host, "cancelled", ended.error)]


async def test_task_cancel_cancels_an_evacuation_as_its_ctrl_c_does(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    host = busy_host(fleet)
    gate = Gate(driver, "migrate")
    evacuating = asyncio.ensure_future(console.enter_maintenance(host, max_per_host=1))
    await gate.wait_entered()
    evacuation = running(console, "maintenance")
    await console.cancel_task(evacuation.id)
    gate.open.set()
    with pytest.raises(Failed, match="cancelled"):
        await asyncio.wait_for(evacuating, ENOUGH)
    ended = console.task(evacuation.id)
    assert ended.state is TaskState.CANCELLED
    # the operator's cancel, and the evacuation's of the move it aborted
    assert (str(evacuation.id), "ok", "") in audited(console, "task.cancel")
    assert host not in console.store.hosts_in_maintenance()


async def test_a_task_that_has_ended_or_cannot_stop_is_refused_in_one_sentence(
    console: Console, fleet: emulator.Fleet
) -> None:
    made = console.store.create_task("snapshot", "web-001", "alice")
    console.store.update_task(made.id, state=TaskState.RUNNING)
    with pytest.raises(Refused) as refused:
        await console.cancel_task(made.id)
    assert str(refused.value) == (
        f"Task {made.id} (snapshot) cannot be cancelled; it ends by itself."
    )
    host = busy_host(fleet)
    fleet.crash_host(host)
    await restart_vms_of(console, host)
    done = [t for t in console.tasks() if t.kind == "ha-restart"][0]
    with pytest.raises(Refused) as refused:
        await console.cancel_task(done.id)
    assert str(refused.value) == f"Task {done.id} has succeeded; there is nothing to cancel."
    assert [r.result for r in console.audit(action="task.cancel")] == ["refused", "refused"]
