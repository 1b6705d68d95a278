"""What a running task changes is claimed in the transaction that records it (issue 10):
an evacuation claims its host and every VM it will move, a resize claims its VM, and
a change to something claimed is refused with who and what."""

from __future__ import annotations

import asyncio
import copy

import pytest

import emulator
from tests.conftest import host_with_room_for, running_vm_on_shared_storage
from tests.ops.test_maintenance import movable_host
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role, TaskState
from vdctui.ops import Console, Identity, Refused
from vdctui.ops.maintenance import Evacuation


def as_bob(console: Console) -> Console:
    """Another operator on the same store and fleet (a second console)."""
    bob = copy.copy(console)
    bob.identity = Identity("bob", Role.ADMIN)
    return bob


async def test_an_evacuation_claims_its_host_and_its_vms(
    console: Console, fleet: emulator.Fleet
) -> None:
    host = movable_host(console)
    plan = console.plan_maintenance(host, max_per_host=1, max_total=1)
    assert len(plan.moves) >= 2
    waiting = plan.moves[-1]  # queued behind the first move: not migrating yet
    begun: list[Evacuation] = []
    evacuating = asyncio.ensure_future(
        console.enter_maintenance(host, max_per_host=1, max_total=1, started=begun.append)
    )
    while not begun:
        await asyncio.sleep(0)
    bob = as_bob(console)
    task = begun[0].task_id
    sentence = rf"{waiting.vm} is being evacuated by alice \(task {task}, \d+ %\)"
    with pytest.raises(Refused, match=sentence):
        await bob.migrate_vm(waiting.vm, waiting.target)
    with pytest.raises(Refused, match=sentence):
        await bob.stop_vm(waiting.vm)
    with pytest.raises(Refused, match=rf"{host} is being evacuated by alice \(task {task}"):
        await bob.enter_maintenance(host)
    evacuation = await evacuating
    assert sorted(evacuation.done) == sorted(m.vm for m in plan.moves)
    refusals = [r for r in console.audit(limit=100) if r.actor == "bob"]
    assert [r.result for r in refusals] == ["refused"] * 3
    # once it has ended, nothing is claimed any more
    vm = console.store.vm(waiting.vm)
    assert vm is not None and vm.host != host
    await bob.stop_vm(waiting.vm)


async def test_a_resize_is_a_task_that_claims_its_vm(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    name = running_vm_on_shared_storage(fleet)
    target = host_with_room_for(fleet, name)
    vm = fleet.vms[name]
    inside, release = asyncio.Event(), asyncio.Event()
    set_vcpus = driver.set_vcpus

    async def slow_set_vcpus(vm_name: str, vcpus: int) -> None:
        inside.set()
        await release.wait()
        await set_vcpus(vm_name, vcpus)

    monkeypatch.setattr(driver, "set_vcpus", slow_set_vcpus)
    resizing = asyncio.ensure_future(console.resize_vm(name, vcpus=vm.max_vcpus))
    await inside.wait()
    task = next(t for t in console.tasks() if t.kind == "resize")
    assert (task.target, task.state, task.actor) == (name, TaskState.RUNNING, "alice")
    with pytest.raises(Refused, match=rf"{name} is being resized by alice \(task {task.id}, 0 %\)"):
        await as_bob(console).migrate_vm(name, target)
    release.set()
    resized = await resizing
    assert resized.vcpus == vm.max_vcpus
    ended = console.store.task(task.id)
    assert ended is not None and ended.state is TaskState.SUCCEEDED
    ends = [r for r in console.audit(limit=50) if r.action == "vm.resize.end"]
    assert ends and ends[0].params["task"] == task.id and ends[0].result == "ok"


async def test_a_refused_resize_leaves_no_task(console: Console, fleet: emulator.Fleet) -> None:
    name = running_vm_on_shared_storage(fleet)
    with pytest.raises(Refused):
        await console.resize_vm(name, vcpus=fleet.vms[name].max_vcpus + 1)
    assert [t for t in console.tasks() if t.kind == "resize"] == []
