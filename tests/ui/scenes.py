"""The screens worth a picture, each reached the way an operator would reach it.

Shared by the snapshot tests and `screenshots/make.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from tests.ui.conftest import command, settle
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.ops.migration import PROGRESS_WRITES_PER_SECOND
from vdctui.ui import actions
from vdctui.ui.app import VdcApp

Scene = Callable[[Pilot[None]], Awaitable[None]]


async def _keys(pilot: Pilot[None], *keys: str) -> None:
    await settle(pilot)
    await pilot.press(*keys)
    await settle(pilot)


async def _migrate_one(pilot: Pilot[None]) -> None:
    app: VdcApp = pilot.app  # type: ignore[assignment]
    await settle(pilot)
    vm = next(v for v in app.ops.vms(state="running", pool="web", limit=1))
    target = next(c.host.name for c in app.ops.migration_candidates(vm.name) if c.reason is None)
    await command(pilot, f"migrate {vm.name} {target}")
    for _ in range(20):
        if not app.ops.tasks(active=True):
            break
        await settle(pilot)
    await command(pilot, "start ghost")  # a refusal in the audit log
    await settle(pilot)


async def _a_few_syncs(pilot: Pilot[None], count: int = 12) -> None:
    """Let the fleet run a little, syncing as the console does every few seconds, so
    the hosts' CPU history (the sparkline) has samples."""
    app: VdcApp = pilot.app  # type: ignore[assignment]
    driver = app.ops.driver
    assert isinstance(driver, EmulatedDriver)
    await settle(pilot)
    for _ in range(count):
        await driver.advance(2.0)
        await app.ops.sync()
    app._next_sync = 0.0  # the app's own sync, once the clock stands: the header says when
    app.sync_fleet()
    await settle(pilot)


async def migration_running(pilot: Pilot[None]) -> None:
    """A VM caught half way through its migration: Tasks shows its progress."""
    app: VdcApp = pilot.app  # type: ignore[assignment]
    driver = app.ops.driver
    assert isinstance(driver, EmulatedDriver)
    await settle(pilot)
    # 8 GiB that dirties little, over a link slowed to ~60 MB/s: minutes of pre-copy
    vm = next(v for v in app.ops.vms(state="running", pool="infra", limit=1))
    target = next(c.host.name for c in app.ops.migration_candidates(vm.name) if c.reason is None)
    driver.fleet.slow_link(vm.host, 0.02)
    await _keys(pilot, "4")
    app.run_worker(actions.migrate(app, [vm.name], target))  # as `m` or `:migrate` would
    for _ in range(5000):  # the console follows it, moving the clock: catch it under way
        await asyncio.sleep(0.001)
        runs = app.ops.running_migrations()
        if runs and runs[0].handle.progress().percent >= 30:
            driver.tick = 0.0  # the clock stands still (the picture's maker aborts it after)
            break
    await asyncio.sleep(2 / PROGRESS_WRITES_PER_SECOND)  # the task's progress is written
    app._next_sync = 0.0  # and the app syncs, as it would have every few seconds
    app.sync_fleet()
    await app.workers.wait_for_complete()
    app.refresh_screen()
    await pilot.pause()


async def migrate_excluded(pilot: Pilot[None]) -> None:
    """The migrate dialog with the keyboard on an excluded host, saying why."""
    await _keys(pilot, "2", "slash", *"web state:running", "enter", "m", "tab", "down", "enter")


async def balance_dialog(pilot: Pilot[None]) -> None:
    """Every move the balancer recommends, listed and scrollable before Apply."""
    await settle(pilot)
    await command(pilot, "balance power 5")


async def command_error(pilot: Pilot[None]) -> None:
    """A line that cannot run stays open with why."""
    await settle(pilot)
    await command(pilot, "resize web-001 lots")


async def inventory_host(pilot: Pilot[None]) -> None:
    await _a_few_syncs(pilot)
    await _keys(pilot, "right", "right", "right", "down")


async def inventory_rack(pilot: Pilot[None]) -> None:
    await _keys(pilot, "right", "right")


async def vms(pilot: Pilot[None]) -> None:
    """After a few syncs: the trends have something to draw."""
    await _a_few_syncs(pilot)
    await _keys(pilot, "2")


async def vms_filtered(pilot: Pilot[None]) -> None:
    await _keys(pilot, "2", "slash", *"db state:running", "enter", "space", "space")


async def migrate_dialog(pilot: Pilot[None]) -> None:
    await _keys(pilot, "2", "slash", *"web state:running", "enter", "m")


async def resize_dialog(pilot: Pilot[None]) -> None:
    await _keys(pilot, "2", "z", "tab", *["backspace"] * 10, *"99TiB")


async def vm_detail(pilot: Pilot[None]) -> None:
    """A VM that has just been migrated: its detail shows where it went."""
    app: VdcApp = pilot.app  # type: ignore[assignment]
    await _migrate_one(pilot)
    vm = app.ops.migrations(limit=1)[0].vm
    await _keys(pilot, "2", "slash", *vm, "enter", "enter")


async def pools(pilot: Pilot[None]) -> None:
    await _keys(pilot, "3")


async def tasks(pilot: Pilot[None]) -> None:
    await _migrate_one(pilot)
    await _keys(pilot, "4")


async def migrations(pilot: Pilot[None]) -> None:
    await _migrate_one(pilot)
    await _keys(pilot, "5")


async def audit(pilot: Pilot[None]) -> None:
    await _migrate_one(pilot)
    await _keys(pilot, "6", "v")


async def command_line(pilot: Pilot[None]) -> None:
    await _keys(pilot, "colon", *"migrate web-0")


async def help_panel(pilot: Pilot[None]) -> None:
    await _keys(pilot, "2", "question_mark")


SCENES: dict[str, Scene] = {
    "inventory-host": inventory_host,
    "inventory-rack": inventory_rack,
    "vms": vms,
    "vms-filtered": vms_filtered,
    "vm-detail": vm_detail,
    "migrate-dialog": migrate_dialog,
    "resize-dialog": resize_dialog,
    "pools": pools,
    "tasks": tasks,
    "migrations": migrations,
    "audit": audit,
    "command-line": command_line,
    "command-error": command_error,
    "migration-running": migration_running,
    "migrate-excluded": migrate_excluded,
    "balance-dialog": balance_dialog,
    "help": help_panel,
}


async def quiet(pilot: Pilot[None]) -> None:
    """No toasts in pictures: they come and go with time."""
    pilot.app.clear_notifications()
    await pilot.pause()
