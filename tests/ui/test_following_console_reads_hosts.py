"""A console that follows another process's embedded fleet reads hosts through it (issue
10): a VM's XML, its snapshots, the duplicates; and its door changes that need the fleet
(a snapshot, autostart) are handed over too, audited as this console's operator.

Real processes: `vdctui emulate` holds the fleet; the console (Pilot) follows it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.ui.conftest import SIZE, command, settle
from tests.ui.processes import emulating
from tests.ui.test_shared_fleet import ENOUGH, db
from vdctui.backend import FleetLock, fleet_path
from vdctui.ops import config as vm_config
from vdctui.ops import duplicates, snapshots
from vdctui.ui.launch import console_app
from vdctui.ui.screens.security import SecurityScreen
from vdctui.ui.screens.storage import DuplicatesScreen, SnapshotSpaceScreen

__all__ = ["db"]  # the fixture


async def test_a_following_console_reads_and_changes_hosts_through_the_holder(db: Path) -> None:
    async with emulating(db):
        app = console_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            ops = app.ops
            assert ops.follows_store and ops.shared is not None  # the other process holds it
            vm = next(v.name for v in ops.vms() if v.state.value == "running")
            assert f"<name>{vm}</name>" in await vm_config.domain_xml(ops, vm)
            assert await snapshots.list_snapshots(ops, vm) == []
            assert await duplicates.duplicates(ops) == []
            made = await snapshots.create_snapshot(ops, vm, "before-patch")
            assert made.name == "before-patch" and made.vm == vm
            assert [s.name for s in await snapshots.list_snapshots(ops, vm)] == ["before-patch"]
            done = await vm_config.set_autostart(ops, vm, True)
            assert done.autostart is True
            records = {(r.action, r.target, r.actor, r.result) for r in ops.audit(limit=50)}
            for action in ("vm.snapshot.create", "vm.autostart"):
                assert (action, vm, ops.identity.actor, "ok") in records
            assert ops.follows_store  # still following: the other process did it all


async def test_screens_that_read_hosts_say_a_holder_that_does_not_answer(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The holder takes no request (it holds the lock and serves nothing): the snapshot
    space, duplicates and security screens say so in their note, the console goes on."""
    monkeypatch.setenv("VDCTUI_FLEET_WAIT_S", "0.5")
    holder = FleetLock(fleet_path(db), db)
    holder.acquire()
    try:
        app = console_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.ops.shared is not None
            app.ops.store.create_secgroup("web", "")  # a group whose flows are asked for
            for line, kind in (
                ("snapshots", SnapshotSpaceScreen),
                ("duplicates", DuplicatesScreen),
                ("security", SecurityScreen),
            ):
                await command(pilot, line)
                screen = app.screen
                assert isinstance(screen, kind)
                deadline = time.monotonic() + ENOUGH
                while "did not answer the read" not in screen.note:
                    assert time.monotonic() < deadline and app.is_running, screen.note
                    await pilot.pause(0.1)
                await pilot.press("escape")
                await settle(pilot)
            assert app.is_running
    finally:
        holder.release()
