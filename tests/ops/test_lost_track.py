"""A VM the console has seen is never dropped because its host stopped answering."""

from __future__ import annotations

from typing import Any

import emulator
from tests.conftest import host_with_room_for, running_vm_on_shared_storage
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import MigrationKind, MigrationOutcome, TaskState, VmState
from vdctui.ops import Console
from vdctui.ops.ha import restart_vms_of


def finish_behind_the_follower(fleet: emulator.Fleet, name: str) -> None:
    """Step the fleet (not the console) until the VM's migration has ended."""
    while name in fleet.migrations:
        fleet.step(0.5)


async def start_migration(console: Console, fleet: emulator.Fleet) -> tuple[str, str, str]:
    name = running_vm_on_shared_storage(fleet)
    source = fleet.vms[name].host
    target = host_with_room_for(fleet, name)
    await console.migrate_vm(name, target)
    return name, source, target


async def test_a_vm_whose_new_host_crashes_before_the_sync_is_kept_on_it(
    console: Console, fleet: emulator.Fleet
) -> None:
    name, _source, target = await start_migration(console, fleet)
    finish_behind_the_follower(fleet, name)
    assert fleet.vms[name].host == target
    fleet.crash_host(target)
    events = await console.sync()
    assert not any(e.kind == "drift.vm-vanished" for e in events)
    kept = console.vm(name)
    assert kept.host == target
    assert console.vm_seen(name).stale


async def test_a_vm_lost_with_its_new_host_is_restarted_by_ha(
    console: Console, fleet: emulator.Fleet
) -> None:
    name, _source, target = await start_migration(console, fleet)
    finish_behind_the_follower(fleet, name)
    fleet.power_off_host(target)
    await console.sync()
    outcomes = await restart_vms_of(console, target)
    assert name in {o.vm for o in outcomes if o.target}
    assert fleet.vms[name].state == "running" and fleet.vms[name].host != target
    assert console.vm(name).host == fleet.vms[name].host
    assert not console.vm_seen(name).stale


async def test_a_vm_behind_a_partition_after_its_migration_is_unknown_not_gone(
    console: Console, fleet: emulator.Fleet
) -> None:
    name, _source, target = await start_migration(console, fleet)
    finish_behind_the_follower(fleet, name)
    fleet.partition_host(target)
    await console.sync()
    seen = console.vm_seen(name)
    assert console.vm(name).host == target and seen.stale and seen.seen_at is not None
    fleet.partition_host(target, False)
    await console.sync()
    assert console.vm(name).host == target and not console.vm_seen(name).stale


async def test_the_migration_ends_with_an_outcome_when_its_new_host_is_gone(
    console: Console, fleet: emulator.Fleet
) -> None:
    name, _source, target = await start_migration(console, fleet)
    finish_behind_the_follower(fleet, name)
    fleet.crash_host(target)
    run = console.running_migrations()[0]
    result = await run.wait()
    assert result.outcome is MigrationOutcome.SUCCEEDED
    assert console.task(run.task_id).state is TaskState.SUCCEEDED
    end = [r for r in console.audit(limit=50) if r.action == "vm.migrate.end"]
    assert end and end[0].target == name
    assert console.vm(name).host == target  # where the fleet said it went


async def test_a_vm_that_really_went_away_is_removed_once_every_host_answers(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    name = next(n for n in sorted(fleet.vms) if fleet.vms[n].state == "shut off")
    other = running_vm_on_shared_storage(fleet)
    fleet.partition_host(fleet.vms[other].host)
    fleet.undefine_vm(name)
    await console.sync()
    assert console.vm(name).state is VmState.SHUTOFF and console.vm_seen(name).stale
    fleet.partition_host(fleet.vms[other].host, False)
    events = await console.sync()
    assert ("drift.vm-vanished", name) in [(e.kind, e.vm) for e in events]
    assert console.store.vm(name) is None


async def test_a_migration_another_console_recorded_places_a_vm_that_went_silent(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = running_vm_on_shared_storage(fleet)
    source = fleet.vms[name].host
    target = host_with_room_for(fleet, name)
    console.store.start_migration(name, source, target, MigrationKind.LIVE, "bob")
    fleet.migrate(name, target)
    finish_behind_the_follower(fleet, name)
    fleet.crash_host(target)
    events = await console.sync()
    assert ("drift.vm-unaccounted", name) in [(e.kind, e.vm) for e in events]
    assert console.vm(name).host == target and console.vm_seen(name).stale
    outcomes = await restart_vms_of(console, target)
    assert name in {o.vm for o in outcomes if o.target}
    assert not console.vm_seen(name).stale


async def test_a_vm_read_anew_while_a_sync_reads_the_fleet_keeps_the_newer_reading(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver, monkeypatch: Any
) -> None:
    """Found by the fault storm: a migration's end recorded while a sync was reading the
    fleet was overwritten by the sync's older reading."""
    name = running_vm_on_shared_storage(fleet)
    target = host_with_room_for(fleet, name)
    read = driver.list_vms

    async def list_vms(host: str | None = None) -> list[Any]:
        vms = await read(host)  # the sync's reading: still on its source
        fleet.migrate(name, target)
        finish_behind_the_follower(fleet, name)
        await console.refresh_vm(name)  # a follower records the end meanwhile
        return vms

    monkeypatch.setattr(driver, "list_vms", list_vms)
    await console.sync()
    assert console.vm(name).host == target
