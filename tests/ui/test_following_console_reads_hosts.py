"""A console that follows another process's embedded fleet reads hosts through it (issue
10): a VM's XML, its snapshots, the duplicates; and its door changes that need the fleet
(a snapshot, autostart) are handed over too, audited as this console's operator.

Real processes: `vdctui emulate` holds the fleet; the console (Pilot) follows it."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.ui.conftest import SIZE, settle
from tests.ui.test_shared_fleet import ENOUGH, db
from tests.ui.test_shared_operations import said, started
from vdctui.ops import config as vm_config
from vdctui.ops import duplicates, snapshots
from vdctui.ui.launch import console_app

__all__ = ["db"]  # the fixture


async def test_a_following_console_reads_and_changes_hosts_through_the_holder(db: Path) -> None:
    holder = await started("--db", str(db), "emulate")
    try:
        await said(holder, b"Running in real time")
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
    finally:
        holder.send_signal(signal.SIGINT)
        await asyncio.wait_for(holder.wait(), ENOUGH)
