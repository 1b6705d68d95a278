"""Intrusion alerts from the emulator's flows: each injected attack is detected, normal
traffic raises nothing, alerts are kept once and audited, thresholds change what fires."""

from __future__ import annotations

import emulator
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.ops import Console
from vdctui.ops.intrusion import Thresholds, detect, scan


def running(fleet: emulator.Fleet, pool: str) -> list[str]:
    return sorted(n for n, v in fleet.vms.items() if v.pool == pool and v.state == "running")


async def minutes(console: Console, n: int) -> None:
    driver = console.driver
    assert isinstance(driver, EmulatedDriver)
    await driver.advance(60.0 * n)


async def test_each_injected_attack_is_detected_and_alerted_once(
    console: Console, fleet: emulator.Fleet
) -> None:
    start = fleet.now
    target = running(fleet, "web")[0]
    inside = running(fleet, "dev")[0]
    await minutes(console, 3)
    fleet.inject_attack("port-scan", "203.0.113.66", target)
    fleet.inject_attack("brute-force", "198.51.100.77", target)
    fleet.inject_attack("internal-sweep", inside)
    await minutes(console, 3)
    alerts = await scan(console, start)
    kinds = {(a.kind, a.source, a.vm) for a in alerts}
    assert ("port-scan", "203.0.113.66", target) in kinds
    assert ("brute-force", "198.51.100.77", target) in kinds
    assert ("internal-sweep", fleet.vm_address(inside), inside) in kinds
    assert len(alerts) == 3
    assert await scan(console, start) == []  # known alerts are not raised twice
    raised = console.store.audit(action="alert.raised")
    assert len(raised) == 3 and {r.params["kind"] for r in raised} == {
        "port-scan",
        "brute-force",
        "internal-sweep",
    }


async def test_normal_traffic_for_three_hours_raises_nothing(
    console: Console, fleet: emulator.Fleet
) -> None:
    start = fleet.now
    await minutes(console, 180)
    records = await console.driver.flow_records(start)
    assert len(records) > 1000
    assert detect(records) == []


async def test_thresholds_say_what_counts_as_an_attack(
    console: Console, fleet: emulator.Fleet
) -> None:
    start = fleet.now
    await minutes(console, 30)
    records = await console.driver.flow_records(start)
    strict = detect(records, Thresholds(addresses=3))  # infra scrapes 5 VMs a minute
    assert strict and {f.kind for f in strict} == {"internal-sweep"}
    assert all(fleet.vms[f.vm].pool == "infra" for f in strict if f.vm)
