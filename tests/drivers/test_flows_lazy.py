"""A saved fleet reopened after a long time is not made to live through every minute of
flows it was closed for when its driver starts (at 100,000 VMs, hours of them took many
minutes of CPU and gigabytes before the console could answer); they are made when flows
are asked for, the same flows (they are deterministic)."""

from __future__ import annotations

import asyncio

import emulator
from vdctui.drivers.emulated import EmulatedDriver

HOURS = 3 * 3600.0


def reopened_after_hours() -> emulator.Fleet:
    fleet = emulator.build_demo(seed=0, hosts=4, vms=20, epoch=1_795_000_000.0)
    fleet.start_flows()  # counted before it was saved and closed
    fleet.step(HOURS)  # the time it was closed
    return fleet


def test_a_driver_starting_makes_no_flows_for_the_time_the_fleet_was_closed() -> None:
    fleet = reopened_after_hours()
    until = fleet.flow_state_to_save()["until"]
    EmulatedDriver(fleet)
    assert fleet.flow_state_to_save()["until"] == until


def test_the_minutes_it_was_closed_are_made_when_flows_are_asked_for() -> None:
    lazy, eager = reopened_after_hours(), reopened_after_hours()
    eager.advance_flows()
    counts = asyncio.run(EmulatedDriver(lazy).flow_counts())
    allowed, dropped, _ = eager.flow_counts()
    assert sum(counts.allowed.values()) == sum(allowed.values()) > 0
    assert counts.dropped == dropped


def test_a_new_fleet_counts_flows_from_when_its_driver_first_runs_it() -> None:
    fleet = emulator.build_demo(seed=0, hosts=4, vms=20, epoch=1_795_000_000.0)
    EmulatedDriver(fleet)
    assert fleet.flow_state_to_save()["until"] is not None
