"""Factories of the fleets the HostDriver contract runs on: one per driver."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable

import pytest

import emulator
from tests.conftest import SMALL, host_with_room_for, make_busy, running_vm_on_shared_storage
from tests.drivers.contract import ContractFleet
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.model import VmSpec


def emulated_contract_fleet() -> ContractFleet:
    fleet = emulator.build_demo(**SMALL)
    driver = EmulatedDriver(fleet, speed=None, tick=0.5)
    running = running_vm_on_shared_storage(fleet)
    busy = running_vm_on_shared_storage(fleet, skip=(running,))
    make_busy(fleet, busy)
    stopped = next(n for n in sorted(fleet.vms) if fleet.vms[n].state == "shut off")
    spare = fleet.add_host("spare-h01", fleet.hosts[fleet.vms[running].host].rack)

    async def partition(host: str) -> None:
        fleet.partition_host(host)

    def spec_for(name: str) -> tuple[VmSpec, str]:
        template = fleet.vms[running]
        host = host_with_room_for(fleet, running)
        return VmSpec(
            name=name,
            vcpus=1,
            memory_mib=512,
            max_vcpus=2,
            max_memory_mib=1024,
            disk_gib=10,
            datastore=template.datastore,
            network=template.network,
        ), host

    return ContractFleet(
        driver=driver,
        advance=driver.advance,
        running_vm=running,
        stopped_vm=stopped,
        target_host=host_with_room_for(fleet, running, besides=(fleet.vms[busy].host,)),
        busy_vm=busy,
        partition=partition,
        spec_for=spec_for,
        empty_host=spare.name,
    )


async def ssh_contract_fleet() -> ContractFleet:
    """The same fleet as the emulated one, its hosts behind SSH on 127.0.0.1."""
    from tests.ssh.served import serve

    base = emulated_contract_fleet()
    emulated = base.driver
    assert isinstance(emulated, EmulatedDriver)
    served = await serve(emulated.fleet)
    driver = served.driver(progress_interval_s=0.05, event_poll_s=0.5)

    async def partition(host: str) -> None:
        served.fleet.partition_host(host)
        served.server.cut_off(host)

    return ContractFleet(
        driver=driver,
        advance=emulated.advance,
        running_vm=base.running_vm,
        stopped_vm=base.stopped_vm,
        target_host=base.target_host,
        busy_vm=base.busy_vm,
        partition=partition,
        spec_for=base.spec_for,
        empty_host=base.empty_host,
    )


FACTORIES = {"emulated": emulated_contract_fleet, "ssh": ssh_contract_fleet}


@pytest.fixture(params=sorted(FACTORIES))
async def fleet(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    made: ContractFleet | Awaitable[ContractFleet] = FACTORIES[request.param]()
    contract_fleet = await made if inspect.isawaitable(made) else made
    yield contract_fleet
    await contract_fleet.driver.close()
