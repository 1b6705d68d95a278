"""`:reload` reads an inventory again; the embedded data center has none to read."""

from __future__ import annotations

from collections.abc import Callable

from tests.ui.conftest import SIZE, settle
from vdctui.ui.app import VdcApp
from vdctui.ui.commands import execute


async def test_reload_on_the_embedded_data_center_says_why_not(
    make_app: Callable[..., VdcApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        why = await execute(app, ":reload")
        assert why == "Only a console over an inventory (--inventory) reads it again."
