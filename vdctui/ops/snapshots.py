"""VM snapshots through the console's one door: create, revert, delete (each a task,
role-checked and audited), and the reads an operator needs around them: a VM's
snapshot tree, and the space snapshots hold on each datastore with the old ones
flagged (a classic chore: old snapshots quietly fill datastores).

Names of new snapshots follow the console's name grammar; existing snapshots
are found by the name their host lists (whatever it is), never guessed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from vdctui import checks
from vdctui.drivers.base import DriverError
from vdctui.model import Snapshot, TaskState, Vm
from vdctui.ops import tasks
from vdctui.ops.actions import Action
from vdctui.ops.errors import Refused
from vdctui.ops.handover import fleet_operation
from vdctui.store.history import TaskConflict

if TYPE_CHECKING:
    from vdctui.ops.console import Console

T = TypeVar("T")
Progress = Callable[[float], None]
OLD_AFTER_S = 7 * 86_400.0  # a snapshot older than a week is flagged
MAX_DESCRIPTION = 500
LISTING_AT_ONCE = 8  # VMs whose snapshots are read at the same time (fleet-wide reads)


@dataclass(frozen=True, slots=True)
class TreeRow:
    """One snapshot in a VM's tree, in the order to show it (parents before children)."""

    snapshot: Snapshot
    depth: int


@dataclass(frozen=True, slots=True)
class DatastoreSnapshots:
    """What snapshots hold on one datastore."""

    datastore: str
    capacity_gib: float | None  # None: not known (real hosts' storage pools)
    snapshots: int
    size_bytes: int | None  # None: some sizes are not known (real hosts)
    old: int  # older than the threshold
    oldest_age_s: float | None


def check_description(text: str) -> str:
    """A description an operator typed: printable, at most MAX_DESCRIPTION characters."""
    if len(text) > MAX_DESCRIPTION or any(not c.isprintable() for c in text):
        raise Refused(
            f"A snapshot description is at most {MAX_DESCRIPTION} printable characters "
            f"(not {checks.shown(text)})."
        )
    return text


def tree(snapshots: Iterable[Snapshot]) -> list[TreeRow]:
    """The VM's snapshots depth first: each root, then its children (oldest first)."""
    snaps = sorted(snapshots, key=lambda s: (s.created or 0.0, s.name))
    names = {s.name for s in snaps}
    children: dict[str | None, list[Snapshot]] = {}
    for s in snaps:
        parent = s.parent if s.parent in names else None
        children.setdefault(parent, []).append(s)
    rows: list[TreeRow] = []
    stack = [(s, 0) for s in reversed(children.get(None, []))]
    while stack:
        s, depth = stack.pop()
        rows.append(TreeRow(s, depth))
        stack += [(c, depth + 1) for c in reversed(children.get(s.name, []))]
    return rows


def is_old(snapshot: Snapshot, now: float, old_after_s: float = OLD_AFTER_S) -> bool:
    return snapshot.created is not None and now - snapshot.created > old_after_s


def space_by_datastore(
    snapshots: Iterable[Snapshot],
    capacities: dict[str, float | None],
    now: float,
    old_after_s: float = OLD_AFTER_S,
) -> list[DatastoreSnapshots]:
    """Per datastore: how many snapshots, the space they hold (unknown if any size is),
    how many are old and the oldest's age. Pure."""
    grouped: dict[str, list[Snapshot]] = {}
    for s in snapshots:
        grouped.setdefault(s.datastore or "—", []).append(s)
    rows = []
    for name in sorted(grouped):
        snaps = grouped[name]
        sizes = [s.size_bytes for s in snaps]
        ages = [now - s.created for s in snaps if s.created is not None]
        rows.append(
            DatastoreSnapshots(
                datastore=name,
                capacity_gib=capacities.get(name),
                snapshots=len(snaps),
                size_bytes=None if any(z is None for z in sizes) else sum(z or 0 for z in sizes),
                old=sum(1 for s in snaps if is_old(s, now, old_after_s)),
                oldest_age_s=max(ages) if ages else None,
            )
        )
    return rows


# --- reads --------------------------------------------------------------------------------


@fleet_operation()
async def list_snapshots(console: Console, vm: str) -> list[Snapshot]:
    """The VM's snapshots as its host tells them now."""
    console.vm(vm)
    try:
        return await console.driver.list_snapshots(vm)
    except DriverError as exc:
        raise Refused(str(exc)) from exc


