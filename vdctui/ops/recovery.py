"""What a stopped process left behind, recovered by whichever process syncs next.

`recover_interrupted` is the one place that decides which tasks are orphans and
ends them, each with an outcome and an audit end record, once. An orphan is a task
whose owning process is gone (vdctui.store.owners: its pid absent, or recycled, or a
silent heartbeat from another machine): a live process's tasks are never touched,
whichever process looks. A migration an orphan left open is reconciled with what the
fleet says: the VM seen on the target moved. A host an orphaned evacuation left
"entering" maintenance is marked interrupted: shown as such, still kept out of
placement, until the operator resumes the evacuation or cancels it.
"""

from __future__ import annotations

from vdctui.model import MigrationOutcome, Task, TaskState
from vdctui.ops.maintenance import ENTERING, INTERRUPTED_EVACUATION
from vdctui.ops.tasks import Door, audit_end
from vdctui.store import Store

INTERRUPTED = "interrupted: the process that ran it stopped"


def recover_interrupted(door: Door) -> list[Task]:
    """End every task whose process is gone (each once, audited); reconcile the
    migrations they left open with the store's fresh view of the fleet; mark the
    evacuations they left half done."""
    store = door.store
    if not store.writable:
        return []
    ended: list[Task] = []
    for orphan in store.orphaned_tasks():
        moved = _close_migration_of(store, orphan)
        if moved:
            task = store.end_orphan(orphan.id, TaskState.SUCCEEDED, progress=100.0)
        else:
            task = store.end_orphan(orphan.id, TaskState.FAILED, error=INTERRUPTED)
        if task is None:  # another process ended it first, or its owner is back
            continue
        audit_end(door, task, task.state, task.error or "", None)
        ended.append(task)
        if task.kind == "maintenance" and store.maintenance_reasons().get(task.target) == ENTERING:
            store.set_maintenance(task.target, True, reason=INTERRUPTED_EVACUATION)
    return ended


def _close_migration_of(store: Store, task: Task) -> bool:
    """Close the migration record an orphaned migrate task left open; whether the VM
    is seen on the target (it moved)."""
    if task.kind != "migrate":
        return False
    for record in store.migrations(vm=task.target, limit=20):
        if record.task_id != task.id:
            continue
        if record.outcome is not None:
            return record.outcome is MigrationOutcome.SUCCEEDED
        vm = store.vm(record.vm)
        moved = vm is not None and vm.host == record.target
        store.close_migration(
            record.id,
            MigrationOutcome.SUCCEEDED if moved else MigrationOutcome.FAILED,
            "" if moved else INTERRUPTED,
        )
        return moved
    return False
