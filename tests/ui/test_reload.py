"""`:reload` reads an inventory again; the embedded data center has none to read."""

from __future__ import annotations

from tests.ui.conftest import Opened
from vdctui.ui.commands import execute


async def test_reload_on_the_embedded_data_center_says_why_not(
    opened: Opened,
) -> None:
    app, pilot, _ = opened
    why = await execute(app, ":reload")
    assert why == "Only a console over an inventory (--inventory) reads it again."