@fleet_operation()
async def fleet_snapshots(console: Console) -> tuple[list[Snapshot], list[str]]:
    """Every VM's snapshots, and a sentence for each VM whose host could not tell."""
    vms = console.vms()
    gate = asyncio.Semaphore(LISTING_AT_ONCE)
    problems: list[str] = []

    async def one(vm: Vm) -> list[Snapshot]:
        async with gate:
            try:
                return await console.driver.list_snapshots(vm.name)
            except DriverError as exc:
                problems.append(str(exc))
                return []

    found = await asyncio.gather(*(one(vm) for vm in vms))
    return [s for snaps in found for s in snaps], problems


def capacities(console: Console) -> dict[str, float | None]:
    """Each datastore's capacity as last seen (0 from a driver means: not known)."""
    return {d.name: d.capacity_gib or None for d in console.topology().datastores}


# --- changes: each a task through the door ---------------------------------------------------


async def _as_task(
    console: Console,
    action: Action,
    vm: str,
    params: dict[str, object],
    work: Callable[[Progress], Awaitable[T]],
    check: Callable[[], Awaitable[object]],
) -> T:
    """The door, then `check` (refusals leave no task), then `work` as a task of its own,
    told where to say how far it got (0..1; the task keeps whole percents)."""

    async def door_work() -> T:
        console.vm(vm)
        await check()
        try:
            task = console.store.create_task(
                "snapshot", vm, console.identity.actor, {"action": action.id, **params}, claims=[vm]
            )
        except TaskConflict as exc:
            raise Refused(f"{exc}; wait for it to end or cancel it first.") from None
        console.store.update_task(task.id, state=TaskState.RUNNING, progress=0.0)
        said = [0]

        def progress(fraction: float) -> None:
            percent = min(max(int(100 * fraction), 0), 99)  # 100: when it has ended
            if percent > said[0]:
                said[0] = percent
                console.store.update_task(task.id, progress=float(percent))

        async with tasks.ending_on_error(console, task.id):
            result = await work(progress)
        tasks.end_task(console, task.id, TaskState.SUCCEEDED, progress=100.0)
        return result

    return await console.change(action, vm, dict(params), door_work)


@fleet_operation(Action.VM_SNAPSHOT_CREATE)
async def create_snapshot(
    console: Console, vm: str, name: str, *, description: str = "", disk_only: bool = False
) -> Snapshot:
    """Take a snapshot: with the VM's memory when it runs, unless `disk_only`."""
    params: dict[str, object] = {"snapshot": name, "disk_only": disk_only}

    async def check() -> None:
        try:
            checks.name(name, "snapshot")
        except checks.BadInput as exc:
            raise Refused(str(exc)) from None
        check_description(description)

    async def work(progress: Progress) -> Snapshot:
        return await console.driver.create_snapshot(
            vm, name, description=description, disk_only=disk_only, on_progress=progress
        )

    return await _as_task(console, Action.VM_SNAPSHOT_CREATE, vm, params, work, check)


async def _existing(console: Console, vm: str, name: str) -> Snapshot:
    for s in await console.driver.list_snapshots(vm):
        if s.name == name:
            return s
    raise Refused(f"VM {vm} has no snapshot named {checks.shown(name)}.")


@fleet_operation(Action.VM_SNAPSHOT_REVERT)
async def revert_snapshot(console: Console, vm: str, name: str) -> Vm:
    """Bring the VM back to a snapshot (a running VM's memory comes back with it)."""

    async def work(_progress: Progress) -> Vm:
        await console.driver.revert_snapshot(vm, name)
        return await console.refresh_vm(vm)

    params: dict[str, object] = {"snapshot": name}
    return await _as_task(
        console, Action.VM_SNAPSHOT_REVERT, vm, params, work, lambda: _existing(console, vm, name)
    )


@fleet_operation(Action.VM_SNAPSHOT_DELETE)
async def delete_snapshot(console: Console, vm: str, name: str) -> None:
    """Delete one snapshot; its children are re-parented to its parent, as libvirt does."""

    async def work(_progress: Progress) -> None:
        await console.driver.delete_snapshot(vm, name)

    params: dict[str, object] = {"snapshot": name}
    await _as_task(
        console, Action.VM_SNAPSHOT_DELETE, vm, params, work, lambda: _existing(console, vm, name)
    )


__all__ = [
    "OLD_AFTER_S",
    "DatastoreSnapshots",
    "TreeRow",
    "capacities",
    "create_snapshot",
    "delete_snapshot",
    "fleet_snapshots",
    "is_old",
    "list_snapshots",
    "revert_snapshot",
    "space_by_datastore",
    "tree",
]
