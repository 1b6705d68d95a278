"""Every task ends with an outcome and an audit end record, whatever happens to its hosts
or its process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import emulator
from tests.conftest import host_with_room_for, running_vm_on_shared_storage
from tests.orphans import its_process_died
from vdctui.drivers.base import HostUnreachable, MigrationHandle
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import MigrationKind, MigrationOutcome, Role, TaskState
from vdctui.ops import Console, Failed, Identity
from vdctui.ops.balancer import Move, Recommendation
from vdctui.ops.balancing import apply
from vdctui.ops.ha import restart_vms_of
from vdctui.store import Store


def unended(console: Console) -> list[str]:
    """Tasks that ended without an audit end record naming them, or never ended."""
    ends = {r.params.get("task") for r in console.audit(limit=10_000) if r.action.endswith(".end")}
    return [
        f"task {t.id} ({t.kind}, {t.state})"
        for t in console.tasks(limit=10_000)
        if not t.state.finished or t.id not in ends
    ]


class SourceGoesSilent(MigrationHandle):
    """What the SSH driver does when the source host stops answering mid-migration."""

    def __init__(self, real: MigrationHandle) -> None:
        self.real, self.vm, self.source, self.target = real, real.vm, real.source, real.target

    def progress(self) -> Any:
        return self.real.progress()

    async def updates(self) -> AsyncIterator[Any]:
        yield self.real.progress()
        raise HostUnreachable(f"Host {self.source} does not answer (timed out after 10 s).")

    async def abort(self) -> None:
        await self.real.abort()

    async def wait(self) -> Any:
        raise HostUnreachable(f"Host {self.source} does not answer (timed out after 10 s).")


async def test_a_migration_whose_source_stops_answering_ends_failed_and_audited(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver, monkeypatch: Any
) -> None:
    real_migrate = driver.migrate

    async def migrate(*args: Any, **kwargs: Any) -> MigrationHandle:
        return SourceGoesSilent(await real_migrate(*args, **kwargs))

    monkeypatch.setattr(driver, "migrate", migrate)
    name = running_vm_on_shared_storage(fleet)
    run = await console.migrate_vm(name, host_with_room_for(fleet, name))
    result = await run.wait()  # no exception: an outcome
    assert result.outcome is MigrationOutcome.FAILED
    assert "does not answer" in result.reason and "lost sight" in result.reason
    task = console.task(run.task_id)
    assert task.state is TaskState.FAILED and "does not answer" in task.error
    (record,) = console.migrations(vm=name)
    assert record.outcome is MigrationOutcome.FAILED
    end = next(r for r in console.audit(limit=20) if r.action == "vm.migrate.end")
    assert (end.target, end.result, end.params["task"]) == (name, "failed", run.task_id)
    assert unended(console) == []


async def test_an_evacuation_whose_fleet_stops_answering_ends_and_leaves_the_host_in_service(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver, monkeypatch: Any
) -> None:
    host = next(h for h in sorted(fleet.hosts) if not console.plan_maintenance(h).stuck)

    async def list_hosts() -> Any:  # the check that the host is empty, at the end
        raise HostUnreachable("The fleet does not answer.")

    monkeypatch.setattr(driver, "list_hosts", list_hosts)
    with pytest.raises(Failed, match="did not enter maintenance"):
        await console.enter_maintenance(host)
    assert not console.store.in_maintenance(host)
    task = next(t for t in console.tasks() if t.kind == "maintenance")
    assert task.state is TaskState.FAILED and "did not answer" in task.error
    assert unended(console) == []


async def test_create_ha_restart_and_balance_end_with_an_audit_record(
    console: Console, fleet: emulator.Fleet
) -> None:
    await console.create_vms("fresh", flavor="tiny", pool="web", count=2)
    with pytest.raises(Exception, match="room"):
        await console.create_vms("huge", flavor="xlarge", pool="web", count=200)
    victim = running_vm_on_shared_storage(fleet)
    fleet.crash_host(fleet.vms[victim].host)
    await restart_vms_of(console, fleet.vms[victim].host)
    mover = running_vm_on_shared_storage(fleet, skip=(victim,))
    target = host_with_room_for(fleet, mover)
    source = fleet.vms[mover].host
    move = Move(mover, source, target, "spread", "a test move")
    await apply(console, Recommendation((move,), (), (), 0.0, 0.0, 0.0))
    kinds = {t.kind for t in console.tasks()}
    assert {"create", "ha-restart", "balance"} <= kinds
    assert unended(console) == []


async def test_a_migration_a_killed_process_left_open_is_reconciled_with_the_fleet(
    driver: EmulatedDriver, fleet: emulator.Fleet
) -> None:
    """Killed after the fleet saved the move and before the console recorded its end."""
    store = Store(":memory:")
    first = Console(store, driver, Identity("alice", Role.OPERATOR))
    await first.sync()
    moved = running_vm_on_shared_storage(fleet)
    stayed = running_vm_on_shared_storage(fleet, skip=(moved,))
    tasks = {}
    for name in (moved, stayed):
        source, target = fleet.vms[name].host, host_with_room_for(fleet, name)
        task = store.create_task("migrate", name, "alice", {"to": target})
        store.update_task(task.id, state=TaskState.RUNNING)
        store.start_migration(name, source, target, MigrationKind.LIVE, "alice", task_id=task.id)
        tasks[name] = task.id
    fleet.migrate(moved, store.migrations(vm=moved)[0].target)
    while fleet.migrations:
        fleet.step(0.5)
    # kill -9: nothing more is recorded; a new process opens the same store
    its_process_died(store)
    second = Console(store, driver, Identity("bob", Role.OPERATOR))
    await second.sync()
    assert second.task(tasks[moved]).state is TaskState.SUCCEEDED
    assert second.migrations(vm=moved)[0].outcome is MigrationOutcome.SUCCEEDED
    assert second.task(tasks[stayed]).state is TaskState.FAILED
    record = second.migrations(vm=stayed)[0]
    assert record.outcome is MigrationOutcome.FAILED and "interrupted" in record.reason
    assert unended(second) == []


class Buggy(SourceGoesSilent):
    async def wait(self) -> Any:
        raise RuntimeError("a bug in the driver")


async def test_a_bug_while_following_a_migration_still_ends_its_task_then_surfaces(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver, monkeypatch: Any
) -> None:
    real_migrate = driver.migrate

    async def migrate(*args: Any, **kwargs: Any) -> MigrationHandle:
        handle = Buggy(await real_migrate(*args, **kwargs))
        handle.updates = handle.real.updates  # type: ignore[method-assign]
        return handle

    monkeypatch.setattr(driver, "migrate", migrate)
    name = running_vm_on_shared_storage(fleet)
    run = await console.migrate_vm(name, host_with_room_for(fleet, name))
    with pytest.raises(RuntimeError, match="a bug"):
        await run.wait()
    assert console.running_migrations() == []
    task = console.task(run.task_id)
    assert task.state is TaskState.FAILED and "a bug" in task.error
    assert unended(console) == []
