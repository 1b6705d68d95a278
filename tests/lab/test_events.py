"""Changes made on a host behind the console's back (plain virsh there) reach it as events."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Callable

import pytest

from tests.lab.conftest import Guests
from tests.lab.lab import Lab
from vdctui.drivers.ssh import SshDriver
from vdctui.model import FleetEvent, VmState
from vdctui.ops import Console

NO_POLL_S = 3600.0  # polls so rare that only an event can explain what the console sees


@pytest.fixture
async def following(lab_console: Console) -> AsyncIterator[list[FleetEvent]]:
    """The console following its driver's events, with polling out of the way."""
    driver = lab_console.driver
    assert isinstance(driver, SshDriver)
    driver.event_poll_s = driver.safety_poll_s = NO_POLL_S
    told: list[FleetEvent] = []
    lab_console.subscribe(told.append)
    task = asyncio.get_running_loop().create_task(lab_console.follow_events())
    await until(lambda: all(c.open for c in driver._channels.values()) and driver._channels)
    try:
        yield told
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(check: Callable[[], object], timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


async def test_plain_virsh_changes_reach_the_console(
    lab: Lab, lab_console: Console, guests: Guests, following: list[FleetEvent]
) -> None:
    name = guests.define("ev-one", 2)

    def state() -> VmState | None:
        vm = lab_console.store.vm(name)
        return vm.state if vm is not None else None

    await until(lambda: state() is VmState.RUNNING)
    lab.virsh(2, "destroy", name)
    await until(lambda: state() is VmState.SHUTOFF)
    assert any(e.kind == "vm.lifecycle" and e.vm == name and "Destroyed" in e.message
               for e in following)  # fmt: skip


async def test_a_dropped_event_channel_reconnects_and_says_so(
    lab: Lab, lab_console: Console, guests: Guests, following: list[FleetEvent]
) -> None:
    pids = lab.host(3).processes("virsh", "event", "--loop")
    assert len(pids) == 1  # one channel per host, none left by the consoles before
    os.kill(pids[0], signal.SIGTERM)  # the host's end of the channel, a process of the lab
    await until(lambda: any(e.kind == "events.dropped" and e.host == "labh3" for e in following))
    dropped = next(e for e in following if e.kind == "events.dropped")
    assert "reconnecting in" in dropped.message and "labh3" in dropped.message
    await until(lambda: any(e.kind == "events.open" and e.host == "labh3" for e in following))
    name = guests.define("ev-two", 3)
    await until(
        lambda: (vm := lab_console.store.vm(name)) is not None and vm.state is VmState.RUNNING
    )
