"""`vdctui task cancel N` typed in another process stops a balance or an HA restart where
it runs (the process that holds the embedded fleet: a console, or the command that
started it) after the step under way: "cancelled after N of M steps", the task
cancelled, the cancel audited in the canceller's name, the task's end audited.

Real processes on one --db; a step is held under way by stopping the holder's fleet clock
(speed 0) or by a gate, never a sleep; every wait is for a condition."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from tests.ops.test_task_cancel_steps import Gate
from tests.ui.conftest import SIZE, fleet_of
from tests.ui.processes import started, vdctui
from tests.ui.test_shared_fleet import ENOUGH, connected, db
from tests.ui.test_shared_stepping import BALANCE, ends, fullest_host, stepping, tasks, until
from vdctui.model import TaskState
from vdctui.ops.ha import fence, restart_vms_of
from vdctui.ui.launch import console_app

__all__ = ["db"]  # the fixture


def cancels(app, task_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The results of the audited cancels of task `task_id`."""
    return [r.result for r in app.ops.audit(limit=500) if r.action == "task.cancel"
            and r.target == str(task_id)]  # fmt: skip


async def test_task_cancel_stops_a_balance_a_console_runs_for_another_command(db: Path) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        driver = app.ops.driver
        speed, driver.speed = driver.speed, 0.0  # the first migration stays under way
        proc, task_id, steps = await stepping(db, *BALANCE)
        assert steps > 2
        migrating = await until(lambda: tasks(app, "migrate"), "a move under way")
        canceller = await started("--db", str(db), "task", "cancel", str(task_id))
        await until(lambda: cancels(app, task_id) or canceller.returncode is not None, "a cancel")
        assert cancels(app, task_id) == ["ok"]
        driver.speed = speed  # the step under way ends
        out, err = await asyncio.wait_for(canceller.communicate(), ENOUGH)
        why = f"cancelled after 1 of {steps} steps"
        assert canceller.returncode == 0, (out, err)
        assert f"Task {task_id} (balance) stops after the step under way." in err.decode()
        assert out.decode() == f"task {task_id} (balance): {why}\n"
        out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
        assert proc.returncode == 1, (out, err)
        assert b"Traceback" not in err
        assert f"vdctui: Balancing {why}; the rest of the plan was not carried out." in (
            err.decode()
        )
        assert [t.target for t in tasks(app, "migrate")] == [migrating[0].target]
        balance = app.ops.store.task(task_id)
        assert balance is not None and balance.state is TaskState.CANCELLED
        assert balance.error == why
        assert ends(app, "balance.apply.end")[:1] == [("fleet", "cancelled", why)]


async def test_task_cancel_stops_an_ha_restart_the_console_runs(db: Path) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        host = fullest_host(fleet_of(app))
        await fence(app.ops, host)
        gate = Gate(app.ops.driver, "start")  # the first restart stays under way
        restarting = asyncio.ensure_future(restart_vms_of(app.ops, host))
        (restart,) = await until(lambda: tasks(app, "ha-restart"), "the restart's task")
        steps = len(restart.detail["vms"])
        assert steps > 2
        await gate.wait_entered()
        canceller = await started("--db", str(db), "task", "cancel", str(restart.id))
        await until(
            lambda: cancels(app, restart.id) or canceller.returncode is not None, "a cancel"
        )
        assert cancels(app, restart.id) == ["ok"]
        gate.open.set()
        done, err = await asyncio.wait_for(canceller.communicate(), ENOUGH)
        code, out = canceller.returncode, done.decode()
        assert code == 0, (out, err)
        ended = app.ops.store.task(restart.id)
        assert ended is not None and ended.state is TaskState.CANCELLED
        assert ended.error.startswith(f"cancelled after 1 of {steps} steps; not restarted: ")
        assert out == f"task {restart.id} (ha-restart): {ended.error}\n"
        assert gate.calls == [gate.calls[0]]  # no further VM was restarted
        assert ends(app, "ha.restart.end")[:1] == [(host, "cancelled", ended.error)]
        assert restarting.done() and restarting.exception() is not None


async def test_task_cancel_stops_a_balance_in_the_command_that_holds_the_fleet(
    db: Path,
) -> None:
    """No console: `balance --apply` holds the fleet itself and takes the cancel."""
    proc, task_id, steps = await stepping(db, *BALANCE)
    code, out, err = await vdctui(db, "task", "cancel", str(task_id))
    assert code == 0, (out, err)
    taken = re.fullmatch(
        rf"task {task_id} \(balance\): cancelled after (\d+) of {steps} steps\n", out
    )
    assert taken and int(taken[1]) < steps, out
    done, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
    assert proc.returncode == 1, (done, err)
    why = f"cancelled after {taken[1]} of {steps} steps"
    assert f"vdctui: Balancing {why}; the rest of the plan was not carried out." in err.decode()
    code, listed, _ = await vdctui(db, "--json", "audit", "list", "--limit", "50")
    records = json.loads(listed)
    assert [(r["target"], r["result"]) for r in records if r["action"] == "task.cancel"] == [
        (str(task_id), "ok")
    ]
    assert [r["result"] for r in records if r["action"] == "balance.apply.end"] == ["cancelled"]


async def test_task_cancel_of_a_task_that_has_ended_is_refused_in_one_sentence(
    db: Path,
) -> None:
    code, out, err = await vdctui(db, "task", "cancel", "999")
    assert (code, out, err) == (1, "", "vdctui: There is no task 999.\n")
