"""The Services screen: members with state, health, weight, sessions, req/s; d drains."""

from __future__ import annotations

from collections.abc import Callable

from tests.ui.conftest import SIZE, Opened, command, notes, settle
from vdctui.model import MemberState, Role
from vdctui.ops.services import add_member, create_service
from vdctui.ui.app import VdcApp
from vdctui.ui.screens.services import ServicesScreen


async def test_services_screen_shows_members_and_drains(opened: Opened) -> None:
    app, pilot, fleet = opened
    web = sorted(n for n, v in fleet.vms.items() if v.state == "running" and "web" in n)[:2]
    await create_service(app.ops, "shop", vip="10.0.0.10", port=443, rate=200)
    for vm in web:
        await add_member(app.ops, "shop", vm, 8080)
    await command(pilot, "services")
    screen = app.screen
    assert isinstance(screen, ServicesScreen)
    await settle(pilot)
    assert [(r.member.vm, r.member.state) for r in screen.items] == [
        (vm, MemberState.UP) for vm in web
    ]
    cells = [str(c) for c in screen.table.get_row_at(0)]
    assert cells[:6] == ["shop", "10.0.0.10:443", f"{web[0]}:8080", "up", "passing", "100"]
    assert cells[7] == "100" and cells[8] == "200"  # its share, the service's rate
    await pilot.press("d")
    await settle(pilot)
    assert any("draining" in n for n in notes(app))
    assert screen.items[0].member.state is MemberState.DRAIN
    await pilot.press("down", "d")
    await settle(pilot)
    assert any("last healthy member" in n for n in notes(app))


async def test_a_viewer_sees_services_but_cannot_drain(make_app: Callable[..., VdcApp]) -> None:
    app = make_app(role=Role.VIEWER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await command(pilot, "services")
        screen = app.screen
        assert isinstance(screen, ServicesScreen)
        assert "No services" in screen.status()
        assert screen.check_action("drain", ()) is False
