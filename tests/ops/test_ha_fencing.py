"""HA's automatic fencing: a failed host that ran VMs is fenced (its BMC; the emulator does it)
before its VMs restart elsewhere, and never restarted without a confirmed fence."""

from __future__ import annotations

from dataclasses import replace

import pytest

import emulator
from tests.ops.test_ha import busy_host, running_on
from vdctui.drivers.base import FenceNotConfirmed
from vdctui.model import Role
from vdctui.ops import Console, Refused
from vdctui.ops.ha import HaMonitor


async def test_a_silent_host_with_vms_is_fenced_then_its_vms_restart(
    console: Console, fleet: emulator.Fleet
) -> None:
    host = busy_host(fleet)
    victims = running_on(fleet, host)
    fleet.partition_host(host)  # silent: it may still run its VMs
    monitor = HaMonitor(console, missed_intervals=2, auto_fence=True)
    findings, outcomes = await monitor.check()
    assert outcomes == [] and fleet.hosts[host].state == "up"  # one missed: not yet
    findings, outcomes = await monitor.check()
    assert fleet.hosts[host].state == "off"
    assert findings[0].failed and findings[0].fenced and "fenced by HA" in findings[0].note
    moved = {o.vm: o.target for o in outcomes if o.target}
    assert moved and set(moved) <= set(victims)
    for name, target in moved.items():
        assert fleet.vms[name].host == target != host and fleet.vms[name].state == "running"
    records = [(r.action, r.params, r.result) for r in reversed(console.audit(limit=200))]
    fence_at = records.index(("host.power-off", {"reason": "ha-fence"}, "ok"))
    first_restart = next(i for i, r in enumerate(records) if r[0] == "ha.restart")
    assert fence_at < first_restart  # fenced first, restarted after


async def test_a_fence_not_confirmed_restarts_nothing_and_is_not_retried(
    console: Console, fleet: emulator.Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = busy_host(fleet)
    victims = running_on(fleet, host)
    fleet.partition_host(host)

    async def unconfirmed(name: str) -> str:
        raise FenceNotConfirmed(f"The fence of host {name} failed: the BMC did not answer.")

    monkeypatch.setattr(console.driver, "fence_host", unconfirmed)
    monitor = HaMonitor(console, missed_intervals=1, auto_fence=True)
    for _ in range(3):
        findings, outcomes = await monitor.check()
        assert outcomes == []
    assert not findings[0].fenced and "the fence failed" in findings[0].note
    assert "BMC did not answer" in findings[0].note
    assert running_on(fleet, host) == victims  # one copy each, where they were
    fences = [r for r in console.audit(limit=200) if r.action == "host.power-off"]
    assert [(r.result, r.params) for r in fences] == [("failed", {"reason": "ha-fence"})]


async def test_a_silent_host_without_running_vms_is_not_fenced(
    console: Console, fleet: emulator.Fleet
) -> None:
    host = busy_host(fleet)
    for name in running_on(fleet, host):
        fleet.destroy_vm(name)
    await console.sync()
    fleet.partition_host(host)
    findings, _ = await HaMonitor(console, missed_intervals=1, auto_fence=True).check()
    assert fleet.hosts[host].state == "up" and not findings[0].fenced
    assert not [r for r in console.audit(limit=200) if r.action == "host.power-off"]


async def test_auto_fencing_needs_the_role_that_powers_hosts_off(console: Console) -> None:
    console.identity = replace(console.identity, role=Role.OPERATOR)
    with pytest.raises(Refused):
        await HaMonitor(console, missed_intervals=1, auto_fence=True).check()
    [record] = console.audit(limit=1)
    assert (record.action, record.result) == ("host.power-off", "refused")
