"""`:power HOST on|off|cycle [force]`: asks first, role-checked before it asks, audited."""

from __future__ import annotations

from tests.ui.conftest import SIZE, MakeApp, Opened, command, fleet_of, notes, settle
from tests.ui.test_command_line import shown_text
from vdctui.model import Role
from vdctui.ui.dialogs import ConfirmDialog


async def test_power_off_then_cycle_then_on_asks_first_and_is_audited(opened: Opened) -> None:
    app, pilot, fleet = opened
    host = sorted(fleet.hosts)[0]
    await command(pilot, f"power {host} off")
    assert isinstance(app.screen, ConfirmDialog)
    await pilot.press("n")  # no: nothing changes
    await settle(pilot)
    assert fleet.hosts[host].state == "up"
    assert any("not done; nothing changed" in n for n in notes(app))
    await command(pilot, f"power {host} cycle")
    await pilot.press("y")
    await settle(pilot)
    assert fleet.hosts[host].state == "up"  # off, then on again
    await command(pilot, f"power {host} off force")
    await pilot.press("y")
    await settle(pilot)
    assert fleet.hosts[host].state == "off"
    await command(pilot, f"power {host} on")
    await pilot.press("y")
    await settle(pilot)
    assert fleet.hosts[host].state == "up"
    records = [(r.action, r.params, r.result) for r in app.ops.audit(limit=3)]
    assert records == [
        ("host.power-on", {}, "ok"),
        ("host.power-off", {"force": True}, "ok"),
        ("host.power-cycle", {}, "ok"),
    ]


async def test_a_viewer_is_refused_before_the_question(make_app: MakeApp) -> None:
    app = make_app(role=Role.VIEWER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        host = sorted(fleet_of(app).hosts)[0]
        await command(pilot, f"power {host} off")
        assert not isinstance(app.screen, ConfirmDialog)
        assert "viewer" in shown_text(app)
        assert fleet_of(app).hosts[host].state == "up"
        [record] = app.ops.audit(limit=1)
        assert (record.action, record.target, record.result) == ("host.power-off", host, "refused")


async def test_power_words_are_checked(opened: Opened) -> None:
    app, pilot, _ = opened
    host = sorted(fleet_of(app).hosts)[0]
    for line in (f"power {host} sideways", f"power {host} on force", f"power {host}"):
        await command(pilot, line)
        assert "Usage: :power HOST on|off|cycle [force]" in shown_text(app), line
        await pilot.press("escape")
        await settle(pilot)
    await command(pilot, "power nosuchhost on")
    assert "There is no host named 'nosuchhost'" in shown_text(app)
    assert not isinstance(app.screen, ConfirmDialog)
