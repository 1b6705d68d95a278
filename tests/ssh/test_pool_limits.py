"""The pool's limits as the emulated servers see them: channels per connection, handshakes."""

from __future__ import annotations

import asyncio

import emulator
from tests.ssh.served import serve
from vdctui.drivers.ssh import HostKeyBook, PoolLimits, SshDriver
from vdctui.drivers.ssh.pool import ConnectionPool
from vdctui.model import HostState

LIST = "LC_ALL=C virsh -q list --all --name"


async def test_at_most_max_channels_execs_at_once_on_one_connection() -> None:
    served = await serve(emulator.build_demo(seed=5, hosts=2, vms=4))
    served.server.faults.delay_s = 0.3  # slow enough for the execs to pile up, under load too
    host = served.inventory.hosts[0]
    try:
        for limits, expected in (
            (PoolLimits(), 8),
            (PoolLimits(max_channels=3), 3),
            (PoolLimits(max_channels=12), 12),
        ):
            served.server.stats.max_channels = 0
            connections = served.server.stats.connections
            pool = ConnectionPool(
                served.inventory, HostKeyBook(served.inventory.known_hosts), limits=limits
            )
            try:
                results = await asyncio.gather(*(pool.run(host, LIST) for _ in range(30)))
            finally:
                await pool.close()
            assert all(r.status == 0 for r in results)
            assert served.server.stats.connections == connections + 1  # one connection
            assert served.server.stats.max_channels == expected
    finally:
        await served.close()


async def test_at_most_max_handshakes_at_once_through_one_bastion() -> None:
    fleet = emulator.build_demo(seed=3, hosts=12, vms=12)
    served = await serve(fleet, bastion=True)
    try:
        for limits, expected in (
            (PoolLimits(), 5),
            (PoolLimits(max_handshakes=2), 2),
            (PoolLimits(max_handshakes=8), 8),
        ):
            stats = served.server.stats
            stats.max_handshaking = 0
            bastions = stats.bastion_connections
            driver = SshDriver(
                served.inventory, HostKeyBook(served.inventory.known_hosts), limits=limits
            )
            try:
                hosts = await driver.list_hosts()
            finally:
                await driver.close()
            assert [h.state for h in hosts] == [HostState.UP] * 12, [h.reason for h in hosts]
            assert stats.bastion_connections == bastions + 1  # all 12 share one
            assert stats.max_handshaking == expected
            assert stats.handshaking == 0
    finally:
        await served.close()


async def test_at_most_max_handshakes_total_at_once_over_many_hosts() -> None:
    """Hosts reached directly (each its own target) connect a few at a time in all: a cold
    refresh of a big fleet makes its connections in waves, each within its timeout."""
    fleet = emulator.build_demo(seed=3, hosts=12, vms=12)
    served = await serve(fleet)
    try:
        stats = served.server.stats
        stats.max_handshaking = 0
        driver = SshDriver(
            served.inventory,
            HostKeyBook(served.inventory.known_hosts),
            limits=PoolLimits(max_handshakes_total=3),
        )
        try:
            hosts = await driver.list_hosts()
        finally:
            await driver.close()
        assert [h.state for h in hosts] == [HostState.UP] * 12, [h.reason for h in hosts]
        assert 1 <= stats.max_handshaking <= 3
        assert stats.handshaking == 0
    finally:
        await served.close()
