"""One embedded data center, shared by real processes (issue 10): a console holds the
fleet and carries out the changes other processes hand it; a conflicting migration is
refused with who and what; when the holder exits, a console that followed it takes over.

Every wait here is for a condition (a sync, a process's exit), never a time."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.cli.conftest import Vdctui
from tests.conftest import host_with_room_for, make_busy, running_vm_on_shared_storage
from tests.ui.conftest import SIZE, command, fleet_of, notes, settle
from tests.ui.processes import emulating, started, vdctui
from tests.ui.test_lists import open_vms
from tests.ui.test_other_processes import one_sync, rows
from tests.waiting import ENOUGH
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import TaskState
from vdctui.ui.app import VdcApp
from vdctui.ui.launch import console_app


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "vdctui.db"
    built = Vdctui(path)("emulate", "--hosts", "8", "--vms", "40", "--seed", "3", "--for", "1m")
    assert built.exit_code == 0, built.output
    return path


async def until(
    app: VdcApp, pilot: Pilot[None], condition: Callable[[], bool | Awaitable[bool]]
) -> None:
    """Sync (as the console's timer does) until `condition` holds."""
    deadline = time.monotonic() + ENOUGH
    while True:
        held = condition()
        if not isinstance(held, bool):
            held = await held
        if held:
            return
        assert time.monotonic() < deadline, "the condition never held"
        await one_sync(app, pilot)
        await asyncio.sleep(0.2)


async def connected(app: VdcApp, pilot: Pilot[None]) -> None:
    deadline = time.monotonic() + ENOUGH
    while not app.connected:
        assert time.monotonic() < deadline
        await settle(pilot)


async def test_a_command_changes_the_fleet_a_console_holds(db: Path) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        assert not app.ops.follows_store  # this process holds the fleet
        fleet = fleet_of(app)
        vm = running_vm_on_shared_storage(fleet)
        target = host_with_room_for(fleet, vm)
        code, out, err = await vdctui(db, "vm", "migrate", vm, "--to", target)
        assert code == 0, err
        assert f"{vm}: migration succeeded" in out
        assert "carries out your changes" in err and "Traceback" not in err
        assert fleet.vms[vm].host == target  # the console's own fleet moved it
        await command(pilot, "tasks")
        await until(app, pilot, lambda: any(r[2] == vm and r[3] == "succeeded" for r in rows(app)))
        (row,) = [r for r in rows(app) if r[2] == vm]
        assert row[1] == "migrate" and row[5] not in ("", "—")  # with its actor
        other = next(n for n, v in sorted(fleet.vms.items()) if v.state == "running" and n != vm)
        code, out, err = await vdctui(db, "vm", "stop", other, "--yes")
        assert code == 0, err
        assert fleet.vms[other].state in ("in shutdown", "shutoff")
        screen = await open_vms(pilot, other)

        def shown_stopped() -> bool:
            shown = screen.current()
            return shown is not None and shown.name == other and shown.state.value != "running"

        await until(app, pilot, shown_stopped)
        ends = [r for r in app.ops.audit(limit=50) if r.action == "vm.migrate.end"]
        assert ends and ends[0].target == vm and ends[0].result == "ok"


async def test_a_conflicting_migration_from_another_process_is_refused(db: Path) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        fleet = fleet_of(app)
        vm = running_vm_on_shared_storage(fleet)
        target = host_with_room_for(fleet, vm)
        other = host_with_room_for(fleet, vm, besides=(target,))
        make_busy(fleet, vm)  # it keeps sending rounds: still running when the other asks
        run = await app.ops.migrate_vm(vm, target)
        try:
            code, out, err = await vdctui(db, "vm", "migrate", vm, "--to", other)
            assert code == 1, (out, err)
            actor = app.ops.identity.actor
            assert f"{vm} is being migrated by {actor} (task {run.task_id}, " in err, err
            assert "Traceback" not in err
            refused = [r for r in app.ops.audit(limit=20) if r.result == "refused"]
            assert refused and refused[0].action == "vm.migrate" and refused[0].target == vm
        finally:
            await app.ops.cancel_task(run.task_id)
            await run.wait()
        task = app.ops.store.task(run.task_id)
        assert task is not None and task.state is TaskState.CANCELLED


async def test_ctrl_c_cancels_a_migration_handed_over(db: Path) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        fleet = fleet_of(app)
        vm = running_vm_on_shared_storage(fleet)
        target = host_with_room_for(fleet, vm)
        make_busy(fleet, vm)
        proc = await started("--db", str(db), "vm", "migrate", vm, "--to", target)
        assert proc.stderr is not None
        said = b""
        while b"Ctrl-C cancels" not in said:  # the task is started, in this process
            line = await asyncio.wait_for(proc.stderr.readline(), ENOUGH)
            assert line, said
            said += line
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
        assert proc.returncode == 1, (out, err)
        assert f"{vm}: migration cancelled" in out.decode()
        assert fleet.vms[vm].host != target
        task = next(t for t in app.ops.tasks() if t.kind == "migrate")
        assert task.state is TaskState.CANCELLED


async def test_a_following_console_hands_its_changes_over_then_takes_the_fleet(db: Path) -> None:
    async with emulating(db) as holder:
        app = console_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.ops.follows_store and not app.read_only
            assert any("carries out your changes" in n for n in notes(app))
            vm = next(v.name for v in app.ops.vms() if v.state.value == "running")
            stopped = await app.ops.stop_vm(vm)  # carried out by the other process
            assert stopped.state.value in ("in shutdown", "shutoff")
            # looked at while it runs: once it exits, the console's next sync (its timer)
            # may take the fleet over before this test looks again
            assert app.clock is None  # another process runs the fleet's clock
            holder.send_signal(signal.SIGINT)
            await asyncio.wait_for(holder.wait(), ENOUGH)
            await until(app, pilot, lambda: not app.ops.follows_store)
            assert isinstance(app.ops.driver, EmulatedDriver)
            await until(app, pilot, lambda: app.clock is not None)  # its clock, shown
            assert app.clock.now() == app.ops.driver.fleet.now
            header = app.fleet_screen.header if app.fleet_screen else None
            assert header is not None and header.clock is not None
            assert app.ops.driver.fleet.vms[vm].state in ("in shutdown", "shutoff")
            again = next(v.name for v in app.ops.vms() if v.state.value == "running")
            code, out, err = await vdctui(db, "vm", "suspend", again)
            assert code == 0, err
            assert app.ops.driver.fleet.vms[again].state == "paused"
