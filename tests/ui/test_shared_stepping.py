"""`balance --apply` and `ha restart` typed beside the process that holds the embedded
fleet (issue 10): each step's line followed where the command was typed, Ctrl-C stops the
task where it runs after the step under way ("cancelled after N of M steps", audited, no
further step), and an asker killed mid-apply leaves the holder to finish the task.

Real processes: a console (Pilot) holds the fleet; the commands run as `vdctui`
processes on the same --db. The holder's fleet clock is stopped (speed 0) to hold a step
under way, never a sleep; every wait is for a condition."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import emulator
from tests.ops.test_task_cancel_steps import Gate
from tests.ui.conftest import SIZE, fleet_of
from tests.ui.processes import said, started, vdctui
from tests.ui.test_shared_fleet import ENOUGH, connected, db
from tests.ui.test_shared_operations import wait_for_state
from vdctui.model import Task, TaskState
from vdctui.ops.ha import fence
from vdctui.store.requests import CANCELLING, DONE
from vdctui.ui.app import VdcApp
from vdctui.ui.launch import console_app

__all__ = ["db"]  # the fixture

STEPS = re.compile(rb"task (\d+): [^\n]*, (\d+) step\(s\); Ctrl-C stops after the current step")


async def until(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + ENOUGH
    while not (held := condition()):
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.05)
    return held


BALANCE = ("balance", "--apply", "--goal", "power", "--yes")


async def stepping(db: Path, *command: str) -> tuple[asyncio.subprocess.Process, int, int]:
    """`vdctui --db DB COMMAND`, a command carried out step by step (`BALANCE`, `ha restart
    HOST --yes`), started and heard saying its task and how many steps it has: the
    process, the task's id and its number of steps."""
    proc = await started("--db", str(db), *command)
    heard = await said(proc, b"Ctrl-C stops after the current step")
    match = STEPS.search(heard)
    assert match, heard
    return proc, int(match[1]), int(match[2])


def fullest_host(fleet: emulator.Fleet) -> str:
    """The host with the most VMs (ties by name): fenced, it has the most to restart."""
    return max(sorted(fleet.hosts), key=lambda h: len(fleet.vms_on(h)))


def tasks(app: VdcApp, kind: str) -> list[Task]:
    return [t for t in app.ops.store.tasks(limit=500) if t.kind == kind]


def holder_cancelled(app: VdcApp, request_id: int) -> bool:
    """The holder has cancelled its own Stepping for the request (vdctui.fleet_sharing)."""
    server = app.ops.driver.server  # type: ignore[attr-defined]
    reports = server._reports.get(request_id)
    return reports is None or reports.cancel is None


def ends(app: VdcApp, action: str) -> list[tuple[str, str, str]]:
    return [(r.target, r.result, r.error) for r in app.ops.audit(limit=500) if r.action == action]


async def test_ctrl_c_stops_a_handed_over_balance_after_the_current_step(db: Path) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        driver = app.ops.driver
        speed, driver.speed = driver.speed, 0.0  # the first migration stays under way
        proc, task_id, steps = await stepping(db, *BALANCE)
        assert steps > 2
        migrating = await until(lambda: tasks(app, "migrate"), "a move under way")
        proc.send_signal(signal.SIGINT)
        request_id = await wait_for_state(app.ops.store, CANCELLING)
        await until(lambda: holder_cancelled(app, request_id), "the holder cancels")
        driver.speed = speed  # the step under way ends
        out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
        assert proc.returncode == 1, (out, err)
        assert b"Traceback" not in err
        why = f"cancelled after 1 of {steps} steps"
        assert f"vdctui: Balancing {why}; the rest of the plan was not carried out." in (
            err.decode()
        )
        vm = migrating[0].target
        step_lines = [line for line in out.decode().splitlines() if " -> " in line and ": " in line]
        assert any(
            line.startswith(f"{vm} ") and line.endswith(": succeeded") for line in step_lines
        )
        # no further step: one migration, and the task ended as said, audited
        assert [t.target for t in tasks(app, "migrate")] == [vm]
        balance = app.ops.store.task(task_id)
        assert balance is not None and balance.state is TaskState.CANCELLED
        assert balance.error == why
        assert ends(app, "balance.apply.end")[:1] == [("fleet", "cancelled", why)]


