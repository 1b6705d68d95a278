"""Snapshots through the HostDriver contract: the emulated driver and the SSH driver
(virsh snapshot-* against the emulated hosts' virsh) say the same things."""

from __future__ import annotations

import time

import pytest

from tests.drivers.contract import ContractFleet
from vdctui.drivers.base import DriverError, InvalidOperation
from vdctui.model import VmState


async def test_create_list_revert_delete(fleet: ContractFleet) -> None:
    driver, vm = fleet.driver, fleet.running_vm
    assert await driver.list_snapshots(vm) == []
    first = await driver.create_snapshot(vm, "before upgrade", description="pre 2.0; it's fine")
    assert first.name == "before upgrade" and first.vm == vm and first.current
    assert first.memory and first.vm_state == "running" and first.parent is None
    assert first.description == "pre 2.0; it's fine"
    assert first.created is not None and abs(first.created - time.time()) < 120
    await driver.create_snapshot(vm, "disk", disk_only=True)
    listed = {s.name: s for s in await driver.list_snapshots(vm)}
    assert set(listed) == {"before upgrade", "disk"}
    assert listed["disk"].parent == "before upgrade" and listed["disk"].current
    assert not listed["before upgrade"].current and not listed["disk"].memory
    await driver.destroy(vm)
    await driver.revert_snapshot(vm, "before upgrade")
    assert (await driver.get_vm(vm)).state is VmState.RUNNING
    assert [s.name for s in await driver.list_snapshots(vm) if s.current] == ["before upgrade"]
    await driver.delete_snapshot(vm, "before upgrade")  # its child is re-parented
    [left] = await driver.list_snapshots(vm)
    assert left.name == "disk" and left.parent is None


async def test_refusals_are_one_sentence(fleet: ContractFleet) -> None:
    driver, vm = fleet.driver, fleet.running_vm
    await driver.create_snapshot(vm, "s1")
    with pytest.raises(InvalidOperation, match="s1"):
        await driver.create_snapshot(vm, "s1")
    with pytest.raises(DriverError, match="nope"):
        await driver.revert_snapshot(vm, "nope")
    with pytest.raises(InvalidOperation, match="cannot migrate domain with 1 snapshots"):
        handle = await driver.migrate(vm, fleet.target_host)
        result = await handle.wait()  # a driver may only learn it when virsh migrate ends
        raise InvalidOperation(result.reason)
    await driver.delete_snapshot(vm, "s1")
