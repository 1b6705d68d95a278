"""Lifecycle changes to a VM with a job in flight are refused, naming the job."""

from __future__ import annotations

import pytest

import emulator
from tests.conftest import host_with_room_for, running_vm_on_shared_storage
from vdctui.ops import Console, Refused


def on_local_disk(fleet: emulator.Fleet) -> str:
    return next(
        n for n in sorted(fleet.vms) if fleet.datastores[fleet.vms[n].datastore].kind == "local"
    )


async def test_a_vm_cannot_start_while_its_cold_migration_copies_its_disk(
    console: Console, fleet: emulator.Fleet
) -> None:
    name = on_local_disk(fleet)
    fleet.destroy_vm(name)
    await console.sync()
    target = next(h for h in sorted(fleet.hosts) if h != fleet.vms[name].host)
    run = await console.migrate_vm(name, target, cold=True)
    assert name in fleet.migrations  # still copying the disk
    with pytest.raises(
        Refused, match=rf"{name} is being migrated by \w+ \(task {run.task_id}, \d+ %\)"
    ):
        await console.start_vm(name)
    assert fleet.vms[name].state == "shut off"
    record = console.audit(limit=1)[0]
    assert (record.action, record.result) == ("vm.start", "refused")
    await run.wait()
    assert fleet.vms[name].host == target and fleet.vms[name].state == "shut off"
    await console.start_vm(name)  # the job has ended: the change goes through


@pytest.mark.parametrize(
    "change",
    ["stop_vm", "destroy_vm", "reboot_vm", "suspend_vm", "resize_vm", "migrate_vm"],
)
async def test_every_change_to_a_migrating_vm_is_refused(
    console: Console, fleet: emulator.Fleet, change: str
) -> None:
    name = running_vm_on_shared_storage(fleet)
    target = host_with_room_for(fleet, name)
    run = await console.migrate_vm(name, target)
    args: dict[str, object] = {}
    call = getattr(console, change)
    with pytest.raises(Refused, match=rf"is being migrated by \w+ \(task {run.task_id},"):
        if change == "resize_vm":
            await call(name, vcpus=1)
        elif change == "migrate_vm":
            await call(name, host_with_room_for(fleet, name, besides=(target,)), **args)
        else:
            await call(name)
    assert name in fleet.migrations and fleet.vms[name].state == "running"
    assert (await run.wait()).outcome.value == "succeeded"
