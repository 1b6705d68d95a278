"""Quitting (q, ctrl+q) a console that runs a balance, an HA restart or an evacuation asks
first, naming what runs and saying what becomes of it; a yes stops each where it stands
(its step under way ends, a migration under way is cancelled: the VM stays where it is),
its task ends cancelled with its audit record, and only then does the console close. A
no changes nothing. Nothing is left "running" in the store for another process to find
interrupted.

The step under way is held by a gate on the driver's migrate, never a sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.ops.test_ha import busy_host
from tests.ops.test_task_cancel_steps import ENOUGH, Gate, running
from tests.ui.conftest import SIZE, command, notes, settle
from tests.ui.test_balance_wake_ui import small_fleet_app
from tests.ui.test_cancel_steps_ui import typed
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Task, TaskState
from vdctui.store import Store
from vdctui.ui import quitting
from vdctui.ui.app import VdcApp
from vdctui.ui.dialogs import ConfirmDialog


async def until(pilot: Pilot[None], condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + ENOUGH
    while not (held := condition()):
        assert time.monotonic() < deadline, f"never: {what}"
        await pilot.pause(0.05)
    return held


async def quit_asked(pilot: Pilot[None]) -> str:
    """q pressed: the question's whole text, once it is on screen."""
    await pilot.press("q")
    dialog = await until(
        pilot, lambda: isinstance(s := pilot.app.screen, ConfirmDialog) and s, "asked"
    )
    return " ".join(str(w.render()) for w in dialog.query(Static))


async def yes_and_closed(pilot: Pilot[None], gate: Gate | None = None) -> None:
    """y pressed; the step held under way let go (if `gate`); the console has quit."""
    await pilot.press("y")
    if gate is not None:
        gate.open.set()
    await until(pilot, lambda: pilot.app.return_code is not None, "the console quits")


def ended_cancelled(tmp_path: Path, task_id: int) -> Task:
    """Task `task_id` as the closed console left it: cancelled, and no task left running."""
    store = Store(tmp_path / "v.db")
    ended = store.task(task_id)
    assert ended is not None and ended.state is TaskState.CANCELLED, ended
    assert not [t for t in store.tasks(limit=50) if not t.state.finished]
    return ended


def audited(tmp_path: Path) -> list[tuple[str, str, str]]:
    return [(r.action, r.target, r.result) for r in Store(tmp_path / "v.db").audit(limit=50)]


async def balance_held(pilot: Pilot[None]) -> tuple[Gate, int, int]:
    """`:balance power 3` applied, its first move held at the driver: the gate, the
    balance's task id and its number of steps."""
    app: VdcApp = pilot.app  # type: ignore[assignment]
    gate = Gate(held_driver(app), "migrate")
    await command(pilot, "balance power 3")
    await pilot.press("y")
    await gate.wait_entered()
    balance = running(app.ops, "balance")
    steps = len(balance.detail["power_off"]) + balance.detail["moves"]
    assert steps > 2
    return gate, balance.id, steps


def held_driver(app: VdcApp) -> EmulatedDriver:
    driver = app.ops.driver
    assert isinstance(driver, EmulatedDriver)
    return driver


async def test_quit_while_a_balance_runs_asks_and_stops_it_after_the_step(tmp_path: Path) -> None:
    fleet, app = small_fleet_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        gate, task_id, steps = await balance_held(pilot)
        text = await quit_asked(pilot)
        assert f"a balance (task {task_id})" in text
        assert "stops after the step under way" in text
        await pilot.press("n")  # no: nothing changes
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmDialog)
        assert app.ops.task(task_id).state is TaskState.RUNNING
        assert app.return_code is None
        await quit_asked(pilot)
        await pilot.press("y")
        await until(pilot, lambda: any("Stopping" in n for n in notes(app)), "said it stops")
        gate.open.set()  # the step under way ends
        await until(pilot, lambda: app.return_code is not None, "the console quits")
    assert len(gate.calls) == 1  # no further move began
    assert ended_cancelled(tmp_path, task_id).error == f"cancelled after 1 of {steps} steps"
    assert ("task.cancel", str(task_id), "ok") in audited(tmp_path)
    assert ("balance.apply.end", "fleet", "cancelled") in audited(tmp_path)
    assert not [n for n in notes(app) if "closed database" in n], notes(app)


async def test_quit_while_an_evacuation_runs_stops_it_and_the_host_stays_out(
    tmp_path: Path,
) -> None:
    fleet, app = small_fleet_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        host = next(
            h
            for h in sorted(fleet.hosts)
            if fleet.vms_on(h) and not app.ops.plan_maintenance(h).stuck
        )
        gate = Gate(held_driver(app), "migrate")
        await command(pilot, f"maintenance {host}")
        await pilot.press("y")
        await gate.wait_entered()
        task_id = running(app.ops, "maintenance").id
        text = await quit_asked(pilot)
        assert f"the evacuation of {host} (task {task_id})" in text
        assert "does not enter maintenance" in text
        await yes_and_closed(pilot, gate)
    ended_cancelled(tmp_path, task_id)
    assert host not in Store(tmp_path / "v.db").maintenance_reasons()


async def test_quit_while_an_ha_restart_runs_stops_it_after_the_vm_under_way(
    tmp_path: Path,
) -> None:
    fleet, app = small_fleet_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        host = busy_host(fleet)
        fleet.crash_host(host)
        await app.ops.sync()
        gate = Gate(held_driver(app), "start")
        await typed(pilot, f"restart-vms {host}")
        await gate.wait_entered()
        restart = running(app.ops, "ha-restart")
        steps = len(restart.detail["vms"])
        assert steps >= 2
        text = await quit_asked(pilot)
        assert f"the HA restart of {host}'s VMs (task {restart.id})" in text
        await yes_and_closed(pilot, gate)
    assert len(gate.calls) == 1  # no further VM was restarted
    ended = ended_cancelled(tmp_path, restart.id)
    assert ended.error.startswith(f"cancelled after 1 of {steps} steps")


async def test_a_step_that_does_not_end_is_interrupted_and_its_task_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The console waits for what it stops a bounded time; then it interrupts it, and the
    task still ends (cancelled, audited) in the store before the console closes it."""
    monkeypatch.setattr(quitting, "STOP_WAIT_S", 0.5)
    fleet, app = small_fleet_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        gate, task_id, _steps = await balance_held(pilot)
        await quit_asked(pilot)
        await yes_and_closed(pilot)  # the gate stays shut: the step never ends
    ended_cancelled(tmp_path, task_id)
    assert ("balance.apply.end", "fleet", "cancelled") in audited(tmp_path)


async def test_quit_with_nothing_running_asks_nothing(tmp_path: Path) -> None:
    fleet, app = small_fleet_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await until(pilot, lambda: app.return_code is not None, "the console quits")
