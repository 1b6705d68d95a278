"""Migration options over SSH (emulated hosts on 127.0.0.1): the max downtime set on the
source before the migration starts, and the options a host cannot do refused first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

import emulator
from tests.conftest import host_with_room_for, running_vm_on_shared_storage
from tests.ssh.served import Served, serve
from vdctui.drivers.base import InvalidOperation
from vdctui.drivers.ssh import HostKeyBook, SshDriver
from vdctui.model import MigrationOptions, MigrationOutcome


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    fleet = emulator.build_demo(seed=3, hosts=4, vms=12)
    result = await serve(fleet)
    yield result
    await result.close()


async def test_max_downtime_reaches_the_migration(served: Served) -> None:
    fleet = served.fleet
    vm = running_vm_on_shared_storage(fleet)
    target = host_with_room_for(fleet, vm)
    driver = served.driver(progress_interval_s=0.02)
    try:
        handle = await driver.migrate(vm, target, options=MigrationOptions(max_downtime_ms=42))
        result = await handle.wait()
    finally:
        await driver.close()
    assert result.outcome is MigrationOutcome.SUCCEEDED, result.reason
    [job] = [j for j in fleet.finished_migrations if j.vm == vm]
    assert job.max_downtime_ms == 42.0


async def test_options_a_source_cannot_do_are_refused_before_anything_runs(
    served: Served,
) -> None:
    fleet = served.fleet
    vm = running_vm_on_shared_storage(fleet)
    source = fleet.vms[vm].host
    inventory = replace(
        served.inventory,
        hosts=[
            replace(h, migration="direct") if h.name == source else h
            for h in served.inventory.hosts
        ],
    )
    driver = SshDriver(inventory, HostKeyBook(inventory.known_hosts))
    try:
        await driver.check_migration_options(source, MigrationOptions(max_downtime_ms=42))
        with pytest.raises(InvalidOperation, match="tunnelled needs peer-to-peer"):
            await driver.check_migration_options(source, MigrationOptions(tunnelled=True))
        assert not fleet.migrations  # nothing asked of the hosts
    finally:
        await driver.close()
