"""Quitting a console that runs work: what it runs is named, the operator is asked, and a
yes stops it before the console closes.

What this console runs is what its process carries out: the migrations it started, and
the tasks carried out step by step that registered their cancel with it
(`Console.cancellable`: a balance, an HA restart, an evacuation), whether started here or
handed to this console by another process's command (this console holds the embedded
fleet). None of it can go on once the process ends, and none of it is handed to another
process: the tasks are stopped as `:cancel` stops them (through the door, audited), with
the migrations under way cancelled so that the steps under way end at once:

- a balance or an HA restart ends "cancelled after N of M steps": no further step begins;
- an evacuation starts no new move, its host does not enter maintenance (the VMs moved
  already stay where they went);
- a migration is cancelled: its VM stays where it was.

The console waits until each has ended and is recorded, at most STOP_WAIT_S; what has not
ended by then (a step that does not end: a host that never answers) is interrupted, and
its task ended as cancelled, still before the store is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from textual.worker import get_current_worker

from vdctui.model import Task
from vdctui.ops import Console, Failed, Refused
from vdctui.ui.dialogs import Question

if TYPE_CHECKING:
    from vdctui.ui.app import VdcApp

STOP_WAIT_S = 30.0  # how long the console waits for what it stops to end
POLL_S = 0.05


def running_here(console: Console) -> tuple[list[Task], int]:
    """The tasks carried out step by step in this process (not ended yet), and the number
    of migrations it runs (their steps included)."""
    tasks = [console.store.task(task_id) for task_id in sorted(console.cancellable)]
    steps = [t for t in tasks if t is not None and not t.state.finished]
    return steps, len(console.running_migrations())


def named(task: Task, me: str) -> str:
    """`a balance (task 7)`, `the evacuation of h3 (task 8)`, `the HA restart of h2's VMs
    (task 9, asked by bob)`."""
    what = {
        "balance": "a balance",
        "maintenance": f"the evacuation of {task.target}",
        "ha-restart": f"the HA restart of {task.target}'s VMs",
    }.get(task.kind, f"{task.kind} of {task.target}")
    by = f", asked by {task.actor}" if task.actor and task.actor != me else ""
    return f"{what} (task {task.id}{by})"


def quit_question(tasks: list[Task], migrations: int, me: str) -> Question | None:
    """What to ask before quitting; None when this console runs nothing."""
    if not tasks and not migrations:
        return None
    parts = [named(task, me) for task in tasks]
    if migrations:
        parts.append(f"{migrations} migration{'' if migrations == 1 else 's'} under way")
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    kinds = {task.kind for task in tasks}
    body: list[str] = []
    if migrations:
        body.append("A migration under way is cancelled: its VM stays where it was.")
    if kinds & {"balance", "ha-restart"}:
        body.append(
            "A balance or an HA restart stops after the step under way: it ends 'cancelled "
            "after N of M steps', and the rest of it is not carried out."
        )
    if "maintenance" in kinds:
        body.append(
            "An evacuation starts no new move: its host does not enter maintenance, and the "
            "VMs moved already stay where they went."
        )
    body.append(
        "Nothing is handed to another process: the console waits for them to stop (at "
        f"most {STOP_WAIT_S:g} s; what has not stopped by then is interrupted, its task "
        "ended as cancelled), then closes."
    )
    return Question(
        f"This console runs {listed}. Quit, and stop {'it' if len(parts) == 1 else 'them'}?",
        tuple(body),
        "Stop and quit",
    )


def question(console: Console) -> Question | None:
    tasks, migrations = running_here(console)
    return quit_question(tasks, migrations, console.identity.actor)


async def stop_what_runs(app: VdcApp) -> None:
    """Stop what this console runs, and wait (bounded) until it has ended."""
    console = app.ops
    tasks, migrations = running_here(console)
    if tasks or migrations:
        app.notify(f"Stopping {len(tasks) + migrations} task(s) before quitting ...", timeout=10)
    for task_id in [
        *sorted(console.cancellable),
        *(r.task_id for r in console.running_migrations()),
    ]:
        with contextlib.suppress(Refused, Failed):  # it ended meanwhile
            await console.cancel_task(task_id)
    deadline = time.monotonic() + STOP_WAIT_S
    while (console.cancellable or console.running_migrations()) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)


async def interrupt_workers(app: VdcApp) -> None:
    """Cancel the app's workers but the one running this, and wait (bounded) for them to
    end: whatever they carry out ends its task while the store is still open."""
    me = get_current_worker()
    others = [w for w in app.workers if not w.is_finished and w is not me]
    for worker in others:
        worker.cancel()
    deadline = time.monotonic() + STOP_WAIT_S
    while any(not w.is_finished for w in others) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
