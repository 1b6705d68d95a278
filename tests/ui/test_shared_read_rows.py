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
from tests.ui.processes import emulating, started
from tests.ui.test_shared_fleet import ENOUGH, connected, db
from tests.ui.test_shared_operations import gated, wait_for_state
from vdctui.model import Role
from vdctui.ops.handover import OPERATIONS, is_operation
from vdctui.ops.identity import os_user
from vdctui.store import Store
from vdctui.store.owners import process_started
from vdctui.store.requests import TAKEN
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


async def test_the_rows_of_reads_whose_askers_are_gone_are_deleted(db: Path) -> None:
    """A read whose asker was killed before its answer (taken, or still pending) left
    its row, with its answer, for a day; the holder deletes it, and keeps a live
    asker's. Real processes: a console (Pilot) holds the fleet; `vdctui vm xml` asks."""
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        store = app.ops.store
        server = app.ops.driver.server  # type: ignore[attr-defined]
        vm = next(v.name for v in app.ops.vms() if v.state.value == "running")
        xml = "vdctui.ops.config.domain_xml"
        gate = asyncio.Event()
        with gated(server, gate):  # the holder takes it, and answers once the gate opens
            asker = await started("--db", str(db), "vm", "xml", vm)
            taken = await wait_for_state(store, TAKEN, asker)
            asker.kill()  # before its answer
            await asker.wait()
            live = await asyncio.create_subprocess_exec("sleep", "600")
            try:
                # two pending reads asked by processes, as their rows say: a dead one
                # (killed between its write and its announcement) and a live one
                dead = store.ask(xml, vm, {"vm": vm}, os_user(), Role.ADMIN)
                alive = store.ask(xml, vm, {"vm": vm}, os_user(), Role.ADMIN)
                with store._db.atomic():
                    for request_id, pid in ((dead, asker.pid), (alive, live.pid)):
                        store._db.execute(
                            "UPDATE fleet_requests SET asker_pid = ?, asker_started = ? "
                            "WHERE id = ?",
                            [pid, process_started(pid) or "gone", request_id],
                        )
                deadline = time.monotonic() + ENOUGH
                while store.request(taken) is not None or store.request(dead) is not None:
                    assert time.monotonic() < deadline, "the rows of gone askers stayed"
                    await asyncio.sleep(0.1)
                assert store.request(alive) is not None  # its asker is alive: kept
            finally:
                live.kill()
                await live.wait()
        assert not [r for r in app.ops.audit(limit=20) if r.result == "refused"]
