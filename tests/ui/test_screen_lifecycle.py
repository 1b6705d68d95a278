"""A sync or the header's clock never reaches into a screen that is not ready to be drawn.

Under load a sync can end, or the one-second tick fire, while a screen is being switched to
(its widgets not composed yet) or while the console shuts down (its widgets gone). Both used to
raise NoMatches from a worker or a timer, which ends the console.
"""

from __future__ import annotations

from tests.ui.conftest import SIZE, settle


async def test_a_tick_and_a_sync_right_after_a_switch_touch_nothing_unready(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for mode in ("vms", "pools", "tasks", "migrations", "audit", "inventory"):
            app.switch_mode(mode)  # not awaited: the screen is not composed yet
            app._tick()
            app.refresh_screen()
            await settle(pilot)
            app._tick()  # now composed: the header is drawn from the clock
            app.refresh_screen()
        assert app.fleet_screen is app.screen


async def test_a_sync_ending_during_shutdown_touches_nothing(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        screen = app.screen
        for child in list(screen.children):
            await child.remove()  # as a shutdown leaves it
        assert app.fleet_screen is None
        app._tick()
        app.refresh_screen()
