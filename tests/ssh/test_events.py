"""libvirt's events over SSH: the parser, and emulated hosts streaming them like real ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import emulator
from tests.conftest import running_vm_on_shared_storage
from tests.ssh.served import Served, serve
from vdctui.drivers.ssh.events import HostEvent, parse_event
from vdctui.model import FleetEvent

# verbatim from real libvirt 9.0 (../shared/lab/events-during-migration.txt)
REAL = """2026-11-30 11:51:37.108+0000: event 'lifecycle' for domain 'tiny1': Started Migrated
2026-11-30 11:51:54.749+0000: event 'reboot' for domain 'tiny1'
2026-11-30 11:52:05.836+0000: event 'tunable' for domain 'tiny1':
\tcputune.vcpupin0: 1
2026-11-30 11:52:17.544+0000: event 'lifecycle' for domain 'tiny1': Stopped Destroyed
event 'lifecycle' for domain 'tiny1': Suspended Paused
"""


def test_parse_real_event_lines() -> None:
    events = [e for line in REAL.splitlines() if (e := parse_event("h", line)) is not None]
    assert [(e.kind, e.detail) for e in events] == [
        ("lifecycle", "Started Migrated"),
        ("reboot", ""),
        ("tunable", ""),
        ("lifecycle", "Stopped Destroyed"),
        ("lifecycle", "Suspended Paused"),
    ]
    assert events[0] == HostEvent("h", "lifecycle", "tiny1", "Started Migrated", 1796039497.108)
    assert events[-1].ts is None  # without --timestamp
    assert parse_event("h", "\tcputune.vcpupin0: 1") is None


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    fleet = emulator.build_demo(seed=3, hosts=3, vms=9)
    result = await serve(fleet)
    yield result
    await result.close()


async def test_emulated_hosts_stream_lifecycle_events(served: Served) -> None:
    fleet = served.fleet
    name = running_vm_on_shared_storage(fleet)
    driver = served.driver()
    events = driver.events()
    try:
        async with asyncio.timeout(30):
            while not (driver._channels and all(c.open for c in driver._channels.values())):
                await asyncio.sleep(0.02)
            fleet.destroy_vm(name)  # behind the console's back
            seen: list[FleetEvent] = []
            while not any(e.vm == name and e.kind == "vm.lifecycle" for e in seen):
                seen.append(await anext(events))
        told = next(e for e in seen if e.vm == name)
        assert told.host == fleet.vms[name].host and "Stopped Destroyed" in told.message
    finally:
        await events.aclose()  # type: ignore[attr-defined]
        await driver.close()


async def test_cold_move_over_ssh_defines_on_the_target_first(served: Served) -> None:
    fleet = served.fleet
    name = running_vm_on_shared_storage(fleet)
    source = fleet.vms[name].host
    fleet.destroy_vm(name)
    target = next(
        h
        for h in sorted(fleet.hosts)
        if h != source and fleet.vms[name].datastore in fleet.host_datastores(h)
    )
    driver = served.driver()
    try:
        handle = await driver.migrate(name, target, live=False)
        result = await handle.wait()
        assert result.outcome.value == "succeeded", result.reason
        assert fleet.vms[name].host == target
        assert [vm.host for vm in await driver.list_vms() if vm.name == name] == [target]
    finally:
        await driver.close()
