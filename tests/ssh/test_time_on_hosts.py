"""Uptime and host CPU % over SSH, against emulated hosts that answer the same commands
(the process probe after the poll's virsh script, and `virsh nodecpustats`)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

import emulator
from tests.ssh.served import Served, serve
from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.clocks import parse_nodecpustats, parse_processes
from vdctui.model import Vm, VmState


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    fleet = emulator.build_demo(seed=3, hosts=3, vms=9)
    result = await serve(fleet)
    yield result
    await result.close()


async def test_uptime_is_read_from_the_host(served: Served) -> None:
    fleet = served.fleet
    driver = served.driver()
    try:
        vms = await driver.list_vms()
    finally:
        await driver.close()
    running = [vm for vm in vms if vm.state is VmState.RUNNING]
    assert running
    for vm in running:
        started = fleet.vms[vm.name].started_at
        assert started is not None and vm.uptime_s is not None, vm.name
        assert vm.uptime_s == pytest.approx(fleet.now - started, abs=0.02)  # clock ticks
    for vm in vms:
        if vm.state is VmState.SHUTOFF:
            assert vm.uptime_s is None


async def test_host_cpu_is_known_from_the_second_poll(served: Served) -> None:
    fleet = served.fleet
    driver = served.driver()
    try:
        first = {h.name: h for h in await driver.list_hosts()}
        assert all(h.cpu_util is None for h in first.values())  # one sample: unknown
        fleet.step(30.0)
        second = {h.name: h for h in await driver.list_hosts()}
    finally:
        await driver.close()
    for name, host in second.items():
        assert host.cpu_util == pytest.approx(fleet.host_stats(name).cpu_util, abs=1e-6), name


async def test_an_emulated_host_refuses_any_other_sequence(served: Served) -> None:
    """Only the poll's form (a virsh script, then the probe) runs; any other `;` is
    refused as the shell injection it would be."""
    driver = served.driver()
    host = driver.inventory.hosts[0]
    try:
        probe = commands.poll(host.uri, commands.Sections("00"))
        out = await driver.pool.run(host, probe)
        parts = commands.Sections("00").split(out.stdout)
        times = parse_processes(parts["processes"])
        assert times is not None and times.ticks_per_s == 100
        assert parse_nodecpustats(parts["nodecpustats"]).total_ns > 0
        for line in (
            "virsh list; touch /tmp/pwned",
            "virsh list; awk -v mark=x 'BEGIN { system(\"reboot\") }' /etc/passwd",
        ):
            out = await driver.pool.run(host, line)
            assert out.status == 127, line
        assert len(served.server.stats.injections) == 2
    finally:
        await driver.close()


async def test_uptime_holds_on_the_kept_open_virsh(served: Served) -> None:
    """A host is polled on a virsh kept open there, which runs no process probe after the
    one run as it opened: the uptimes stay right as the host's clock moves (here the emulated
    fleet's, which moves only when stepped: the probe runs again), and a VM restarted
    between two polls gets its new uptime. (Between probes an uptime moves with this
    machine's clock, which moves here while the fleet's stands still: within that.)"""
    fleet = served.fleet
    driver = served.driver(reuse_s=0.0)
    began = time.monotonic()

    def check(vms: list[Vm]) -> None:
        running = [vm for vm in vms if vm.state is VmState.RUNNING]
        assert running
        for vm in running:
            started = fleet.vms[vm.name].started_at
            assert started is not None and vm.uptime_s is not None, vm.name
            within = time.monotonic() - began + 0.05
            assert vm.uptime_s == pytest.approx(fleet.now - started, abs=within), vm.name

    hosts = len(served.inventory.hosts)
    try:
        check(await driver.list_vms())  # opens a virsh on each host, the probe before it
        asked = driver.reader.sessions.asks
        assert asked >= hosts and driver.pool.execs_done == 0
        check(await driver.list_vms())  # asked of the kept virsh, no probe
        assert driver.reader.sessions.asks == asked + hosts and driver.pool.execs_done == 0
        fleet.step(30.0)
        check(await driver.list_vms())
        restarted = next(n for n, v in sorted(fleet.vms.items()) if v.state == "running")
        fleet.destroy_vm(restarted)  # and started again: its cpu.time starts over
        fleet.step(0.01)
        fleet.start_vm(restarted)
        fleet.step(0.01)
        vms = await driver.list_vms()
        check(vms)
        within = time.monotonic() - began + 0.05
        uptime = next(vm for vm in vms if vm.name == restarted).uptime_s
        assert uptime == pytest.approx(0.01, abs=within)
        assert driver.reader.sessions.asks == asked + 3 * hosts
    finally:
        await driver.close()
