"""A console that follows the holder of the embedded fleet reads hosts through it (issue
10): each refresh of its services and snapshot-space screens is a request row. Those of
reads do not pile up in the store once answered (a following console wrote one row
every refresh, kept a day: some 30 a minute, each with its whole answer); the rows of
changes, their trail, stay.

Real processes: `vdctui emulate` holds the fleet; the console (Pilot) follows it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.ui.conftest import SIZE, command, settle
from tests.ui.processes import emulating
from tests.ui.test_shared_fleet import ENOUGH, db
from vdctui.ops.handover import OPERATIONS, is_operation
from vdctui.store import Store
from vdctui.ui.launch import console_app

__all__ = ["db"]  # the fixture

REFRESHES = 4  # reads asked through the holder before the rows are counted


def reads() -> set[str]:
    is_operation("")  # every operation registered
    return {name for name, op in OPERATIONS.items() if not op.actions}


def rows(db: Path) -> tuple[int, dict[str, int]]:
    """How many requests were ever written (the id sequence), and those kept by action."""
    with Store(db) as store:
        written = store._db.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'fleet_requests'"
        ).fetchone()
        kept = store._db.execute("SELECT action, count(*) FROM fleet_requests GROUP BY action")
        return (int(written[0]) if written else 0), {a: n for a, n in kept}


@pytest.mark.parametrize("screen", ["services", "snapshots"])
async def test_a_following_consoles_answered_reads_leave_no_rows(db: Path, screen: str) -> None:
    async with emulating(db):
        app = console_app(db)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.ops.follows_store
            vm = next(v.name for v in app.ops.vms() if v.state.value == "running")
            await app.ops.suspend_vm(vm)  # a change: its row is kept
            await command(pilot, screen)
            before, _ = rows(db)
            deadline = time.monotonic() + ENOUGH
            while rows(db)[0] < before + REFRESHES:
                assert time.monotonic() < deadline, "the screen asked the holder nothing"
                await asyncio.sleep(0.2)
            await settle(pilot)
            written, kept = rows(db)
            read_rows = sum(n for action, n in kept.items() if action in reads())
            assert read_rows <= 1, (written, kept)  # one may be under way
            assert kept.get("vm.suspend") == 1, kept
