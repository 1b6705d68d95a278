"""The emulated fleet's Redfish BMCs (emulator/redfish.py): the console's real Redfish
driver reads and powers emulated hosts through them, and fences one to restart its VMs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

import emulator
from emulator.redfish import BmcFiles, FleetRedfish
from emulator.sshd import FleetSshServer, SshFiles, write_inventory
from vdctui.backend_ssh import ssh_console
from vdctui.drivers.bmc import BmcClient, BmcConfig, BmcError
from vdctui.model import HostState
from vdctui.ops import Console
from vdctui.ops.ha import fence, restart_vms_of
from vdctui.ops.power import power


@dataclass
class Emulated:
    fleet: emulator.Fleet
    bmcs: FleetRedfish
    console: Console


@pytest.fixture
async def emulated(tmp_path: Path) -> AsyncIterator[Emulated]:
    fleet = emulator.build_demo(seed=7, hosts=4, vms=12)
    files = SshFiles(tmp_path / "keys")
    server = FleetSshServer(fleet, [files.client_key()])
    await server.start()
    bmcs = FleetRedfish(fleet, BmcFiles(tmp_path / "keys" / "bmc"))
    await bmcs.start(sorted(fleet.hosts))
    inventory = tmp_path / "inv.toml"
    write_inventory(inventory, fleet, server, files, bmcs=bmcs)
    console = ssh_console(tmp_path / "c.db", inventory)
    try:
        await console.sync()
        yield Emulated(fleet, bmcs, console)
    finally:
        await console.close()
        await bmcs.close()
        await server.close()


def config(bmcs: FleetRedfish, host: str) -> BmcConfig:
    url = f"https://127.0.0.1:{bmcs.endpoints[host]}"
    return BmcConfig(url, "admin", bmcs.files.password_file, ca=bmcs.files.ca)


def busiest(fleet: emulator.Fleet) -> str:
    return max(sorted(fleet.hosts), key=lambda h: len(fleet.hosts[h].vm_names))


async def test_power_state_health_and_watts_from_the_emulators_power_model(
    emulated: Emulated,
) -> None:
    for host in emulated.console.hosts():
        assert (host.power_state, host.health) == ("On", "OK")
        drawn = emulated.fleet.host_stats(host.name).power_watts
        assert host.power_watts is not None and abs(host.power_watts - drawn) <= 1.0


async def test_fence_a_silent_host_through_its_bmc_then_restart_its_vms(
    emulated: Emulated,
) -> None:
    fleet, console = emulated.fleet, emulated.console
    host = busiest(fleet)
    running = [n for n in fleet.hosts[host].vm_names if fleet.vms[n].state == "running"]
    fleet.partition_host(host)  # SSH silent; its BMC still answers
    await console.sync()
    assert console.host(host).state is HostState.UNREACHABLE
    assert console.host(host).power_state == "On"  # it may still run its VMs
    how = await fence(console, host)
    assert "reports the power Off" in how and fleet.hosts[host].state == "off"
    assert console.host(host).state is HostState.OFF
    outcomes = await restart_vms_of(console, host)
    moved = {o.vm: o.target for o in outcomes if o.target}
    assert running and set(moved) == set(running), outcomes
    for name, target in moved.items():
        assert fleet.vms[name].host == target != host and fleet.vms[name].state == "running"


async def test_power_off_on_and_cycle_act_on_the_emulated_host(emulated: Emulated) -> None:
    fleet, console = emulated.fleet, emulated.console
    host = busiest(fleet)
    await power(console, host, "off", force=True)
    assert fleet.hosts[host].state == "off"
    await console.sync()
    seen = console.host(host)
    assert (seen.state, seen.power_state, seen.power_watts) == (HostState.OFF, "Off", 0.0)
    await power(console, host, "on")
    assert fleet.hosts[host].state == "up"
    vm = next(n for n in fleet.hosts[host].vm_names)
    fleet.start_vm(vm) if fleet.vms[vm].state != "running" else None
    await power(console, host, "cycle")
    assert fleet.hosts[host].state == "up" and fleet.vms[vm].state == "shut off"


async def test_the_bmc_refuses_a_wrong_password_and_a_bad_reset(
    emulated: Emulated, tmp_path: Path
) -> None:
    bmcs = emulated.bmcs
    host = sorted(emulated.fleet.hosts)[0]
    wrong = tmp_path / "wrong"
    wrong.write_text("nope\n")
    with pytest.raises(BmcError, match="refused user 'admin'"):
        await BmcClient(replace(config(bmcs, host), password_file=wrong)).open()
    untrusted = replace(config(bmcs, host), ca=None)  # the system's CAs do not know it
    with pytest.raises(BmcError, match="certificate that is not trusted"):
        await BmcClient(untrusted).open()
    async with BmcClient(config(bmcs, host)) as bmc:
        emulated.fleet.crash_host(host)
        assert (await bmc.reading()).health == "Critical"  # crashed, still powered
        response = await bmc._send("POST", bmc.system_path + "/Actions/ComputerSystem.Reset",
                                   json={"ResetType": "Explode"})  # fmt: skip
        assert response.status_code == 400
        assert emulated.fleet.hosts[host].state == "crashed"
