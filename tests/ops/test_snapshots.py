"""Snapshots through the one door: role first, a task each, audited; the tree and the space."""

from __future__ import annotations

import pytest

import emulator
from tests.conftest import running_vm_on_shared_storage
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role, Snapshot, TaskState, VmState
from vdctui.ops import Console, Identity, Refused
from vdctui.ops import snapshots as snaps
from vdctui.store import Store

GIB = 1 << 30


async def test_create_revert_delete_are_tasks_and_audited(
    console: Console, fleet: emulator.Fleet
) -> None:
    vm = running_vm_on_shared_storage(fleet)
    made = await snaps.create_snapshot(console, vm, "pre-upgrade", description="before 2.0")
    assert made.current and made.memory and made.description == "before 2.0"
    await console.destroy_vm(vm)
    back = await snaps.revert_snapshot(console, vm, "pre-upgrade")
    assert back.state is VmState.RUNNING and console.vm(vm).state is VmState.RUNNING
    await snaps.delete_snapshot(console, vm, "pre-upgrade")
    assert await snaps.list_snapshots(console, vm) == []
    records = [(r.action, r.target, r.result) for r in reversed(console.audit(limit=20))]
    for action in ("vm.snapshot.create", "vm.snapshot.revert", "vm.snapshot.delete"):
        assert (action, vm, "ok") in records
    done = [t for t in console.tasks(limit=10) if t.kind == "snapshot"]
    assert len(done) == 3 and all(t.state is TaskState.SUCCEEDED for t in done)


async def test_refusals_leave_no_task_and_are_audited(
    driver: EmulatedDriver, console: Console, fleet: emulator.Fleet
) -> None:
    vm = running_vm_on_shared_storage(fleet)
    viewer = Console(Store(":memory:"), driver, Identity("bob", Role.VIEWER))
    await viewer.sync()
    with pytest.raises(Refused, match="operator"):
        await snaps.create_snapshot(viewer, vm, "s1")
    assert viewer.audit(limit=1)[0].result == "refused"
    assert fleet.snapshots_of(vm) == []
    for bad in ("a b", "x;rm", ""):
        with pytest.raises(Refused, match="not a valid snapshot name"):
            await snaps.create_snapshot(console, vm, bad)
    with pytest.raises(Refused, match="printable"):
        await snaps.create_snapshot(console, vm, "ok", description="line\x1b[2J")
    with pytest.raises(Refused, match="no snapshot named 'ghost'"):
        await snaps.revert_snapshot(console, vm, "ghost")
    with pytest.raises(Refused, match="no VM named"):
        await snaps.delete_snapshot(console, "no-such-vm", "s1")
    assert not [t for t in console.tasks(limit=10) if t.kind == "snapshot"]
    await snaps.create_snapshot(console, vm, "s1")
    with pytest.raises(Refused, match="already has a snapshot named 's1'"):
        await snaps.create_snapshot(console, vm, "s1")
    assert console.audit(limit=1)[0].result == "refused"
    [failed] = [t for t in console.tasks(limit=10) if t.state is TaskState.FAILED]
    assert "s1" in failed.error  # a task the host refused ends failed, with why


def snap(name: str, parent: str | None, created: float, **kw: object) -> Snapshot:
    return Snapshot(name, "vm", parent, created, "running", True, **kw)  # type: ignore[arg-type]


def test_tree_puts_parents_before_children() -> None:
    given = [snap("c", "b", 3), snap("a", None, 1), snap("d", "a", 4), snap("b", "a", 2)]
    shown = [(r.snapshot.name, r.depth) for r in snaps.tree(given)]
    assert shown == [("a", 0), ("b", 1), ("c", 2), ("d", 1)]
    orphan = [snap("x", "gone", 1)]  # a parent the host no longer lists: shown as a root
    assert [(r.snapshot.name, r.depth) for r in snaps.tree(orphan)] == [("x", 0)]


def test_space_by_datastore_flags_old_ones_and_says_unknown() -> None:
    now = 100 * 86_400.0
    given = [
        snap("old", None, now - 30 * 86_400, size_bytes=2 * GIB, datastore="san"),
        snap("new", "old", now - 3600, size_bytes=1 * GIB, datastore="san"),
        snap("real", None, None, size_bytes=None, datastore="pool1"),  # type: ignore[arg-type]
    ]
    rows = {r.datastore: r for r in snaps.space_by_datastore(given, {"san": 1000.0}, now)}
    assert rows["san"].size_bytes == 3 * GIB and rows["san"].old == 1
    assert rows["san"].oldest_age_s == 30 * 86_400 and rows["san"].capacity_gib == 1000.0
    assert rows["pool1"].size_bytes is None and rows["pool1"].oldest_age_s is None
    assert rows["pool1"].capacity_gib is None


async def test_a_busy_vms_snapshot_fills_its_datastore(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    vm = running_vm_on_shared_storage(fleet)
    fleet.vms[vm].dirty_rate = 1e9
    fleet.vms[vm].dirty_scales_with_cpu = False
    await snaps.create_snapshot(console, vm, "s1", disk_only=True)
    await driver.advance(3600.0)
    found, problems = await snaps.fleet_snapshots(console)
    assert problems == []
    [row] = snaps.space_by_datastore(found, snaps.capacities(console), console.store_now())
    assert row.datastore == fleet.vms[vm].datastore and row.snapshots == 1
    assert row.size_bytes == pytest.approx(min(1e7 * 3600, fleet.vms[vm].disk_gib * GIB))


async def test_a_memory_snapshot_reports_progress_by_its_size(
    console: Console, fleet: emulator.Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    vm = running_vm_on_shared_storage(fleet)
    took = fleet.snapshot_write_s(vm)
    assert took == fleet.vms[vm].memory_mib / 512 > 1  # its memory at 512 MiB/s
    assert fleet.snapshot_write_s(vm, disk_only=True) == 0.0
    said: list[float] = []
    update = console.store.update_task

    def recorded(task_id: int, **fields: object) -> object:
        if fields.get("progress") is not None:
            said.append(float(fields["progress"]))  # type: ignore[arg-type]
        return update(task_id, **fields)  # type: ignore[arg-type]

    monkeypatch.setattr(console.store, "update_task", recorded)
    began = fleet.now
    await snaps.create_snapshot(console, vm, "with-memory")
    assert fleet.now - began >= took  # the fleet moved on while it was written
    between = [p for p in said if 0 < p < 100]
    assert len(between) >= 3 and between == sorted(set(between)), said
    assert said[-1] == 100.0
    said.clear()
    await snaps.create_snapshot(console, vm, "disk", disk_only=True)
    assert [p for p in said if 0 < p < 100] == []  # at once: nothing in between
