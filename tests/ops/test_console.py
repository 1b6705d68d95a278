from __future__ import annotations

import time

import pytest

import emulator
from tests.conftest import host_with_room_for, make_busy, running_vm_on_shared_storage
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import MigrationKind, MigrationOutcome, Role, TaskState, VmState
from vdctui.ops import Console, Failed, Identity, Refused


def last_audit(console: Console):  # type: ignore[no-untyped-def]
    return console.audit(limit=1)[0]


async def test_sync_stores_what_the_fleet_runs(console: Console, fleet: emulator.Fleet) -> None:
    assert {h.name for h in console.hosts()} == set(fleet.hosts)
    assert {v.name for v in console.vms()} == set(fleet.vms)
    assert await console.sync() == []  # nothing changed: no drift


async def test_changes_behind_the_consoles_back_are_drift(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    fleet.destroy_vm(name)
    events = await console.sync()
    assert [(e.kind, e.vm) for e in events] == [("drift.vm-state", name)]
    assert console.vm(name).state is VmState.SHUTOFF
    assert console.events(vm=name)[0].kind == "drift.vm-state"


async def test_vms_on_an_unreachable_host_are_kept_as_last_seen(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    host = fleet.vms[name].host
    fleet.partition_host(host)
    events = await console.sync()
    assert ("drift.host-state", host) in [(e.kind, e.host) for e in events]
    assert console.vm(name).state is VmState.RUNNING
    assert not any(e.kind == "drift.vm-vanished" for e in events)


async def test_lifecycle_goes_to_the_fleet_and_the_audit_log(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    vm = await console.suspend_vm(name)
    assert vm.state is VmState.PAUSED and fleet.vms[name].state == "paused"
    record = last_audit(console)
    assert (record.action, record.target, record.result, record.actor) == (
        "vm.suspend",
        name,
        "ok",
        "alice",
    )
    await console.resume_vm(name)
    assert console.vm(name).state is VmState.RUNNING


async def test_an_unknown_vm_is_refused_and_audited(console: Console) -> None:
    with pytest.raises(Refused, match="no VM named 'ghost'"):
        await console.start_vm("ghost")
    record = last_audit(console)
    assert (record.action, record.result) == ("vm.start", "refused")
    assert "ghost" in record.error


async def test_a_hypervisor_refusal_is_a_refusal(console: Console, fleet: emulator.Fleet) -> None:
    name = running_vm_on_shared_storage(fleet)
    with pytest.raises(Refused):
        await console.start_vm(name)  # running already
    assert last_audit(console).result == "refused"


async def test_a_viewer_changes_nothing(driver: EmulatedDriver, fleet: emulator.Fleet) -> None:
    from vdctui.store import Store

    viewer = Console(Store(":memory:"), driver, Identity("bob", Role.VIEWER))
    await viewer.sync()
    name = running_vm_on_shared_storage(fleet)
    with pytest.raises(Refused, match="read-only"):
        await viewer.destroy_vm(name)
    assert fleet.vms[name].state == "running"
    record = last_audit(viewer)
    assert (record.actor, record.role, record.result) == ("bob", Role.VIEWER, "refused")


async def test_resize_within_the_maxima(console: Console, fleet: emulator.Fleet) -> None:
    name = running_vm_on_shared_storage(fleet)
    vm = console.vm(name)
    resized = await console.resize_vm(name, vcpus=vm.max_vcpus)
    assert resized.vcpus == vm.max_vcpus == fleet.vms[name].vcpus


@pytest.mark.parametrize(
    ("vcpus", "memory", "reason"),
    [
        (0, None, "1 to"),
        (10_000, None, "1 to"),
        (None, -5, "1 to"),
        (None, 10**9, "1 to"),
        (None, None, "Say what to change"),
    ],
)
async def test_bad_resizes_are_refused_and_change_nothing(
    console: Console, fleet: emulator.Fleet, vcpus: int | None, memory: int | None, reason: str
) -> None:
    name = running_vm_on_shared_storage(fleet)
    before = (fleet.vms[name].vcpus, fleet.vms[name].memory_mib)
    with pytest.raises(Refused, match=reason):
        await console.resize_vm(name, vcpus=vcpus, memory_mib=memory)
    assert (fleet.vms[name].vcpus, fleet.vms[name].memory_mib) == before
    assert last_audit(console).result == "refused"


async def test_resize_beyond_the_hosts_room_is_refused(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    vm = fleet.vms[name]
    host = fleet.hosts[vm.host]
    vm.max_memory_mib = host.memory_mib * 2  # a maximum the host cannot honour
    await console.sync()
    with pytest.raises(Refused, match="cannot grow"):
        await console.resize_vm(name, memory_mib=host.memory_mib + 1024)


async def test_create_places_and_starts_vms(console: Console) -> None:
    created = await console.create_vms("api", flavor="small", pool="web", count=3)
    assert [vm.name for vm in created] == ["api-01", "api-02", "api-03"]
    assert all(vm.state is VmState.RUNNING and vm.host and vm.pool == "web" for vm in created)
    task = console.tasks(limit=1)[0]
    assert (task.kind, task.state, task.progress) == ("create", TaskState.SUCCEEDED, 100.0)


@pytest.mark.parametrize(
    ("name", "flavor", "pool", "count", "reason"),
    [
        ("bad name!", "small", "web", 1, "not a VM name"),
        ("ok", "galactic", "web", 1, "no flavor"),
        ("ok", "small", "nowhere", 1, "no pool"),
        ("ok", "small", "web", 0, "1 to"),
    ],
)
async def test_bad_creates_are_refused(
    console: Console, name: str, flavor: str, pool: str, count: int, reason: str
) -> None:
    before = len(console.vms())
    with pytest.raises(Refused, match=reason):
        await console.create_vms(name, flavor=flavor, pool=pool, count=count)
    assert len(console.vms()) == before
    assert last_audit(console).result == "refused"


async def test_create_refuses_a_name_in_use(console: Console, fleet: emulator.Fleet) -> None:
    with pytest.raises(Refused, match="exists already"):
        await console.create_vms(sorted(fleet.vms)[0], flavor="small", pool="web")


async def test_live_migration_is_recorded(console: Console, fleet: emulator.Fleet) -> None:
    name = running_vm_on_shared_storage(fleet)
    source, target = fleet.vms[name].host, host_with_room_for(fleet, name)
    seen = []
    run = await console.migrate_vm(name, target, on_progress=lambda _r, p: seen.append(p))
    result = await run.wait()
    assert result.outcome is MigrationOutcome.SUCCEEDED, result.reason
    assert seen and seen[-1].data_processed > 0
    assert console.vm(name).host == target
    (record,) = console.migrations(vm=name)
    assert (record.source, record.target, record.outcome, record.actor) == (
        source,
        target,
        MigrationOutcome.SUCCEEDED,
        "alice",
    )
    assert record.data_bytes > 0 and record.rounds >= 1
    assert abs(record.started - time.time()) < 60  # wall clock, whatever the fleet's clock
    assert record.ended is not None and record.ended > record.started
    assert console.task(run.task_id).state is TaskState.SUCCEEDED
    actions = [a.action for a in console.audit(target=name)]
    assert actions[:2] == ["vm.migrate.end", "vm.migrate"]


async def test_a_cancelled_migration_leaves_the_vm_home(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    name = running_vm_on_shared_storage(fleet)
    make_busy(fleet, name)
    source, target = fleet.vms[name].host, host_with_room_for(fleet, name)
    run = await console.migrate_vm(name, target)
    await driver.advance(2.0)
    await console.cancel_task(run.task_id)
    result = await run.wait()
    assert result.outcome is MigrationOutcome.CANCELLED
    assert console.vm(name).host == source and fleet.vms[name].state == "running"
    assert console.task(run.task_id).state is TaskState.CANCELLED
    assert console.migrations(vm=name)[0].outcome is MigrationOutcome.CANCELLED


async def test_a_migration_that_cannot_converge_fails_with_a_reason(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    make_busy(fleet, name)
    run = await console.migrate_vm(name, host_with_room_for(fleet, name))
    result = await run.wait()
    assert result.outcome is MigrationOutcome.FAILED and result.reason
    task = console.task(run.task_id)
    assert task.state is TaskState.FAILED and task.error
    assert console.audit(action="vm.migrate.end")[0].result == "failed"


async def test_bad_migrations_are_refused(console: Console, fleet: emulator.Fleet) -> None:
    name = running_vm_on_shared_storage(fleet)
    with pytest.raises(Refused, match="already"):
        await console.migrate_vm(name, fleet.vms[name].host)
    with pytest.raises(Refused, match="no host"):
        await console.migrate_vm(name, "host-nowhere")
    with pytest.raises(Refused, match="cold"):
        await console.migrate_vm(name, host_with_room_for(fleet, name), cold=True)
    assert console.migrations(vm=name) == []


async def test_a_migration_to_a_partitioned_host_fails_cleanly(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    target = host_with_room_for(fleet, name)
    fleet.partition_host(target)
    with pytest.raises((Refused, Failed)):
        await console.migrate_vm(name, target)
    assert fleet.vms[name].host != target


async def test_cancel_of_an_unknown_task_is_refused(console: Console) -> None:
    with pytest.raises(Refused, match="no task 999"):
        await console.cancel_task(999)


async def test_cold_migration_moves_a_stopped_vm(console: Console, fleet: emulator.Fleet) -> None:
    name = running_vm_on_shared_storage(fleet)
    target = host_with_room_for(fleet, name)
    await console.destroy_vm(name)
    with pytest.raises(Refused, match="needs it running"):
        await console.migrate_vm(name, target)
    run = await console.migrate_vm(name, target, cold=True)
    result = await run.wait()
    assert result.outcome is MigrationOutcome.SUCCEEDED, result.reason
    vm = console.vm(name)
    assert (vm.host, vm.state) == (target, VmState.SHUTOFF)
    assert console.migrations(vm=name)[0].kind.value == "cold"


async def test_listeners_hear_drift_and_migration_ends(
    console: Console, fleet: emulator.Fleet
) -> None:
    heard = []
    console.subscribe(heard.append)
    name = running_vm_on_shared_storage(fleet)
    fleet.suspend_vm(name)
    await console.sync()
    run = await console.migrate_vm(name, host_with_room_for(fleet, name))
    await run.wait()
    assert [e.kind for e in heard] == ["drift.vm-state", "migration.succeeded"]


async def test_tasks_left_running_by_a_crash_are_failed_at_the_first_sync(
    driver: EmulatedDriver,
) -> None:
    from vdctui.store import Store

    store = Store(":memory:")
    task = store.create_task("migrate", "web-001", "alice")
    store.update_task(task.id, state=TaskState.RUNNING)
    store.start_migration(
        "web-001", "rk1-h01", "rk1-h02", MigrationKind.LIVE, "alice", task_id=task.id
    )
    from tests.orphans import its_process_died

    its_process_died(store)  # the crash: the process that owned the task is gone
    console = Console(store, driver, Identity("alice", Role.ADMIN))
    await console.sync()
    assert console.task(task.id).state is TaskState.FAILED
    assert "interrupted" in console.task(task.id).error
    (record,) = console.migrations(vm="web-001")
    assert record.outcome is MigrationOutcome.FAILED and "interrupted" in record.reason


async def test_migration_candidates_rank_and_explain(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    candidates = console.migration_candidates(name)
    assert {c.host.name for c in candidates} == set(fleet.hosts) - {fleet.vms[name].host}
    fitting = [c for c in candidates if c.reason is None]
    assert fitting and candidates[: len(fitting)] == fitting  # the ones that fit come first
    assert host_with_room_for(fleet, name) in {c.host.name for c in fitting}
    fleet.partition_host(fitting[0].host.name)
    await console.sync()
    again = {c.host.name: c.reason for c in console.migration_candidates(name)}
    assert "unreachable" in (again[fitting[0].host.name] or "")


async def test_counts_for_the_header(console: Console, fleet: emulator.Fleet) -> None:
    fleet.crash_host(sorted(fleet.hosts)[0])
    await console.sync()
    counts = console.counts()
    assert (counts.hosts, counts.hosts_up) == (len(fleet.hosts), len(fleet.hosts) - 1)
    assert counts.vms == len(console.vms())
    assert counts.running == len(console.vms(state=VmState.RUNNING))
