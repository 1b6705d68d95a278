"""At 100x30 the footer still offers every key it shows: none is cut off at the right edge."""

from __future__ import annotations

import pytest
from textual.widgets._footer import FooterKey

from tests.ui.conftest import settle


@pytest.mark.parametrize("key", ["1", "2", "3", "4", "5", "6"])
async def test_the_footer_fits_100_columns_on_every_screen(make_app, key: str) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        keys = list(app.screen.query(FooterKey))
        shown = {k.action for k in keys}
        assert {"app.help", "app.quit"} <= shown or {"help", "quit"} <= shown, shown
        for footer_key in keys:
            region = footer_key.region
            assert region.width > 0 and region.right <= 100, (footer_key.action, region)


async def test_the_palette_key_left_out_of_the_footer_is_in_help(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert not any(k.action == "app.command_palette" for k in app.screen.query(FooterKey))
        from vdctui.ui.help import help_for

        assert any(key == "ctrl+p" for key, _ in help_for(app.screen).keys)
