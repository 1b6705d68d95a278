"""The asker of a change handed to the holder of the embedded fleet trusts only what the
holder says (issue 10). Anyone in the data center's group can write the db: a request's
row is its durable record, not the holder's voice. A member who writes an answer into
someone else's request row (a lie to the asker), or marks it cancelling (a denial of
service), changes neither what the holder does nor what the asker is told: the holder
answers on the connection its asker announced the request on, and takes a cancel only
from that connection.

Real processes: a console (Pilot) holds the fleet; the asker is a `vdctui` process; the
member's writes are made in the store between the two. The holder is held (a gate)
between taking the request and carrying it out, so the writes come while it is under
way. Every wait is for a condition."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.ui.conftest import SIZE, fleet_of
from tests.ui.processes import started
from tests.ui.test_shared_fleet import ENOUGH, connected, db
from tests.ui.test_shared_operations import gated, wait_for_state
from vdctui.store.requests import CANCELLING, REFUSED, TAKEN
from vdctui.ui.launch import console_app

__all__ = ["db"]  # the fixture

LIE = "A lie written in the store by a member of the group."


@pytest.mark.parametrize("member_writes", ["answer", "cancel"])
async def test_what_a_member_writes_in_a_request_row_is_not_the_holders_word(
    db: Path, member_writes: str
) -> None:
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await connected(app, pilot)
        fleet = fleet_of(app)
        store = app.ops.store
        server = app.ops.driver.server  # type: ignore[attr-defined]
        vm = next(n for n, v in sorted(fleet.vms.items()) if v.state == "running")
        gate = asyncio.Event()
        with gated(server, gate):
            proc = await started("--db", str(db), "vm", "suspend", vm)
            request_id = await wait_for_state(store, TAKEN, proc)
            with store._db.atomic():  # a member of the group, in the db
                if member_writes == "answer":
                    store._db.execute(
                        "UPDATE fleet_requests SET state = ?, error = ? WHERE id = ?",
                        [REFUSED, LIE, request_id],
                    )
                else:
                    store._db.execute(
                        "UPDATE fleet_requests SET state = ? WHERE id = ?", [CANCELLING, request_id]
                    )
            for _ in range(10):  # time for an asker that reads the row to read it
                await asyncio.sleep(0.05)
            gate.set()
            out, err = await asyncio.wait_for(proc.communicate(), ENOUGH)
        assert b"Traceback" not in err and LIE.encode() not in err, err
        assert (proc.returncode, fleet.vms[vm].state) == (0, "paused"), (out, err)
        assert f"{vm}: paused" in out.decode(), out
