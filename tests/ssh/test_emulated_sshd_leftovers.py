"""The emulated hosts, as real hosts' sshd: a login prepared without a thread, and what
closed connections leave for the cycle collector freed while no connection is open,
not in the middle of answering the next poll."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from typing import Any

import pytest

import emulator
from emulator.sshd.leftovers import Leftovers
from tests.ssh.served import Served, serve
from vdctui.drivers.ssh import HostKeyBook
from vdctui.drivers.ssh.pool import ConnectionPool


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    result = await serve(emulator.build_demo(seed=5, hosts=3, vms=6))
    yield result
    await result.close()


async def _run_on_every_host(served: Served) -> None:
    pool = ConnectionPool(served.inventory, HostKeyBook(served.inventory.known_hosts))
    try:
        for host in served.inventory.hosts:
            assert (await pool.run(host, "virsh -q list --all --name")).status == 0
    finally:
        await pool.close()


async def test_a_host_logs_a_client_in_without_a_thread(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncssh's server prepared its options again at each login, in the executor (and
    looked its host name up): the emulated hosts, with no sshd_config, keep theirs."""
    loop = asyncio.get_running_loop()
    hops: list[Any] = []
    usual = loop.run_in_executor

    def counting(executor: Any, func: Any, *args: Any) -> Any:
        hops.append(func)
        return usual(executor, func, *args)

    monkeypatch.setattr(loop, "run_in_executor", counting)
    await _run_on_every_host(served)
    assert hops == []


async def test_closed_connections_are_collected_once_none_is_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collected: list[int] = []
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation) or 0)
    leftovers = Leftovers(worth=2)
    leftovers.opened()
    leftovers.opened()
    leftovers.closed_one()
    leftovers.opened()  # one more comes before the first two are done
    leftovers.closed_one()
    await asyncio.sleep(0)
    assert collected == []  # one is open: it may be answering
    leftovers.closed_one()
    leftovers.opened()  # a new one in the same turn: it waits for that one too
    await asyncio.sleep(0)
    assert collected == []
    leftovers.closed_one()
    await asyncio.sleep(0)
    assert collected == [1] and leftovers.closed == 0
    leftovers.opened()
    leftovers.closed_one()
    await asyncio.sleep(0)
    assert collected == [1]  # one closed connection is not worth a collection


async def test_the_emulated_hosts_collect_after_their_connections_close(
    served: Served,
) -> None:
    served.server.leftovers.worth = len(served.inventory.hosts)
    await _run_on_every_host(served)
    for _ in range(100):  # the server hears of the closes in its own turns
        if served.server.leftovers.open == 0:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0)
    assert served.server.leftovers.open == 0
    assert served.server.leftovers.collections == 1
