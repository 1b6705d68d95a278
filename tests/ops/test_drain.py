"""Drain follows operations: members are drained before a stop, reboot or migration
(asked or by policy) and put back after; the last healthy member is kept unless forced."""

from __future__ import annotations

import pytest

import emulator
from tests.conftest import host_with_room_for
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import MemberState, TaskState
from vdctui.ops import Console, Refused
from vdctui.ops.drain import DrainPolicy, forced, set_policy
from vdctui.ops.ha import HaMonitor
from vdctui.ops.services import add_member, create_service, set_member, statuses


def shared_web(fleet: emulator.Fleet, count: int = 3) -> list[str]:
    return sorted(
        n
        for n, v in fleet.vms.items()
        if v.state == "running"
        and n.startswith("web")
        and fleet.datastores[v.datastore].kind == "shared"
    )[:count]


async def shop(console: Console, driver: EmulatedDriver, members: list[str]) -> None:
    await create_service(console, "shop", vip="10.0.0.10", port=443, rate=300)
    for vm in members:
        await add_member(console, "shop", vm, 8080)
    await driver.advance(30)


def failed(fleet: emulator.Fleet) -> float:
    return fleet.services["shop"].failed


async def member(console: Console, vm: str):  # type: ignore[no-untyped-def]
    (status,) = await statuses(console)
    return next(m for m in status.members if m.vm == vm)


async def test_a_stop_drains_first_and_nobody_fails(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    members = shared_web(fleet)
    await shop(console, driver, members)
    await console.stop_vm(members[0])
    await driver.advance(60)
    assert failed(fleet) == 0
    gone = await member(console, members[0])
    assert gone.state is MemberState.DRAIN and gone.sessions == 0
    assert [r.action for r in console.audit(limit=2)] == ["vm.stop", "service.drain"]
    await console.start_vm(members[0])
    back = await member(console, members[0])
    assert back.state is MemberState.UP and back.healthy
    await driver.advance(30)
    assert failed(fleet) == 0


async def test_a_destroy_without_the_drain_would_fail_requests(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    members = shared_web(fleet)
    await shop(console, driver, members)
    fleet.destroy_vm(members[0])  # behind the console's back: no drain
    await driver.advance(30)
    assert failed(fleet) == pytest.approx(1000 + 100 * 6)


async def test_the_last_healthy_member_is_not_stopped_unless_forced(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    (only,) = shared_web(fleet, 1)
    await shop(console, driver, [only])
    with pytest.raises(Refused, match=rf"lose its last healthy member \({only}:8080\)"):
        await console.stop_vm(only)
    assert fleet.vms[only].state == "running"
    assert console.audit(limit=1)[0].result == "refused"
    with forced():
        await console.stop_vm(only)
    assert fleet.vms[only].state in ("in shutdown", "shut off")


async def test_a_reboot_waits_for_the_health_check_again(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    members = shared_web(fleet)
    await shop(console, driver, members)
    await console.reboot_vm(members[1])
    back = await member(console, members[1])
    assert back.state is MemberState.UP and back.healthy
    assert failed(fleet) == 0


async def test_a_migration_drains_when_asked_and_the_task_shows_the_phase(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    members = shared_web(fleet)
    await shop(console, driver, members)
    target = host_with_room_for(fleet, members[0])
    run = await console.migrate_vm(members[0], target, drain_first=True)
    result = await run.wait()
    assert result.outcome.value == "succeeded" and result.downtime_ms > 0
    await driver.advance(10)
    assert failed(fleet) == 0  # its pause hit nobody: it held no sessions
    task = console.task(run.task_id)
    assert task.state is TaskState.SUCCEEDED
    back = await member(console, members[0])
    assert back.state is MemberState.UP and back.healthy


async def test_without_the_drain_a_migration_pause_is_an_error_burst(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    members = shared_web(fleet)
    await shop(console, driver, members)
    run = await console.migrate_vm(members[0], host_with_room_for(fleet, members[0]))
    await run.wait()
    await driver.advance(5)
    pause_s = fleet.finished_migrations[-1].downtime_ms / 1000
    assert failed(fleet) == pytest.approx(100 * pause_s) and failed(fleet) > 0


async def test_maintenance_drains_by_policy(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    members = shared_web(fleet)
    await shop(console, driver, members)
    host = fleet.vms[members[0]].host
    movable = [v for v in console.vms(host=host)]
    plan = console.plan_maintenance(host)
    if plan.stuck:
        pytest.skip("the demo put a local-disk VM on this host")
    set_policy(console, DrainPolicy(before_migration=True))
    await console.enter_maintenance(host)
    await driver.advance(10)
    assert movable and failed(fleet) == 0
    drains = [r for r in console.audit(limit=200) if r.action == "service.drain"]
    assert drains and all(r.params.get("for") == "vm.migrate" for r in drains)


async def test_the_wait_for_sessions_is_a_phase_of_the_migration_task(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    import asyncio

    members = shared_web(fleet)
    await shop(console, driver, members)
    target = host_with_room_for(fleet, members[0])
    starting = asyncio.create_task(console.migrate_vm(members[0], target, drain_first=True))
    seen: list[dict] = []  # type: ignore[type-arg]
    while not starting.done():
        seen += [t.detail for t in console.tasks(active=True) if t.detail.get("phase")]
        await asyncio.sleep(0)
    run = starting.result()
    await run.wait()
    assert seen and seen[0]["phase"] == "draining" and seen[0]["sessions"] > 0
    assert seen[-1]["sessions"] < seen[0]["sessions"] and seen[-1]["waited_s"] > 0


async def test_ha_puts_a_crashed_hosts_members_back_once_healthy(
    console: Console, fleet: emulator.Fleet, driver: EmulatedDriver
) -> None:
    members = shared_web(fleet, 6)
    host = fleet.vms[members[0]].host
    on_host = [m for m in members if fleet.vms[m].host == host]
    await shop(console, driver, members)
    await set_member(console, "shop", on_host[0], state="drain")  # left draining, then...
    fleet.crash_host(host)
    await driver.advance(10)
    (status,) = await statuses(console)
    assert {m.vm: m.state for m in status.members}[on_host[-1]] in (
        MemberState.DOWN,
        MemberState.DRAIN,
    )
    monitor = HaMonitor(console, missed_intervals=1)
    _, outcomes = await monitor.check()
    assert {o.vm for o in outcomes if o.target} >= set(on_host)
    await driver.advance(10)
    back = {m.vm: m for m in (await statuses(console))[0].members}
    for vm in on_host:  # restarted elsewhere, in service again
        assert back[vm].state is MemberState.UP and back[vm].healthy
