"""The Security and Alerts screens: rules with their flows, an injected scan as an alert,
the header's badge, and a quarantine that asks first."""

from __future__ import annotations

from tests.ui.conftest import Opened, command, settle
from vdctui.ops import secgroups as sg
from vdctui.ui.screens.security import AlertsScreen, SecurityScreen


async def test_rules_and_alerts_on_screen_and_a_quarantine_asked_first(
    opened: Opened,
) -> None:
    app, pilot, fleet = opened
    vm = sorted(n for n, v in fleet.vms.items() if v.state == "running")[0]
    await sg.create(app.ops, "front")
    await sg.add_rule(app.ops, "front", "ingress", "tcp", "443", "0.0.0.0/0")
    await sg.attach(app.ops, "front", vm)
    await command(pilot, "security")
    screen = app.screen
    assert isinstance(screen, SecurityScreen)
    await settle(pilot)
    cells = [str(c) for c in screen.table.get_row_at(0)]
    assert cells[:3] == ["front", "1", "ingress tcp port 443 from 0.0.0.0/0"]
    assert cells[4] == vm

    fleet.inject_attack("port-scan", "203.0.113.5", vm)
    await app.ops.driver.advance(120.0)  # type: ignore[attr-defined]
    await command(pilot, "alerts")
    alerts = app.screen
    assert isinstance(alerts, AlertsScreen)
    await settle(pilot)
    assert [(a.kind, a.vm) for a in alerts.items] == [("port-scan", vm)]
    app.refresh_screen()
    assert "ALERTS 1" in str(alerts.header.render())
    await pilot.press("Q")
    await settle(pilot)
    await pilot.press("y")
    await settle(pilot)
    assert "quarantine" in app.ops.store.secgroups_of(vm)
    assert app.ops.store.alerts()[0].state == "quarantined"