async def test_an_asker_killed_mid_apply_leaves_the_holder_to_finish(db: Path) -> None:
    """Decided: a change handed over is the holder's task; its asker's death (SIGKILL, a
    closed terminal) does not cancel it: it runs to its end, with its outcome and audit."""
    app = console_app(db, speed=20.0)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        driver = app.ops.driver
        speed, driver.speed = driver.speed, 0.0
        proc, task_id, steps = await stepping(db, *BALANCE)
        await until(lambda: tasks(app, "migrate"), "a move under way")
        proc.kill()
        await asyncio.wait_for(proc.wait(), ENOUGH)
        driver.speed = speed
        store = app.ops.store
        ended = await until(
            lambda: (t := store.task(task_id)) is not None and t.state.finished and t, "its end"
        )
        assert ended.state is TaskState.SUCCEEDED, ended.error
        assert len(ended.detail["steps"]) == steps
        assert ends(app, "balance.apply.end")[:1] == [("fleet", "ok", "")]
        await wait_for_state(store, DONE)


async def test_ctrl_c_stops_a_handed_over_ha_restart_after_the_current_vm(db: Path) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        host = fullest_host(fleet_of(app))
        await fence(app.ops, host)
        gate = Gate(app.ops.driver, "start")  # the first restart stays under way
        proc, task_id, steps = await stepping(db, "ha", "restart", host, "--yes")
        assert steps > 2
        await gate.wait_entered()
        proc.send_signal(signal.SIGINT)
        request_id = await wait_for_state(app.ops.store, CANCELLING)
        await until(lambda: holder_cancelled(app, request_id), "the holder cancels")
        gate.open.set()
        out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
        assert proc.returncode == 1, (out, err)
        assert b"Traceback" not in err
        why = f"cancelled after 1 of {steps} steps"
        assert f"The HA restart of {host}'s VMs was {why}; not restarted: " in err.decode()
        assert re.search(rf"^{gate.calls[0]}: restarted on \S+$", out.decode(), re.M), out
        assert gate.calls == [gate.calls[0]]  # no further VM was restarted
        restart = app.ops.store.task(task_id)
        assert restart is not None and restart.state is TaskState.CANCELLED
        assert restart.error.startswith(f"{why}; not restarted: ")
        assert ends(app, "ha.restart.end")[:1] == [(host, "cancelled", restart.error)]


async def test_a_handed_over_ha_restart_says_each_vm_where_it_was_typed(db: Path) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        fleet = fleet_of(app)
        host = fullest_host(fleet)
        victims = sorted(v.name for v in fleet.vms_on(host) if v.state == "running")
        await fence(app.ops, host)
        proc = await started("--db", str(db), "ha", "restart", host, "--yes")
        out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
        assert proc.returncode == 0, err
        lines = out.decode().splitlines()
        assert sorted(line.split(":")[0] for line in lines) == victims  # one line per VM
        assert all(": restarted on " in line for line in lines), lines


async def test_ctrl_c_stops_balance_alike_in_the_process_that_holds_the_fleet(db: Path) -> None:
    """No other process: the command holds the fleet itself; Ctrl-C is the same cancel."""
    proc, task_id, steps = await stepping(db, *BALANCE)
    proc.send_signal(signal.SIGINT)
    out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
    assert proc.returncode == 1, (out, err)
    taken = re.search(rb"Balancing cancelled after (\d+) of (\d+) steps; the rest", err)
    assert taken and int(taken[2]) == steps and int(taken[1]) < steps, err
    code, listed, _ = await vdctui(db, "--json", "task", "list")
    assert code == 0
    rows = json.loads(listed)
    moved = [t for t in rows if t["kind"] == "migrate"]
    assert len(moved) == int(taken[1])  # as many steps as it says, no further one
    (balance,) = [t for t in rows if t["id"] == task_id]
    assert balance["state"] == "cancelled"
    assert balance["error"] == f"cancelled after {int(taken[1])} of {steps} steps"
