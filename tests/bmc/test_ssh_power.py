"""Real (SSH) hosts with a BMC: power read and changed through the door, fencing through
the BMC — against sushy-tools' emulator as the BMC of one served SSH host."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

import emulator
from tests.bmc.sushy import USER, Sushy, start_sushy
from tests.ssh.served import Served, serve
from tests.waiting import ENOUGH
from vdctui.drivers.bmc import BmcClient, BmcConfig
from vdctui.drivers.ssh import HostKeyBook, SshDriver
from vdctui.model import HostState, Role
from vdctui.ops import Console, Failed, Identity, Refused
from vdctui.ops.ha import fence, restart_vms_of
from vdctui.ops.power import power
from vdctui.store import Store

SYSTEM = str(uuid.uuid4())


@pytest.fixture
def sushy(tmp_path: Path) -> Iterator[Sushy]:
    served = start_sushy(tmp_path, [{"uuid": SYSTEM, "name": "kvm", "power_state": "On"}])
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    result = await serve(emulator.build_demo(seed=3, hosts=3, vms=9))
    yield result
    await result.close()


@pytest.fixture
async def console(served: Served, sushy: Sushy) -> AsyncIterator[Console]:
    """A console over the SSH hosts; the first has sushy's system as its BMC."""
    bmc = BmcConfig(sushy.url, USER, sushy.password_file, ca=sushy.ca)
    hosts = (replace(served.inventory.hosts[0], bmc=bmc), *served.inventory.hosts[1:])
    inventory = replace(served.inventory, hosts=hosts)
    driver = SshDriver(inventory, HostKeyBook(inventory.known_hosts), reuse_s=0.0)
    driver.power.poll_s = 0.2
    console = Console(Store(":memory:"), driver, Identity("alice", Role.ADMIN))
    await console.sync()
    yield console
    await console.close()


def bmc_of(console: Console) -> BmcClient:
    inv = console.driver.inventory.hosts[0]  # type: ignore[attr-defined]
    return BmcClient(inv.bmc)


async def bmc_state(console: Console) -> str | None:
    async with bmc_of(console) as bmc:
        return await bmc.power_state()


def first(console: Console) -> str:
    return console.driver.inventory.hosts[0].name  # type: ignore[attr-defined,no-any-return]


async def test_watts_unknown_when_the_bmc_does_not_report_them(console: Console) -> None:
    hosts = {h.name: h for h in console.hosts()}
    assert hosts[first(console)].state is HostState.UP
    assert hosts[first(console)].power_watts is None  # sushy reports none: unknown, not 0
    others = [h for name, h in hosts.items() if name != first(console)]
    assert all(h.power_watts is None for h in others)  # no BMC at all


async def test_power_off_through_the_door(console: Console) -> None:
    await power(console, first(console), "off", force=True)
    record = console.audit(limit=1)[0]
    assert (record.action, record.result, record.params) == (
        "host.power-off",
        "ok",
        {"force": True},
    )
    async with bmc_of(console) as bmc:
        deadline = time.monotonic() + ENOUGH  # the BMC applies it 1-11 s later
        while await bmc.power_state() != "Off":
            assert time.monotonic() < deadline, "the BMC never said Off"
            await asyncio.sleep(0.1)


async def test_a_viewer_is_refused_before_the_bmc_is_asked(console: Console) -> None:
    console.identity = replace(console.identity, role=Role.VIEWER)
    with pytest.raises(Refused):
        await power(console, first(console), "off", force=True)
    record = console.audit(limit=1)[0]
    assert (record.action, record.result) == ("host.power-off", "refused")
    assert await bmc_state(console) == "On"


async def test_a_host_without_a_bmc_cannot_be_powered(console: Console) -> None:
    other = console.driver.inventory.hosts[1].name  # type: ignore[attr-defined]
    with pytest.raises(Refused, match="has no BMC in the inventory"):
        await power(console, other, "on")


async def test_fence_through_the_bmc_marks_the_host_off(console: Console, served: Served) -> None:
    name = first(console)
    await served.server.stop_host(name)  # the host stops answering SSH
    await console.sync()
    assert console.host(name).state is HostState.UNREACHABLE
    how = await fence(console, name)
    assert "ForceOff sent" in how and "reports the power Off" in how
    assert console.host(name).state is HostState.OFF  # SSH silent, BMC says Off: known down
    assert "Its BMC reports the power Off." in console.host(name).reason
    record = console.audit(limit=1)[0]
    assert (record.action, record.result) == ("host.power-off", "ok")


async def test_a_bmc_that_stops_answering_mid_fence_restarts_nothing(
    console: Console, served: Served, sushy: Sushy
) -> None:
    name = first(console)
    await served.server.stop_host(name)
    driver = console.driver
    power_of = driver.power  # type: ignore[attr-defined]
    client = await power_of._client(driver.inventory.hosts[0])  # type: ignore[attr-defined]
    sent = client.reset

    async def reset_then_vanish(action: str) -> str:
        kind = await sent(action)
        sushy.kill()
        return kind

    client.reset = reset_then_vanish
    power_of.confirm_within_s = 1.0
    with pytest.raises(Failed, match=f"The fence of host {name} failed: ForceOff was sent"):
        await fence(console, name)
    record = console.audit(limit=1)[0]
    assert (record.action, record.result) == ("host.power-off", "failed")
    await console.sync()
    assert console.host(name).state is HostState.UNREACHABLE  # not known down
    with pytest.raises(Refused, match="not known to be down"):
        await restart_vms_of(console, name)
    assert console.audit(limit=1)[0].result == "refused"
