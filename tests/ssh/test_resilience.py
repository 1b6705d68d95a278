"""Reconnects with backoff, read retries (and no change retries), and command timeouts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

import emulator
from tests.ssh.served import Served, serve
from tests.waiting import ENOUGH, finished
from vdctui.drivers.base import HostUnreachable
from vdctui.drivers.ssh import HostKeyBook, PoolLimits, SshDriver
from vdctui.model import HostState, VmState


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    result = await serve(emulator.build_demo(seed=3, hosts=3, vms=9))
    yield result
    await result.close()


def driver_for(served: Served, **limits: float) -> SshDriver:
    return SshDriver(
        served.inventory,
        HostKeyBook(served.inventory.known_hosts),
        limits=PoolLimits(**limits),
        reuse_s=0.0,
    )  # type: ignore[arg-type]


async def states(driver: SshDriver) -> dict[str, tuple[HostState, str]]:
    return {h.name: (h.state, h.reason) for h in await driver.list_hosts()}


async def eventually(check: object, within: float = ENOUGH) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not within {within:g} s"
        await asyncio.sleep(0.02)


async def test_a_restarted_sshd_is_retried_with_backoff_then_recovers(served: Served) -> None:
    server = served.server
    name = served.inventory.hosts[0].name
    others = [h.name for h in served.inventory.hosts[1:]]
    driver = driver_for(served, backoff_first_s=1.0)
    try:
        assert all(s is HostState.UP for s, _ in (await states(driver)).values())
        await server.stop_host(name)  # its sshd dies: connections dropped, none accepted
        seen = await states(driver)
        assert seen[name][0] is HostState.UNREACHABLE
        assert name in seen[name][1] and "refused" in seen[name][1]
        assert all(seen[n][0] is HostState.UP for n in others)

        await server.restart_host(name)
        connections = server.stats.connections
        # within the backoff: no connection attempt, the reason and when it tries again
        seen = await states(driver)
        assert seen[name][0] is HostState.UNREACHABLE and "next try in" in seen[name][1]
        assert "refused" in seen[name][1]
        polls = 1
        while (await states(driver))[name][0] is not HostState.UP:
            polls += 1
            await asyncio.sleep(0.05)
            assert polls < 400, "never recovered"
        # many polls during the backoff, one connection once it was over: not a hot loop
        assert polls > 1
        assert server.stats.connections == connections + 1
        link = driver.pool._links[name]
        assert link.backoff == 0.0 and link.reason == ""
        assert len(await driver.list_vms(host=name)) == len(served.fleet.vms_on(name))
    finally:
        await driver.close()


async def test_the_backoff_doubles_while_a_host_stays_down(served: Served) -> None:
    name = served.inventory.hosts[0].name
    driver = driver_for(served, backoff_first_s=0.2, backoff_max_s=0.8)
    try:
        await states(driver)
        await served.server.stop_host(name)
        link = driver.pool._links
        seen = []
        for _ in range(4):
            await states(driver)
            seen.append(link[name].backoff)
            await eventually(lambda: time.monotonic() >= link[name].down_until)
        assert seen == [0.2, 0.4, 0.8, 0.8]
    finally:
        await driver.close()


async def test_a_read_is_retried_on_a_dropped_connection(served: Served) -> None:
    name = served.inventory.hosts[0].name
    execs: list[str] = []
    served.server.on_exec = lambda host, command: execs.append(command) if host == name else None
    driver = driver_for(served, max_channels=1)  # none to keep a virsh open: polls are execs
    try:
        served.server.faults.drop_after[name] = 1  # the poll runs, its reply is lost
        vms = await driver.list_vms(host=name)
        assert len(vms) == len(served.fleet.vms_on(name))
        polls = [c for c in execs if "nodeinfo" in c]
        assert len(polls) == 2 and polls[0] == polls[1]  # the same read, once more
    finally:
        await driver.close()


async def test_a_kept_open_virsh_lost_with_its_connection(served: Served) -> None:
    """A host is polled on a virsh kept open there: when that connection drops, the poll
    is an exec (nothing lost, nothing said twice), and the next poll opens a virsh again."""
    host = served.inventory.hosts[0]
    driver = driver_for(served)
    sessions = driver.reader.sessions
    try:
        await driver.list_vms(host=host.name)  # opens the kept virsh, asks it
        asked = sessions.asks
        assert asked >= 1 and driver.pool.execs_done == 0
        driver.pool.forget(host)  # the connection drops, and the virsh on it
        vms = await driver.list_vms(host=host.name)
        assert len(vms) == len(served.fleet.vms_on(host.name))
        assert driver.pool.execs_done == 1 and sessions.asks == asked
        await driver.list_vms(host=host.name)
        assert sessions.asks == asked + 1 and driver.pool.execs_done == 1
    finally:
        await driver.close()


async def test_a_change_is_never_retried_on_a_dropped_connection(served: Served) -> None:
    fleet = served.fleet
    vm = next(n for n in sorted(fleet.vms) if fleet.vms[n].state == "running")
    name = fleet.vms[vm].host
    starts: list[str] = []

    def on_exec(host: str, command: str) -> None:
        if host == name and " suspend " in command:
            starts.append(command)
            served.server.faults.drop_after[name] = 1  # it runs; the reply never comes

    served.server.on_exec = on_exec
    driver = driver_for(served)
    try:
        with pytest.raises(HostUnreachable, match="not retried") as raised:
            await driver.suspend(vm)
        assert name in str(raised.value)
        assert len(starts) == 1  # ran once, never again
        assert fleet.vms[vm].state == "paused"
        # the next read reconnects and sees what happened
        assert (await driver.get_vm(vm)).state is VmState.PAUSED
        assert len(starts) == 1
    finally:
        await driver.close()


async def test_a_stalled_command_times_out_and_the_fleet_keeps_working(served: Served) -> None:
    server = served.server
    name = served.inventory.hosts[0].name
    server.faults.stalled.add(name)
    driver = driver_for(served, command_timeout_s=0.5, max_channels=2)
    try:
        # it ends (the command's timeout, 0.5 s, fired): it would wait for ever otherwise
        seen = await finished(states(driver), "the stalled command timed out")
        assert seen[name][0] is HostState.UNREACHABLE
        assert name in seen[name][1] and "0.5 s" in seen[name][1]
        assert all(s is HostState.UP for n, (s, _) in seen.items() if n != name)
        others = [vm for vm in await driver.list_vms() if vm.host != name]
        assert len(others) == sum(1 for v in served.fleet.vms.values() if v.host != name)
        # a command that timed out gives its channel back: none pile up on the host
        for _ in range(3):
            await states(driver)
            assert server.stats.stalled <= 2
        await eventually(lambda: server.stats.stalled == 0)
        assert server.stats.max_channels <= 2
        server.faults.stalled.clear()
        assert (await states(driver))[name][0] is HostState.UP
    finally:
        await driver.close()


async def test_a_host_that_never_finishes_the_handshake_times_out(served: Served) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts the TCP connection and never says a word
        writer.close()

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    first = served.inventory.hosts[0]
    mute = replace(first, name="mute-01", address=replace(first.address, port=port))
    inventory = replace(served.inventory, hosts=(*served.inventory.hosts, mute))
    driver = SshDriver(
        inventory, HostKeyBook(inventory.known_hosts), limits=PoolLimits(connect_timeout_s=0.5)
    )
    try:
        seen = await finished(states(driver), "the silent host's handshake timed out")
        assert seen["mute-01"][0] is HostState.UNREACHABLE
        assert "in time" in seen["mute-01"][1]
        assert all(s is HostState.UP for n, (s, _) in seen.items() if n != "mute-01")
    finally:
        await driver.close()
        listener.close()
        await listener.wait_closed()
