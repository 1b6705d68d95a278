"""What keeps the embedded fleet (issue 10) is said by each hold of the fleet's lock, not
by the process: a console closed in this process leaves no "an open console" behind for a
command that holds the fleet later (which gives it back once done, so it is waited for)."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import SIZE, settle
from tests.ui.test_read_only_store import db
from vdctui.backend import FleetLock, fleet_path, open_store_console
from vdctui.ui.launch import console_app

__all__ = ["db"]  # the fixture


async def test_a_command_after_a_console_in_the_same_process_is_no_keeper(db: Path) -> None:
    lock = FleetLock(fleet_path(db), db)
    app = console_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert lock.held_by_another() and lock.keeper() == "an open console"
        await app.action_quit()
    assert not lock.held_by_another()
    console, held = open_store_console(db)  # as any changing command holds the fleet
    try:
        assert held is not None and lock.held_by_another()
        assert lock.keeper() == ""  # a command: it gives the fleet back once done
    finally:
        held.release()
        console.store.close()
