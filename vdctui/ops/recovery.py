"""What a stopped console left behind, recovered at the next start (its first sync).

`recover_interrupted` is the one place that decides which tasks are orphans and
ends them, each with an outcome and an audit end record: today every task still
queued or running when a console first syncs is an orphan. A migration it left open
is reconciled with what the fleet says: the VM seen on the target moved. A host it
left "entering" maintenance is marked interrupted: shown as such, still kept out of
placement, until the operator resumes the evacuation or cancels it.
"""

from __future__ import annotations

from vdctui.model import MigrationOutcome, MigrationRecord, Task, TaskState
from vdctui.ops.maintenance import ENTERING, INTERRUPTED_EVACUATION
from vdctui.ops.tasks import Door, end_task
from vdctui.store import Store

INTERRUPTED = "interrupted: the console stopped while it ran"


def recover_interrupted(door: Door) -> list[Task]:
    """End every task a stopped console left queued or running; reconcile its open
    migrations with the store's fresh view of the fleet; mark its half-done evacuations."""
    store = door.store
    if not store.writable:
        return []
    for record in store.open_migrations():
        vm = store.vm(record.vm)
        moved = vm is not None and vm.host == record.target
        store.close_migration(
            record.id,
            MigrationOutcome.SUCCEEDED if moved else MigrationOutcome.FAILED,
            "" if moved else INTERRUPTED,
        )
    ended: list[Task] = []
    for task in store.tasks(active=True, limit=100_000):
        closed = _migration_of(store, task)
        if closed is not None and closed.outcome is MigrationOutcome.SUCCEEDED:
            ended.append(end_task(door, task.id, TaskState.SUCCEEDED, progress=100.0))
        else:
            ended.append(end_task(door, task.id, TaskState.FAILED, error=INTERRUPTED))
    for host, reason in store.maintenance_reasons().items():
        if reason == ENTERING:
            store.set_maintenance(host, True, reason=INTERRUPTED_EVACUATION)
    return ended


def _migration_of(store: Store, task: Task) -> MigrationRecord | None:
    if task.kind != "migrate":
        return None
    for record in store.migrations(vm=task.target, limit=20):
        if record.task_id == task.id:
            return record
    return None
