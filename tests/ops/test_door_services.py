"""HA, balancing and maintenance change the fleet only through the door, and a role
that may not is refused before anything happens (no task, no migration)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

import emulator
from tests.ops.test_ha import busy_host
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import Role
from vdctui.ops import Console, Refused
from vdctui.ops.actions import Action
from vdctui.ops.balancer import Move, Recommendation
from vdctui.ops.balancing import apply_moves, recommendations
from vdctui.ops.console import IN_CHANGE
from vdctui.ops.ha import HaMonitor, fence, restart_vms_of

MUTATING = (
    "define",
    "undefine",
    "start",
    "shutdown",
    "destroy",
    "reboot",
    "suspend",
    "resume",
    "set_vcpus",
    "set_memory",
    "migrate",
    "power_off_host",
    "power_on_host",
    "power_cycle_host",
    "force_off_host",
    "fence_host",
)


def spy_on(driver: EmulatedDriver) -> list[tuple[str, Action | None]]:
    """Record every change the driver is asked for, with the door's action at the time."""
    calls: list[tuple[str, Action | None]] = []
    for name in MUTATING:
        original = getattr(driver, name)

        async def spy(*args: Any, _name: str = name, _call: Any = original, **kw: Any) -> Any:
            calls.append((_name, IN_CHANGE.get()))
            return await _call(*args, **kw)

        setattr(driver, name, spy)
    return calls


def as_role(console: Console, role: Role) -> Console:
    console.identity = replace(console.identity, role=role)
    return console


async def test_services_change_the_fleet_only_through_the_door(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    calls = spy_on(driver)
    crashed = busy_host(fleet)
    fleet.crash_host(crashed)
    monitor = HaMonitor(console, missed_intervals=1)
    _, outcomes = await monitor.check()
    assert any(o.target for o in outcomes)
    up = sorted(h for h in fleet.hosts if fleet.hosts[h].state == "up")
    await console.enter_maintenance(up[0])
    rec = recommendations(console, threshold=5, goal="power")
    await apply_moves(console, rec)
    still_up = [h for h in up[1:] if fleet.hosts[h].state == "up"]
    await fence(console, still_up[-1])
    kinds = {name for name, _ in calls}
    assert {"define", "start", "migrate", "power_off_host"} <= kinds
    outside = [name for name, action in calls if action is None]
    assert outside == [], f"driver changes made around the door: {outside}"


async def test_a_viewer_restarting_a_host_leaves_no_task(
    console: Console, fleet: emulator.Fleet
) -> None:
    host = busy_host(fleet)
    fleet.crash_host(host)
    await console.sync()
    as_role(console, Role.VIEWER)
    with pytest.raises(Refused, match="read-only"):
        await restart_vms_of(console, host)
    assert console.tasks() == []
    record = console.audit(limit=1)[0]
    assert (record.action, record.result) == ("ha.restart-host", "refused")


async def test_a_viewer_may_watch_but_not_restart(console: Console, fleet: emulator.Fleet) -> None:
    fleet.crash_host(busy_host(fleet))
    as_role(console, Role.VIEWER)
    with pytest.raises(Refused):
        await HaMonitor(console, missed_intervals=1).check()
    findings, outcomes = await HaMonitor(console, missed_intervals=1, auto_restart=False).check()
    assert findings and outcomes == []
    assert console.tasks() == []


async def test_a_viewer_applying_moves_moves_nothing(console: Console) -> None:
    rec = recommendations(console, threshold=5, goal="power")
    assert rec.moves
    as_role(console, Role.VIEWER)
    with pytest.raises(Refused):
        await apply_moves(console, rec)
    assert console.tasks() == [] and console.migrations() == []


async def test_every_step_refused_is_counted(console: Console) -> None:
    vm = console.vms()[0]
    bogus = Move(vm.name, vm.host or "", "no-such-host", "spread", "nothing")
    rec = Recommendation((bogus,), (), (), 0.0, 0.0, 0.0)
    applied = await apply_moves(console, rec)
    assert (applied.steps, applied.done) == (1, 0)
    assert "refused" in applied.lines[0]
