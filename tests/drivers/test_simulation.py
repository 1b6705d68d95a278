"""`HostDriver.simulation()`: the capability ops asks for the fleet's own clock and for
injected attacks (never which driver it has). The emulated driver is one; real hosts
(SSH) and a driver still connecting have none."""

from __future__ import annotations

import pytest

import emulator
from tests.ssh.served import serve
from vdctui.drivers.base import NoSuchVm
from vdctui.drivers.emulated import EmulatedDriver
from vdctui.drivers.pending import PendingDriver


async def test_the_emulated_fleet_is_a_simulation_on_its_own_clock() -> None:
    fleet = emulator.build_demo(seed=1, hosts=2, vms=4)
    driver = EmulatedDriver(fleet, speed=None, tick=0.5)
    simulation = driver.simulation()
    assert simulation is not None and simulation.fleet is fleet
    before = simulation.now()
    assert before == fleet.now
    await simulation.next_step()  # on demand: one step of `tick`
    assert simulation.now() == pytest.approx(before + 0.5)
    vm = next(v.name for v in fleet.vms.values() if v.state == "running")
    await simulation.inject_attack("port-scan", "203.0.113.9", vm)
    with pytest.raises(NoSuchVm, match="There is no VM named 'nope'"):  # a driver error
        await simulation.inject_attack("port-scan", "203.0.113.9", "nope")
    await driver.close()


async def test_real_hosts_and_a_connecting_driver_have_no_simulation() -> None:
    served = await serve(emulator.build_demo(seed=1, hosts=2, vms=4))
    driver = served.driver()
    try:
        assert driver.simulation() is None
    finally:
        await driver.close()
    assert PendingDriver().simulation() is None
