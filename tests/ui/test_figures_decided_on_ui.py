"""Stale is stale, with its age, where a decision is made on figures: between two whole
syncs of a big embedded fleet, the migrate dialog's ranked hosts (their cpu% and score),
the balancer's plan (`:balance`) and the inventory tree's cpu% say how old the figures
they were made from are; read with the states, they say nothing more."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Static

from tests.ops.test_sync_changes import incremental  # noqa: F401 - the fixture
from tests.ui.conftest import SIZE, command, fleet_of, notes, settle
from tests.ui.test_figures_age_ui import sync_now
from vdctui.ui.app import VdcApp
from vdctui.ui.dialogs.ask import ConfirmDialog
from vdctui.ui.dialogs.migrate import MigrateDialog
from vdctui.ui.screens.inventory import InventoryScreen

MakeApp = Callable[..., VdcApp]
AGED = "planned on figures as read 42s ago"


def said(screen: object) -> str:
    return " ".join(str(w.render()) for w in screen.query(Static))  # type: ignore[attr-defined]


async def figures_42s_behind(app: VdcApp, pilot: Pilot[None]) -> None:
    """The states read now, the figures as the whole sync read them 42 s ago."""
    fleet = fleet_of(app)
    await app.ops.driver.advance(42)  # type: ignore[attr-defined]
    fleet.suspend_vm(next(n for n, v in sorted(fleet.vms.items()) if v.state == "running"))
    await sync_now(app, pilot)
    assert not app.ops.reconciler.whole


async def balance_said(app: VdcApp, pilot: Pilot[None]) -> str:
    """What `:balance power 5` says: its question (then cancelled), or its note."""
    before = len(notes(app))
    await command(pilot, "balance power 5")
    if isinstance(app.screen, ConfirmDialog):
        text = said(app.screen)
        await pilot.press("n")
        await settle(pilot)
        return text
    return " ".join(notes(app)[before:])


async def test_decisions_say_how_old_their_figures_are(
    make_app: MakeApp,
    incremental: None,  # noqa: F811
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        inventory = app.screen
        assert isinstance(inventory, InventoryScreen)
        assert "as read" not in await balance_said(app, pilot)  # read with the states

        await figures_42s_behind(app, pilot)
        # the tree's cpu%: said above the pane, whatever is selected
        inventory.selected = None
        inventory._show_detail()
        note = inventory.query_one("#figures-age", Static)
        assert note.display and "as read 42s ago" in str(note.content)

        assert AGED in (await balance_said(app, pilot)).lower()  # a line of the question

        await pilot.press("2")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MigrateDialog)
        assert "Hosts ranked on figures as read 42s ago." in said(dialog)
        await pilot.press("escape")
        await settle(pilot)


async def test_a_migrate_dialog_on_fresh_figures_says_nothing_more(
    make_app: MakeApp,
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MigrateDialog)
        assert "as read" not in said(dialog)
