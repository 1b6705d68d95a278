"""x in a VM's detail: its configuration, read-only; a turns autostart on and off."""

from __future__ import annotations

from textual.widgets import Static

from tests.ui.conftest import Opened, fleet_of, settle
from vdctui.ui.screens.vm_config import VmConfigScreen
from vdctui.ui.screens.vm_detail import VmDetailScreen


async def test_x_shows_the_configuration_and_a_toggles_autostart(
    opened: Opened,
) -> None:
    app, pilot, _ = opened
    vm = app.ops.vms(state="running", limit=1)[0].name
    await pilot.press("2", "slash", *vm, "enter")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, VmDetailScreen)
    await pilot.press("a")
    await settle(pilot)
    assert vm in fleet_of(app).autostart
    await pilot.press("x")
    await settle(pilot)
    shown = app.screen
    assert isinstance(shown, VmConfigScreen)
    structured = str(shown.query_one("#vm-config-structured", Static).render())
    assert "autostart on" in " ".join(structured.split())
    assert f"<name>{vm}</name>" in shown.xml
    await pilot.press("escape")
    await settle(pilot)
    assert isinstance(app.screen, VmDetailScreen)
    await pilot.press("a")
    await settle(pilot)
    assert vm not in fleet_of(app).autostart
