from __future__ import annotations

import pytest

import emulator
from vdctui.model import TaskState
from vdctui.ops import Console, Refused
from vdctui.ops.ha import HaMonitor, fence, restart_vms_of


def busy_host(fleet: emulator.Fleet) -> str:
    """The host with the most running VMs on shared storage (ties by name)."""

    def movable(h: str) -> int:
        return sum(
            1
            for n in fleet.hosts[h].vm_names
            if fleet.vms[n].state == "running"
            and fleet.datastores[fleet.vms[n].datastore].kind == "shared"
        )

    return max(sorted(fleet.hosts), key=movable)


def running_on(fleet: emulator.Fleet, host: str) -> list[str]:
    return sorted(n for n in fleet.hosts[host].vm_names if fleet.vms[n].state == "running")


async def test_a_crashed_host_has_its_vms_restarted_once_declared_failed(
    console: Console, fleet: emulator.Fleet
) -> None:
    host = busy_host(fleet)
    victims = [
        n
        for n in running_on(fleet, host)
        if fleet.datastores[fleet.vms[n].datastore].kind == "shared"
    ]
    console.store.set_restart_priority(victims[-1], 10)
    fleet.crash_host(host)
    monitor = HaMonitor(console, missed_intervals=3)
    for _ in range(2):
        findings, outcomes = await monitor.check()
        assert outcomes == [] and not findings[0].failed
    findings, outcomes = await monitor.check()
    assert findings[0].failed and findings[0].fenced
    assert outcomes[0].vm == victims[-1]  # the highest priority goes first
    restarted = {o.vm: o.target for o in outcomes if o.target}
    assert set(victims) <= set(restarted)
    for name in victims:
        assert fleet.vms[name].host == restarted[name] != host
        assert fleet.vms[name].state == "running"
    task = next(t for t in console.tasks() if t.kind == "ha-restart")
    assert task.target == host
    actions = [r.action for r in console.audit(limit=200)]
    assert actions.count("ha.restart") == len(outcomes) and "ha.declare-failed" in actions
    _, again = await monitor.check()
    assert again == []  # restarted once, not on every round
    assert task.state in (TaskState.SUCCEEDED, TaskState.FAILED)


async def test_a_partitioned_host_is_not_restarted_until_fenced(
    console: Console, fleet: emulator.Fleet
) -> None:
    host = busy_host(fleet)
    victims = running_on(fleet, host)
    fleet.partition_host(host)
    monitor = HaMonitor(console, missed_intervals=2)
    for _ in range(4):
        findings, outcomes = await monitor.check()
        assert outcomes == []
    assert findings[0].failed and not findings[0].fenced and "not fenced" in findings[0].note
    assert running_on(fleet, host) == victims  # still running there, one copy each
    with pytest.raises(Refused, match="not known to be down"):
        await restart_vms_of(console, host)
    await fence(console, host)
    assert fleet.hosts[host].state == "off"
    _, outcomes = await monitor.check()
    moved = {o.vm for o in outcomes if o.target}
    assert moved and moved <= set(victims)
    for name in moved:
        assert fleet.vms[name].host != host and fleet.vms[name].state == "running"


def test_the_emulator_refuses_a_second_copy_while_the_old_host_is_not_fenced(
    fleet: emulator.Fleet,
) -> None:
    host = busy_host(fleet)
    name = running_on(fleet, host)[0]
    other = next(h for h in sorted(fleet.hosts) if h != host)
    fleet.partition_host(host)
    with pytest.raises(emulator.InvalidOperation, match="partitioned, not fenced"):
        fleet.define_vm(name, other, vcpus=1, memory_mib=512)
    assert fleet.vms[name].host == host and fleet.vms[name].state == "running"
