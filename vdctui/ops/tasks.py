"""Every task ends with an outcome and an audit record, whatever happens to its hosts.

A task (migrate, create, maintenance, HA restart, balance) is ended through
`end_task`, which stores its outcome and writes one audit end record naming it
(`params.task`). `ending_on_error` guards the work of a task: whatever escapes
(a host that stops answering, a bug, a cancellation) ends the task as failed or
cancelled, audited, before it propagates. `recovery.recover_interrupted` is the one
place that ends the tasks a stopped process left running (see `recovery`). A task
belongs to the process that created it (vdctui.store.owners).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from vdctui.model import Task, TaskState
from vdctui.ops.actions import Action
from vdctui.store import Store

END_ACTIONS = {
    "migrate": Action.VM_MIGRATE_END,
    "create": Action.VM_CREATE_END,
    "resize": Action.VM_RESIZE_END,
    "maintenance": Action.MAINTENANCE_END,
    "ha-restart": Action.HA_RESTART_END,
    "balance": Action.BALANCE_APPLY_END,
}


# The task (a balance, an evacuation) whose steps the work running now carries out: the
# migrations it starts say so in their events (`FleetEvent.part_of`), so that a console
# tells them together (vdctui.ui.migration_toasts).
STEP_OF: ContextVar[int | None] = ContextVar("STEP_OF", default=None)


@contextmanager
def steps_of(task_id: int) -> Iterator[None]:
    """The block's work carries out steps of task `task_id` (see STEP_OF)."""
    token = STEP_OF.set(task_id)
    try:
        yield
    finally:
        STEP_OF.reset(token)


class Door(Protocol):
    """What ending a task needs of the console: its store and its audit log."""

    store: Store

    def record_audit(
        self, action: Action, target: str, params: dict[str, Any], result: str, error: str = ""
    ) -> None: ...


def end_action(kind: str) -> Action:
    return END_ACTIONS.get(kind, Action.TASK_END)


def end_task(
    door: Door,
    task_id: int,
    state: TaskState,
    *,
    error: str = "",
    progress: float | None = None,
    detail: dict[str, Any] | None = None,
    audit: dict[str, Any] | None = None,
) -> Task:
    """Store how the task ended and write its audit end record (once: a task already
    ended is returned as it is)."""
    task = door.store.task(task_id)
    if task is not None and task.state.finished:
        return task
    task = door.store.update_task(
        task_id, state=state, error=error or None, progress=progress, detail=detail
    )
    audit_end(door, task, state, error, audit)
    return task


def audit_end(
    door: Door, task: Task, state: TaskState, error: str, audit: dict[str, Any] | None
) -> None:
    """The audit end record of a task that ended (`state`)."""
    action = end_action(task.kind)
    door.record_audit(
        action,
        task.target,
        {"task": task.id, "outcome": state.value, **(audit or {})},
        "ok" if state is TaskState.SUCCEEDED else state.value,
        error,
    )


@asynccontextmanager
async def ending_on_error(door: Door, task_id: int) -> AsyncIterator[None]:
    """Whatever escapes the block ends the task (failed, or cancelled), audited."""
    try:
        yield
    except asyncio.CancelledError:
        end_task(door, task_id, TaskState.CANCELLED, error="cancelled: the console stopped it")
        raise
    except BaseException as exc:
        why = str(exc) or type(exc).__name__
        end_task(door, task_id, TaskState.FAILED, error=why)
        raise
