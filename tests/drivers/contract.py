"""The HostDriver contract: one suite every driver passes unchanged.

A driver under test comes as a `ContractFleet` from a factory in
`tests/drivers/conftest.py`: the driver, a way to let time pass, and the names
of a few things in its fleet. The SSH driver adds its factory there and runs
these same tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from vdctui.drivers.base import (
    DriverError,
    HostDriver,
    HostUnreachable,
    InvalidOperation,
    NoSuchVm,
)
from vdctui.model import FleetEvent, HostState, MigrationOutcome, VmSpec, VmState


@dataclass
class ContractFleet:
    driver: HostDriver
    advance: Callable[[float], Awaitable[None]]  # let this many seconds of fleet time pass
    running_vm: str  # running, on a shared datastore, small enough to move
    stopped_vm: str  # shut off
    target_host: str  # up, has room for running_vm, reaches its datastore
    busy_vm: str  # running, dirties memory faster than any link sends it
    partition: Callable[[str], Awaitable[None]]  # cut a host off the management network
    spec_for: Callable[[str], tuple[VmSpec, str]]  # a new VM's spec and a host with room
    empty_host: str  # up, runs no VM


async def wait_for_state(
    fleet: ContractFleet, name: str, state: VmState, seconds: float = 120
) -> None:
    waited = 0.0
    while (await fleet.driver.get_vm(name)).state is not state:
        if waited >= seconds:
            raise AssertionError(f"{name} did not reach {state} in {seconds}s")
        await fleet.advance(1.0)
        waited += 1.0


class HostDriverContract:
    """Subclassed by the test module with a `fleet` fixture; every test is async."""

    async def test_topology_places_every_host(self, fleet: ContractFleet) -> None:
        topology = await fleet.driver.topology()
        racks = {rack.name for rack in topology.racks}
        hosts = await fleet.driver.list_hosts()
        assert hosts and racks
        assert all(host.rack in racks for host in hosts)
        assert all(host.cpus > 0 and host.memory_mib > 0 for host in hosts)

    async def test_list_vms_has_the_running_and_stopped_vms(self, fleet: ContractFleet) -> None:
        vms = {vm.name: vm for vm in await fleet.driver.list_vms()}
        assert vms[fleet.running_vm].state is VmState.RUNNING
        assert vms[fleet.stopped_vm].state is VmState.SHUTOFF
        host = vms[fleet.running_vm].host
        assert host is not None
        on_host = await fleet.driver.list_vms(host=host)
        assert fleet.running_vm in {vm.name for vm in on_host}
        assert all(vm.host == host for vm in on_host)

    async def test_unknown_vm_is_no_such_vm(self, fleet: ContractFleet) -> None:
        with pytest.raises(NoSuchVm):
            await fleet.driver.get_vm("no-such-vm")
        with pytest.raises(NoSuchVm):
            await fleet.driver.start("no-such-vm")

    async def test_start_then_destroy(self, fleet: ContractFleet) -> None:
        await fleet.driver.start(fleet.stopped_vm)
        assert (await fleet.driver.get_vm(fleet.stopped_vm)).state is VmState.RUNNING
        with pytest.raises(InvalidOperation):
            await fleet.driver.start(fleet.stopped_vm)
        await fleet.driver.destroy(fleet.stopped_vm)
        assert (await fleet.driver.get_vm(fleet.stopped_vm)).state is VmState.SHUTOFF

    async def test_shutdown_takes_time(self, fleet: ContractFleet) -> None:
        await fleet.driver.shutdown(fleet.running_vm)
        state = (await fleet.driver.get_vm(fleet.running_vm)).state
        assert state in (VmState.SHUTTING_DOWN, VmState.SHUTOFF)
        await wait_for_state(fleet, fleet.running_vm, VmState.SHUTOFF)

    async def test_suspend_resume_reboot(self, fleet: ContractFleet) -> None:
        await fleet.driver.suspend(fleet.running_vm)
        assert (await fleet.driver.get_vm(fleet.running_vm)).state is VmState.PAUSED
        await fleet.driver.resume(fleet.running_vm)
        assert (await fleet.driver.get_vm(fleet.running_vm)).state is VmState.RUNNING
        await fleet.driver.reboot(fleet.running_vm)
        await wait_for_state(fleet, fleet.running_vm, VmState.RUNNING)

    async def test_resize_within_and_over_the_maxima(self, fleet: ContractFleet) -> None:
        vm = await fleet.driver.get_vm(fleet.running_vm)
        await fleet.driver.set_vcpus(vm.name, vm.max_vcpus)
        await fleet.driver.set_memory(vm.name, vm.max_memory_mib)
        grown = await fleet.driver.get_vm(vm.name)
        assert (grown.vcpus, grown.memory_mib) == (vm.max_vcpus, vm.max_memory_mib)
        with pytest.raises(InvalidOperation):
            await fleet.driver.set_vcpus(vm.name, vm.max_vcpus + 1)
        with pytest.raises(InvalidOperation):
            await fleet.driver.set_memory(vm.name, vm.max_memory_mib + 1)

    async def test_define_start_undefine(self, fleet: ContractFleet) -> None:
        spec, host = fleet.spec_for("contract-new")
        defined = await fleet.driver.define(spec, host)
        assert (defined.name, defined.host, defined.state) == (spec.name, host, VmState.SHUTOFF)
        await fleet.driver.start(spec.name)
        with pytest.raises(InvalidOperation):
            await fleet.driver.undefine(spec.name)
        await fleet.driver.destroy(spec.name)
        await fleet.driver.undefine(spec.name)
        with pytest.raises(NoSuchVm):
            await fleet.driver.get_vm(spec.name)

    async def test_live_migration_moves_the_vm(self, fleet: ContractFleet) -> None:
        handle = await fleet.driver.migrate(fleet.running_vm, fleet.target_host)
        samples = [sample async for sample in handle.updates()]
        result = await handle.wait()
        assert result.outcome is MigrationOutcome.SUCCEEDED, result.reason
        assert samples and samples[-1].data_processed >= samples[0].data_processed
        assert result.data_processed > 0 and result.rounds >= 1
        moved = await fleet.driver.get_vm(fleet.running_vm)
        assert (moved.host, moved.state) == (fleet.target_host, VmState.RUNNING)

    async def test_migration_abort_leaves_the_vm_home(self, fleet: ContractFleet) -> None:
        source = (await fleet.driver.get_vm(fleet.busy_vm)).host
        handle = await fleet.driver.migrate(fleet.busy_vm, fleet.target_host)
        await fleet.advance(1.0)
        await handle.abort()
        result = await handle.wait()
        assert result.outcome is MigrationOutcome.CANCELLED
        vm = await fleet.driver.get_vm(fleet.busy_vm)
        assert (vm.host, vm.state) == (source, VmState.RUNNING)

    async def test_migration_that_cannot_converge_fails(self, fleet: ContractFleet) -> None:
        handle = await fleet.driver.migrate(fleet.busy_vm, fleet.target_host)
        result = await handle.wait()
        assert result.outcome is MigrationOutcome.FAILED
        assert result.reason

    async def test_live_migration_of_a_stopped_vm_is_refused(self, fleet: ContractFleet) -> None:
        with pytest.raises(DriverError):
            await fleet.driver.migrate(fleet.stopped_vm, fleet.target_host)

    async def test_a_partitioned_host_is_unreachable(self, fleet: ContractFleet) -> None:
        host = (await fleet.driver.get_vm(fleet.running_vm)).host
        assert host is not None
        await fleet.partition(host)
        states = {h.name: h.state for h in await fleet.driver.list_hosts()}
        assert states[host] is HostState.UNREACHABLE
        with pytest.raises(HostUnreachable):
            await fleet.driver.get_vm(fleet.running_vm)
        assert fleet.running_vm not in {vm.name for vm in await fleet.driver.list_vms()}

    async def test_events_tell_of_a_state_change(self, fleet: ContractFleet) -> None:
        events = fleet.driver.events()
        await fleet.driver.destroy(fleet.running_vm)

        async def first_about_the_vm() -> FleetEvent:
            async for event in events:
                if event.vm == fleet.running_vm:
                    return event
            raise AssertionError("the event stream ended")

        event = await asyncio.wait_for(first_about_the_vm(), timeout=10)
        assert event.message

    async def test_host_power_is_supported_or_refused_clearly(self, fleet: ContractFleet) -> None:
        try:
            await fleet.driver.power_off_host(fleet.empty_host)
        except InvalidOperation as exc:
            assert "cannot power" in str(exc)
            return
        states = {h.name: h.state for h in await fleet.driver.list_hosts()}
        assert states[fleet.empty_host] is HostState.OFF
        await fleet.driver.power_on_host(fleet.empty_host)
        states = {h.name: h.state for h in await fleet.driver.list_hosts()}
        assert states[fleet.empty_host] is HostState.UP
