"""A migration's progress read on one interactive virsh per host (not an exec a sample),
against emulated hosts that answer an interactive virsh as virsh 9 does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

import emulator
from tests.conftest import host_with_room_for, running_vm_on_shared_storage
from tests.ssh.served import Served, serve
from vdctui.drivers.base import HostUnreachable
from vdctui.drivers.ssh.parsers import parse_jobinfo
from vdctui.drivers.ssh.pool import PoolLimits
from vdctui.drivers.ssh.session import SessionClosed, VirshSession
from vdctui.model import MigrationOutcome


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    fleet = emulator.build_demo(seed=3, hosts=4, vms=12)
    result = await serve(fleet)
    yield result
    await result.close()


async def test_a_session_answers_command_after_command(served: Served) -> None:
    fleet = served.fleet
    vm = running_vm_on_shared_storage(fleet)
    driver = served.driver()
    host = driver.inventory.host(fleet.vms[vm].host)
    assert host is not None
    session = VirshSession(driver.pool, host)
    try:
        await session.open()
        before = served.server.stats.execs
        for _ in range(5):
            assert (await session.ask(["domstate", "--domain", vm, "--reason"])).strip() == (
                "running (booted)"
            )
            job = parse_jobinfo(await session.ask(["domjobinfo", "--domain", vm, "--rawstats"]))
            assert job.job_type == 0
        assert await session.ask(["domstate", "--domain", "no-such-vm"]) == ""  # error: stderr
        assert served.server.stats.execs == before  # all on the one exec
        assert await session.ask(["echo", "a;b"]) == "a;b\n"  # one argument, quoted
    finally:
        await session.close()
        await driver.close()
    with pytest.raises(SessionClosed):
        await session.ask(["domstate", "--domain", vm])


async def test_migration_progress_costs_no_exec_per_sample(served: Served) -> None:
    fleet = served.fleet
    vm = running_vm_on_shared_storage(fleet)
    fleet.vms[vm].dirty_rate = 2e9
    served.server.migration_rate = 10.0
    target = host_with_room_for(fleet, vm)
    driver = served.driver(progress_interval_s=0.02)
    try:
        before = served.server.stats.execs
        handle = await driver.migrate(vm, target)
        samples = [s async for s in handle.updates()]
        result = await handle.wait()
        execs = served.server.stats.execs - before
    finally:
        await driver.close()
    assert result.outcome is MigrationOutcome.SUCCEEDED
    assert len(samples) >= 10
    # the migrate itself, two sessions, the final figures and the polls around it
    assert execs < len(samples) // 2, (execs, len(samples))


async def test_without_a_session_each_sample_is_an_exec(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(self: VirshSession, **_: object) -> None:
        raise HostUnreachable("no interactive virsh here")

    monkeypatch.setattr(VirshSession, "open", refused)
    fleet = served.fleet
    vm = running_vm_on_shared_storage(fleet)
    fleet.vms[vm].dirty_rate = 2e9
    served.server.migration_rate = 10.0
    driver = served.driver(progress_interval_s=0.02)
    try:
        handle = await driver.migrate(vm, host_with_room_for(fleet, vm))
        samples = [s async for s in handle.updates()]
        result = await handle.wait()
    finally:
        await driver.close()
    assert result.outcome is MigrationOutcome.SUCCEEDED and len(samples) >= 2
    processed = [s.data_processed for s in samples]
    assert processed == sorted(processed) and samples[-1].phase == "done"


async def test_sessions_hold_at_most_half_the_channels(served: Served) -> None:
    """An SSH server allows so many sessions a connection (OpenSSH: 10): a session takes
    one of the host's `max_channels`, and never more than half of them go to sessions."""
    driver = served.driver(limits=PoolLimits(max_channels=4))
    host = driver.inventory.hosts[0]
    sessions = [VirshSession(driver.pool, host) for _ in range(4)]
    try:
        await sessions[0].open()
        await sessions[1].open()
        with pytest.raises(SessionClosed, match="no SSH channel to spare"):
            await sessions[2].open()
        await sessions[2].close()
        await sessions[0].close()  # gives its channel back
        await sessions[3].open()
        assert (await sessions[3].ask(["echo", "ok"])) == "ok\n"
    finally:
        for session in sessions:
            await session.close()
        await driver.close()


async def test_an_answer_no_one_waited_for_is_not_the_next_ones(served: Served) -> None:
    """A sample cancelled while its answer was on the way (the migration ended): the
    next ask reads past that answer, never takes it for its own."""
    fleet = served.fleet
    vm = running_vm_on_shared_storage(fleet)
    driver = served.driver()
    host = driver.inventory.host(fleet.vms[vm].host)
    assert host is not None
    session = VirshSession(driver.pool, host)
    try:
        await session.open()
        for _ in range(3):
            asked = asyncio.ensure_future(session.ask(["domjobinfo", "--domain", vm]))
            await asyncio.sleep(0)  # written, not yet answered
            asked.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asked
        assert await session.ask(["echo", "mine"]) == "mine\n"
        assert (await session.ask(["domstate", "--domain", vm])).strip() == "running"
    finally:
        await session.close()
        await driver.close()
