"""The console (TUI) over the lab: an operator live-migrates a real VM at the keyboard.

Pilot drives the app `vdctui --inventory lab.toml` opens: the VMs screen, the migrate
dialog, the Tasks screen while the copy runs (progress from the source's domjobinfo, the
target's `paused (migrating)`), and the VMs table once the VM runs on its target.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from tests.lab.conftest import Guests
from tests.lab.lab import Lab
from vdctui.model import MigrationOutcome
from vdctui.ui.app import VdcApp
from vdctui.ui.dialogs import MigrateDialog
from vdctui.ui.dialogs.preflight import PreflightDialog
from vdctui.ui.launch import ssh_console_app
from vdctui.ui.screens.records import TasksScreen
from vdctui.ui.screens.vms import VmsScreen
from vdctui.ui.widgets.paged_table import PagedTable

SIZE = (160, 48)
WAIT_S = 180.0  # a generous bound on a loaded machine; no assertion on time


async def until(pilot: Pilot[None], what: str, ready: Callable[[], bool]) -> None:
    """Let the app run until `ready()` (a condition, never a fixed sleep)."""
    deadline = time.monotonic() + WAIT_S
    while not ready():
        assert time.monotonic() < deadline, f"the console never showed {what}"
        await pilot.pause(0.1)


def rows_of(app: VdcApp) -> list[list[str]]:
    return app.screen.query_one(PagedTable)._rows


async def test_live_migration_from_the_console(
    lab: Lab, lab_inventory: Path, guests: Guests, tmp_path: Path
) -> None:
    name = guests.define("tui-mig", 1, dirty_mib=48)
    lab.virsh(1, "migrate-setspeed", name, "8")  # seconds of copying to watch
    app = ssh_console_app(tmp_path / "tui.db", lab_inventory)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, "the lab's VMs", lambda: app.ops.store.vm(name) is not None)
        await pilot.press("2", "slash", *name, "enter")
        screen = app.screen
        assert isinstance(screen, VmsScreen)
        await until(pilot, f"{name} alone", lambda: [r for r in rows_of(app) if name in r])
        await pilot.press("m")
        await until(pilot, "the migrate dialog", lambda: isinstance(app.screen, MigrateDialog))
        fit = app.screen.query_one("#fit", OptionList)
        hosts = [fit.get_option_at_index(i).id for i in range(fit.option_count)]
        assert "labh2" in hosts and "labh1" not in hosts, hosts
        for _ in range(hosts.index("labh2")):
            await pilot.press("down")
        await pilot.press("enter")
        await until(pilot, "the pre-flight", lambda: isinstance(app.screen, PreflightDialog))
        await pilot.press("enter")  # no check failed: Migrate is focused
        await until(pilot, "the task", lambda: bool(app.ops.tasks(active=True)))

        await pilot.press("4")
        tasks = app.screen
        assert isinstance(tasks, TasksScreen)
        shown: list[str] = []
        task_id = app.ops.tasks(active=True)[0].id

        def ended() -> bool:
            shown.append(str(tasks.query_one("#task-detail", Static).render()))
            return app.ops.task(task_id).state.finished

        await until(pilot, "the migration's end", ended)
        record = app.ops.migrations(vm=name)[0]
        assert record.outcome is MigrationOutcome.SUCCEEDED, record.reason
        # progress as the copy ran: the percent moved on the screen, while the target's
        # copy of the VM was shown in its own state
        running = [s for s in shown if " running " in s and "phase precopy" in s]
        percents = {int(m.group(1)) for s in running if (m := re.search(r"running (\d+)%", s))}
        assert len(percents) >= 3, percents
        assert any("labh2: paused (migrating)" in s for s in running), running[-3:]

        await pilot.press("2")
        await until(
            pilot,
            f"{name} on labh2 in the VMs table",
            lambda: any(name in r and "labh2" in r for r in rows_of(app)),
        )
        row = next(r for r in rows_of(app) if name in r)
        assert "running" in row and "labh1" not in row
    assert [h for h, _ in guests.where(name)] == [2]
