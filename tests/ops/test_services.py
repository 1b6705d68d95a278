"""Services through the door: define, members, drain and enable, the last healthy member."""

from __future__ import annotations

import pytest

import emulator
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import MemberState, Role
from vdctui.ops import Console, Identity, Refused
from vdctui.ops.services import (
    add_member,
    create_service,
    remove_member,
    set_member,
    statuses,
)


def web_vms(fleet: emulator.Fleet, count: int = 3) -> list[str]:
    return sorted(n for n, v in fleet.vms.items() if v.state == "running" and n.startswith("web"))[
        :count
    ]


async def shop(console: Console, members: list[str]) -> None:
    await create_service(console, "shop", vip="10.0.0.10", port=443, rate=300)
    for vm in members:
        await add_member(console, "shop", vm, 8080)


async def test_a_service_serves_through_its_members(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    members = web_vms(fleet)
    await shop(console, members)
    await driver.advance(20)
    (status,) = await statuses(console)
    assert status.service.vip == "10.0.0.10" and status.req_s == 300
    assert [(m.vm, m.state, m.healthy) for m in status.members] == [
        (vm, MemberState.UP, True) for vm in members
    ]
    assert [m.req_s for m in status.members] == pytest.approx([100.0] * 3)
    assert [m.sessions for m in status.members] == [1000] * 3
    assert status.failed == 0
    actions = [r.action for r in console.audit(limit=4)]
    assert actions == ["service.member.add"] * 3 + ["service.create"]


async def test_drain_then_enable(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    members = web_vms(fleet)
    await shop(console, members)
    await driver.advance(20)
    await set_member(console, "shop", members[0], state="drain")
    await driver.advance(5)
    (status,) = await statuses(console)
    first = status.members[0]
    assert first.state is MemberState.DRAIN and 0 < (first.sessions or 0) < 1000
    assert status.members[1].req_s == pytest.approx(150.0)
    await set_member(console, "shop", members[0], state="ready")
    await driver.advance(5)
    (status,) = await statuses(console)
    assert status.members[0].state is MemberState.UP and status.members[0].sessions == 1000


async def test_the_last_healthy_member_is_kept_unless_forced(
    console: Console, fleet: emulator.Fleet
) -> None:
    members = web_vms(fleet, 2)
    await shop(console, members)
    await set_member(console, "shop", members[0], state="drain")
    with pytest.raises(Refused, match=rf"would lose its last healthy member \({members[1]}:8080\)"):
        await set_member(console, "shop", members[1], state="drain")
    with pytest.raises(Refused, match="last healthy member"):
        await remove_member(console, "shop", members[1])
    assert console.audit(limit=1)[0].result == "refused"
    await set_member(console, "shop", members[1], state="maint", force=True)
    (status,) = await statuses(console)
    assert status.members[1].state is MemberState.MAINT


async def test_bad_input_and_a_viewer_are_refused(console: Console, fleet: emulator.Fleet) -> None:
    for kwargs, match in (
        ({"vip": "10.0.0.300", "port": 80}, "not an IP address"),
        ({"vip": "10.0.0.1", "port": 70000}, "port"),
        ({"vip": "10.0.0.1", "port": 80, "method": "random"}, "balancing method"),
    ):
        with pytest.raises(Refused, match=match):
            await create_service(console, "shop", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(Refused, match="not a valid service name"):
        await create_service(console, "shop\x1b[2J", vip="10.0.0.1", port=80)
    await create_service(console, "shop", vip="10.0.0.1", port=80)
    with pytest.raises(Refused, match="no VM named"):
        await add_member(console, "shop", "nosuch", 80)
    with pytest.raises(Refused, match="no member"):
        await set_member(console, "shop", "web-001", state="drain")
    viewer = Console(console.store, console.driver, Identity("bob", Role.VIEWER))
    with pytest.raises(Refused):
        await add_member(viewer, "shop", web_vms(fleet)[0], 80)
    assert console.store.service("shop").members == ()  # type: ignore[union-attr]
