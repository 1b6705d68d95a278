"""`:cancel TASK` in the console that runs a balance (applied from `:balance`) stops it after
the step under way, as `task cancel` and Ctrl-C do: the balance says "cancelled after 1 of
N steps", its task is cancelled, the cancel and the end are audited.

The step under way is held by a gate on the driver's migrate, never a sleep."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual.pilot import Pilot

from tests.ops.test_task_cancel_steps import ENOUGH, Gate, audited, running
from tests.ui.conftest import SIZE, command, notes, settle
from tests.ui.test_balance_wake_ui import small_fleet_app
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import TaskState
from vdctui.ui.app import VdcApp
from vdctui.ui.dialogs import ConfirmDialog


async def typed(pilot: Pilot[None], line: str) -> None:
    """A command line typed and submitted, without waiting for the app's workers (the
    balance's is held)."""
    await pilot.press("colon")
    await pilot.pause()
    for char in line:
        await pilot.press(char if char != " " else "space")
    await pilot.press("enter")


async def until_noted(app: VdcApp, pilot: Pilot[None], words: str) -> str:
    deadline = time.monotonic() + ENOUGH
    while not (found := [n for n in notes(app) if words in n]):
        assert time.monotonic() < deadline, (words, notes(app))
        await pilot.pause(0.05)
    return found[-1]


async def test_colon_cancel_stops_a_balance_after_the_step_under_way(tmp_path: Path) -> None:
    fleet, app = small_fleet_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        driver = app.ops.driver
        assert isinstance(driver, EmulatedDriver)
        gate = Gate(driver, "migrate")
        await command(pilot, "balance power 3")
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await asyncio.wait_for(gate.entered.wait(), ENOUGH)
        balance = running(app.ops, "balance")
        steps = len(balance.detail["power_off"]) + balance.detail["moves"]
        assert steps > 2
        await typed(pilot, f"cancel {balance.id}")
        said = await until_noted(app, pilot, f"Task {balance.id}")
        assert said == f"Task {balance.id} (balance) stops after the step under way."
        gate.open.set()
        await settle(pilot)
        why = f"cancelled after 1 of {steps} steps"
        await until_noted(app, pilot, f"Balancing {why}; the rest of the plan")
        assert len(gate.calls) == 1  # no further move began
        ended = app.ops.task(balance.id)
        assert ended.state is TaskState.CANCELLED and ended.error == why
        assert audited(app.ops, "task.cancel")[:1] == [(str(balance.id), "ok", "")]
        assert audited(app.ops, "balance.apply.end")[:1] == [("fleet", "cancelled", why)]
