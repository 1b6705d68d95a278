"""The TUI marks what the last sync could not refresh: a VM whose host did not answer is
unknown, with its last state and age; the host's line in the tree says STALE."""

from __future__ import annotations

from tests.ui.conftest import Opened, settle
from vdctui.ui.screens.inventory import InventoryScreen
from vdctui.ui.screens.vms import VmsScreen


async def test_vms_of_a_silent_host_are_unknown_with_their_age(
    opened: Opened,
) -> None:
    app, pilot, fleet = opened
    host = next(
        h for h in sorted(fleet.hosts) if any(v.state == "running" for v in fleet.vms_on(h))
    )
    silent = {v.name for v in fleet.vms_on(host)}
    fleet.partition_host(host)
    await app.ops.sync()
    await pilot.press("2")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, VmsScreen)
    screen.refresh_data()
    rows = {row[1]: row for row in screen.table._rows}
    shown = silent & set(rows)
    assert shown
    for name in shown:
        assert any(c.startswith("unknown: ") and "STALE, last seen" in c for c in rows[name])
    others = set(rows) - silent
    assert others and not any("STALE" in c for n in others for c in rows[n])
    await pilot.press("1")
    await settle(pilot)
    inventory = app.screen
    assert isinstance(inventory, InventoryScreen)
    inventory.refresh_data()
    label = inventory._badges(app.ops.host(host))
    assert "unreachable" in label.plain and "STALE, last seen" in label.plain
