"""Stale is stale, with its age: between two whole syncs of a big embedded fleet the
console reads only what changed, so CPU, memory and power figures (and the trends) are
older than the states. The header, the host pane and the VM list say how old."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Static

from tests.ops.test_sync_changes import incremental  # noqa: F401 - the fixture
from tests.ui.conftest import SIZE, fleet_of, settle
from vdctui.ui.app import VdcApp
from vdctui.ui.screens.inventory import InventoryScreen
from vdctui.ui.screens.vms import VmsScreen

MakeApp = Callable[..., VdcApp]


async def sync_now(app: VdcApp, pilot: Pilot[None]) -> None:
    """The app's own sync (as its timer starts it), then its repaint."""
    app._next_sync = 0.0
    app.sync_fleet()
    await settle(pilot)


def header_line(app: VdcApp) -> str:
    screen = app.fleet_screen
    assert screen is not None
    app.update_header(screen.header)
    return screen.header.render().plain


async def test_the_screens_say_how_old_the_figures_are(
    make_app: MakeApp,
    incremental: None,  # noqa: F811
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.ops.reconciler.whole
        assert "figures" not in header_line(app)  # read with the states: nothing to add

        fleet = fleet_of(app)
        await app.ops.driver.advance(42)  # type: ignore[attr-defined]
        fleet.suspend_vm(next(n for n, v in sorted(fleet.vms.items()) if v.state == "running"))
        await sync_now(app, pilot)
        assert not app.ops.reconciler.whole  # the states were read, not the figures
        line = header_line(app)
        assert "synced" in line and "(0s ago)" in line  # the states: now
        assert "figures 42s old" in line

        inventory = app.screen
        assert isinstance(inventory, InventoryScreen)
        inventory.select_host(sorted(fleet.hosts)[0])
        await settle(pilot)
        note = inventory.query_one("#figures-age", Static)
        assert note.display
        assert "CPU, memory and power as read 42s ago" in str(note.content)

        await pilot.press("2")
        await settle(pilot)
        vms = app.screen
        assert isinstance(vms, VmsScreen)
        status = str(vms.query_one("#vm-status", Static).content)
        assert "cpu% and trends as read 42s ago" in status
        await pilot.press("enter")
        await settle(pilot)
        facts = str(app.screen.query_one("#vm-facts", Static).content)
        assert "figures as read 42s ago" in facts  # its "Now" line is not now
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is vms

        app.ops.reconciler._whole_due = 0.0  # the next whole sync is due
        await sync_now(app, pilot)
        assert app.ops.reconciler.whole
        assert "figures" not in header_line(app)
        vms.refresh_data()
        assert "as read" not in str(vms.query_one("#vm-status", Static).content)


async def test_at_100_columns_the_header_makes_room_for_the_figures_age(
    make_app: MakeApp,
    incremental: None,  # noqa: F811
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        fleet = fleet_of(app)
        await app.ops.driver.advance(42)  # type: ignore[attr-defined]
        fleet.suspend_vm(next(n for n, v in sorted(fleet.vms.items()) if v.state == "running"))
        await sync_now(app, pilot)
        line = header_line(app)
        assert "synced 0s ago  figures 42s old" in line  # no time of day: the room
        assert len(line) <= 100
