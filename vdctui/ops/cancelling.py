"""Cancelling a running task (`vdctui task cancel N`, the console's `:cancel`, the Tasks
screen's x): what this console runs stops as that task's own Ctrl-C stops it.

- a migration is aborted at once (the VM stays where it was);
- a task carried out step by step (a balance, an HA restart) stops after the step under
  way: "cancelled after N of M steps" (vdctui.ops.stepping);
- an evacuation starts no new move and aborts the running ones.

Carried out by the console whose process runs the task; a console whose embedded fleet
another process holds hands the cancel over to it (vdctui.ops.requests), like any change.
The door (`Console.cancel_task`) audits the cancel; the task's end is audited as it ends.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from vdctui.model import Task
from vdctui.ops import recovery
from vdctui.ops.errors import Failed, Refused

if TYPE_CHECKING:
    from vdctui.ops.console import Console

# the kinds of task that stop when cancelled, while the process that runs them runs
STOPPABLE = frozenset({"migrate", "balance", "ha-restart", "maintenance"})
FOLLOW_EVERY_S = 0.25  # how often `until_ended` reads the task's row


async def cancel(console: Console, task_id: int) -> None:
    """Stop task `task_id` if this console runs it; Refused, in one sentence, if not."""
    run = next((r for r in console.running_migrations() if r.task_id == task_id), None)
    if run is not None:
        await run.handle.abort()
        return
    stop = console.cancellable.get(task_id)
    if stop is not None:
        stop()
        return
    raise Refused(why_not(console, task_id))


def asked(task: Task) -> str:
    """What a cancel asked of `task` does, in one sentence."""
    if task.kind in ("balance", "ha-restart"):
        return f"Task {task.id} ({task.kind}) stops after the step under way."
    if task.kind == "maintenance":
        return f"Task {task.id} (maintenance) starts no new move; the moves under way stop."
    return f"Task {task.id} ({task.kind}) is being cancelled."


def why_not(console: Console, task_id: int) -> str:
    """Why task `task_id` cannot be cancelled here, in one sentence."""
    task = console.store.task(task_id)
    if task is None:
        return f"There is no task {task_id}."
    if task.state.finished:
        return f"Task {task_id} has {task.state}; there is nothing to cancel."
    if task.kind not in STOPPABLE:
        return f"Task {task_id} ({task.kind}) cannot be cancelled; it ends by itself."
    return (
        f"Task {task_id} ({task.kind}) is run by another process; cancel it there "
        "(Ctrl-C in the command that started it)."
    )


async def until_ended(console: Console, task_id: int) -> Task:
    """Task `task_id` once it has ended, as the process that runs it writes its row (a
    task whose process died meanwhile is ended as interrupted, by the store's rule)."""
    while True:
        recovery.recover_interrupted(console)
        task = console.store.task(task_id)
        if task is None:
            raise Failed(f"Task {task_id} is no longer in the store.")
        if task.state.finished:
            return task
        await asyncio.sleep(FOLLOW_EVERY_S)
