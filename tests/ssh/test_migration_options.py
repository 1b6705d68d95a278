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
from vdctui.drivers.ssh import HostKeyBook, SshDriver, commands
from vdctui.drivers.ssh.downtime import MaxDowntimeChange
from vdctui.drivers.ssh.pool import Completed
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


async def _max_downtime(driver: SshDriver, host: str, vm: str) -> str:
    """`virsh migrate-getmaxdowntime` on `host`, as an operator would read it."""
    inv = driver.inventory.host(host)
    assert inv is not None
    out = await driver.pool.run(
        inv, commands.virsh(inv.uri, "migrate-getmaxdowntime", "--domain", vm)
    )
    assert out.status == 0, out.error
    return out.stdout.strip()


async def _set_max_downtime(driver: SshDriver, host: str, vm: str, ms: int) -> None:
    inv = driver.inventory.host(host)
    assert inv is not None
    out = await driver.pool.run(inv, commands.set_max_downtime(inv.uri, vm, ms), read=False)
    assert out.status == 0, out.error


async def test_a_failed_migration_puts_the_max_downtime_back(served: Served) -> None:
    fleet = served.fleet
    vm = running_vm_on_shared_storage(fleet)
    source, target = fleet.vms[vm].host, host_with_room_for(fleet, vm)
    driver = served.driver(progress_interval_s=0.02)
    try:
        await _set_max_downtime(driver, source, vm, 500)  # the operator's own, before
        fleet.fail_next_migration(vm, reason="Connection reset by peer.")
        handle = await driver.migrate(vm, target, options=MigrationOptions(max_downtime_ms=42))
        result = await handle.wait()
        assert result.outcome is MigrationOutcome.FAILED
        assert await _max_downtime(driver, source, vm) == "500"
    finally:
        await driver.close()


async def test_a_cancelled_migration_puts_the_max_downtime_back(served: Served) -> None:
    fleet = served.fleet
    vm = running_vm_on_shared_storage(fleet)
    source, target = fleet.vms[vm].host, host_with_room_for(fleet, vm)
    fleet.slow_link(source, 0.0001)  # long enough to abort it
    driver = served.driver(progress_interval_s=0.02)
    try:
        before = await _max_downtime(driver, source, vm)
        handle = await driver.migrate(vm, target, options=MigrationOptions(max_downtime_ms=42))
        await handle.abort()
        result = await handle.wait()
        assert result.outcome is MigrationOutcome.CANCELLED
        assert await _max_downtime(driver, source, vm) == before
    finally:
        await driver.close()


async def test_a_migration_refused_at_its_start_puts_the_max_downtime_back(
    served: Served,
) -> None:
    """The emulated hosts have no --compressed: the migrate exec is refused after the max
    downtime was set."""
    fleet = served.fleet
    vm = running_vm_on_shared_storage(fleet)
    source, target = fleet.vms[vm].host, host_with_room_for(fleet, vm)
    driver = served.driver(progress_interval_s=0.02)
    try:
        before = await _max_downtime(driver, source, vm)
        with pytest.raises(InvalidOperation, match="compressed"):
            await driver.migrate(
                vm, target, options=MigrationOptions(max_downtime_ms=42, compressed=True)
            )
        assert await _max_downtime(driver, source, vm) == before
    finally:
        await driver.close()


async def test_a_succeeded_migration_leaves_no_max_downtime_behind(served: Served) -> None:
    """The VM's QEMU on the source is gone with the setting; back there, it has the default."""
    fleet = served.fleet
    vm = running_vm_on_shared_storage(fleet)
    source, target = fleet.vms[vm].host, host_with_room_for(fleet, vm)
    driver = served.driver(progress_interval_s=0.02)
    try:
        before = await _max_downtime(driver, source, vm)
        for there, options in ((target, MigrationOptions(max_downtime_ms=42)), (source, None)):
            handle = await driver.migrate(vm, there, options=options)
            assert (await handle.wait()).outcome is MigrationOutcome.SUCCEEDED
        assert await _max_downtime(driver, source, vm) == before
    finally:
        await driver.close()


class _Answering:
    """A pool whose hosts answer every command with one stderr and exit status."""

    def __init__(self, stderr: str, status: int) -> None:
        self.answer = Completed("", stderr, status)

    async def run(self, host: object, command: str, **_: object) -> Completed:
        return self.answer


@pytest.mark.parametrize(
    ("stderr", "status", "said"),
    [
        ("", 0, ""),
        # the VM's QEMU is gone (it crashed, was destroyed): its setting went with it
        ("error: Requested operation is not valid: domain is not running\n", 1, ""),
        (
            "error: internal error: unable to execute QEMU command\n",
            1,
            "The max downtime of web1 on h1 may still be 42 ms: putting back its 300 ms "
            "failed (internal error: unable to execute QEMU command).",
        ),
    ],
)
async def test_what_could_not_be_put_back_is_said(
    served: Served, stderr: str, status: int, said: str
) -> None:
    host = served.inventory.hosts[0]
    change = MaxDowntimeChange(replace(host, name="h1"), "web1", 42, 300)
    pool = _Answering(stderr, status)
    assert await change.put_back(pool) == said  # type: ignore[arg-type]
