"""Facts and figures on real hosts, each checked against what plain virsh says on the host."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from tests.lab.conftest import Guests, run_cli
from tests.lab.lab import Lab
from vdctui.drivers.ssh import SshDriver, commands
from vdctui.drivers.ssh.parsers import (
    parse_domiflist,
    parse_domstats,
    parse_names,
    parse_nodeinfo,
)
from vdctui.model import Disk, HostState, Vm, VmState


def kib_field(text: str, key: str) -> int:
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == key:
            return int(value.split()[0])
    raise AssertionError(f"no {key} in {text!r}")


async def test_host_facts_come_from_the_host(lab: Lab, lab_driver: SshDriver) -> None:
    hosts = {h.name: h for h in await lab_driver.list_hosts()}
    for host in lab.hosts():
        seen = hosts[host.name]
        node = parse_nodeinfo(lab.virsh(host.number, "nodeinfo").stdout)
        total_kib = kib_field(lab.virsh(host.number, "nodememstats").stdout, "total")
        assert seen.state is HostState.UP, seen.reason
        assert seen.memory_mib == total_kib // 1024  # the machine's, not one NUMA node's
        assert seen.cpus == node.cpus and seen.mhz == node.mhz
        assert seen.model == node.model
        assert seen.power_watts is None  # no BMC: unknown, never 0


async def test_vm_figures_match_virsh(lab: Lab, lab_driver: SshDriver, guests: Guests) -> None:
    guests.define("facts-run", 1, memory_mib=96, max_memory_mib=128, disk=True)
    guests.define("facts-off", 1, start=False)
    lab.virsh(1, "autostart", "facts-off")
    vms = {vm.name: vm for vm in await lab_driver.list_vms("labh1")}
    run, off = vms["facts-run"], vms["facts-off"]
    stats = parse_domstats(lab.virsh(1, "domstats", "--raw", "facts-run").stdout)[0]
    nics = parse_domiflist(lab.virsh(1, "domiflist", "facts-run").stdout)

    assert (run.state, run.state_reason) == (VmState.RUNNING, "booted")
    assert (run.vcpus, run.max_vcpus) == (1, 4)
    # the guest has no balloon driver: it holds what it booted with, and libvirt says so
    assert run.memory_mib == (stats.get_int("balloon.current") or 0) // 1024
    assert run.max_memory_mib == 128
    rss_mib = (stats.get_int("balloon.rss") or 0) // 1024
    assert run.memory_used_mib is not None and abs(run.memory_used_mib - rss_mib) <= 8
    assert run.nics == nics and nics[0].kind == "bridge" and nics[0].source == "br0"
    assert nics[0].name.startswith("vnet") and nics[0].mac.startswith("52:54:00:")
    image = str(lab.images / "disk-facts-run.img")
    assert run.disks == (Disk("vda", image, 1 << 20),)
    assert (run.persistent, run.autostart) == (True, False)
    assert run.uptime_s is not None  # QEMU's process start (test_uptime_is_qemus_own)
    assert run.cpu_util is None  # one sample is no measurement

    assert (off.state, off.state_reason) == (VmState.SHUTOFF, "unknown")
    assert (off.persistent, off.autostart) == (True, True)
    assert off.memory_used_mib is None
    assert off.uptime_s is None  # nothing runs: no uptime to tell
    assert off.nics[0].name == "-" and off.nics[0].source == "br0"


def cpu_seconds(lab: Lab, name: str) -> tuple[float, float]:
    """(cpu.time in s, wall clock) read directly on labh1."""
    before = time.monotonic()
    stats = parse_domstats(lab.virsh(1, "domstats", "--raw", "--cpu-total", name).stdout)[0]
    at = (before + time.monotonic()) / 2
    return (stats.get_int("cpu.time") or 0) / 1e9, at


async def test_cpu_percent_is_cpu_time_over_wall_time(
    lab: Lab, lab_driver: SshDriver, guests: Guests
) -> None:
    guests.define("cpu-idle", 1)
    guests.define("cpu-busy", 1, spin=True)
    meter = lab_driver.reader.cpu
    first = {vm.name: vm for vm in await lab_driver.list_vms("labh1")}
    own = {name: cpu_seconds(lab, name) for name in ("cpu-idle", "cpu-busy")}
    assert first["cpu-idle"].cpu_util is None and first["cpu-busy"].cpu_util is None
    # samples closer than the meter's interval would measure SSH latency, not the guest:
    # still unknown (the interval made long here, so that a slow poll cannot pass it)
    meter.min_interval_s, interval = 3600.0, meter.min_interval_s
    again = {vm.name: vm for vm in await lab_driver.list_vms("labh1")}
    assert again["cpu-busy"].cpu_util is None
    meter.min_interval_s = interval
    await asyncio.sleep(2.0)
    measured = {vm.name: vm for vm in await lab_driver.list_vms("labh1")}
    for name, (cpu0, at0) in own.items():
        cpu1, at1 = cpu_seconds(lab, name)
        mine = (cpu1 - cpu0) / (at1 - at0)
        theirs = measured[name].cpu_util
        assert theirs is not None, name
        assert abs(theirs - mine) < 0.2, (name, theirs, mine)
    # the spinning guest is busy, as busy as a shared machine lets it be
    assert (measured["cpu-busy"].cpu_util or 0) > 0.05
    lab.virsh(1, "destroy", "cpu-busy")


def test_cli_shows_unknown_as_unknown(lab_inventory: Path, guests: Guests, tmp_path: Path) -> None:
    guests.define("cli-facts", 2)
    db = tmp_path / "console.db"
    listed = run_cli(lab_inventory, db, "--json", "vm", "list", "--host", "labh2")
    assert listed.returncode == 0, listed.stderr
    vm = next(v for v in json.loads(listed.stdout) if v["name"] == "cli-facts")
    assert vm["cpu_util"] is None  # one poll: nothing measured yet
    assert vm["uptime_s"] is not None and vm["uptime_s"] >= 0  # read from QEMU's process
    assert vm["nics"][0]["source"] == "br0" and vm["persistent"] is True
    table = run_cli(lab_inventory, db, "vm", "list", "--host", "labh2")
    row = next(line for line in table.stdout.splitlines() if line.startswith("cli-facts"))
    assert row.split()[-2] == "—"  # CPU%: unknown, not 0
    assert row.split()[-1] != "—"  # UPTIME: known
    hosts = json.loads(run_cli(lab_inventory, db, "--json", "host", "list").stdout)
    assert all(h["power_watts"] is None for h in hosts)


def qemu_elapsed_s(lab: Lab, host: int, name: str) -> int:
    """How long the VM's QEMU has run, as `ps` on the host says (whole seconds)."""
    pid = lab.run(host, "cat", f"/run/libvirt/qemu/{name}.pid").stdout.strip()
    return int(lab.run(host, "ps", "-o", "etimes=", "-p", pid).stdout.strip())


async def test_uptime_is_qemus_own(lab: Lab, lab_driver: SshDriver, guests: Guests) -> None:
    guests.define("up-old", 2)
    await asyncio.sleep(3.0)  # an uptime worth telling apart from a fresh one
    guests.define("up-new", 2)
    guests.define("up-off", 2, start=False)
    before = {n: qemu_elapsed_s(lab, 2, n) for n in ("up-old", "up-new")}
    vms = {vm.name: vm for vm in await lab_driver.list_vms("labh2")}
    after = {n: qemu_elapsed_s(lab, 2, n) for n in ("up-old", "up-new")}
    for name in ("up-old", "up-new"):
        uptime = vms[name].uptime_s
        assert uptime is not None, name
        # ps truncates to whole seconds; our read came between its two answers
        assert before[name] - 1 <= uptime <= after[name] + 1, (name, before, uptime, after)
    assert (vms["up-old"].uptime_s or 0) > (vms["up-new"].uptime_s or 0)
    assert vms["up-off"].uptime_s is None
    lab.virsh(2, "destroy", "up-old")
    lab.virsh(2, "start", "up-old")  # a new QEMU: its uptime starts again
    again = {vm.name: vm for vm in await lab_driver.list_vms("labh2")}
    assert (again["up-old"].uptime_s or 0) < (again["up-new"].uptime_s or 0)


async def test_a_kept_open_virsh_polls_as_an_exec_does(
    lab: Lab, lab_driver: SshDriver, guests: Guests
) -> None:
    """Polls are lines asked of a real interactive virsh kept open on the host (on a pipe:
    its banner, prompt and echo; the first opened just after the process probe, on one
    channel): they read the same VMs and figures as an exec of the poll does."""
    guests.define("kept-run", 2, disk=True)
    guests.define("kept-off", 2, start=False)
    host = lab_driver.inventory.host("labh2")
    assert host is not None
    sections = commands.Sections()
    out = await lab_driver.pool.run(host, commands.poll(host.uri, sections))  # as an exec
    listed = parse_names(sections.split(out.stdout)["list"])
    sessions = lab_driver.reader.sessions
    first = {vm.name: vm for vm in await lab_driver.list_vms("labh2")}  # opens the virsh
    assert sorted(first) == sorted(listed)
    asked = sessions.asks
    second = {vm.name: vm for vm in await lab_driver.list_vms("labh2")}
    assert sessions.asks == asked + 1  # on the kept virsh
    third = {vm.name: vm for vm in await lab_driver.list_vms("labh2")}
    assert sessions.asks == asked + 2
    for polled in (second, third):
        assert polled.keys() == first.keys()
        for name, vm in first.items():
            again = polled[name]
            same = ("state", "vcpus", "memory_mib", "persistent", "autostart", "nics", "disks")
            for field in same:
                assert getattr(again, field) == getattr(vm, field), (name, field)
            if vm.uptime_s is None:
                assert again.uptime_s is None, name
            else:
                assert again.uptime_s is not None and again.uptime_s >= vm.uptime_s, name
    assert first["kept-run"].uptime_s is not None and first["kept-off"].uptime_s is None


async def test_host_cpu_is_known_from_the_second_poll(lab: Lab, lab_driver: SshDriver) -> None:
    first = await lab_driver.list_hosts()
    assert all(h.cpu_util is None for h in first)  # one nodecpustats sample: unknown
    await asyncio.sleep(1.0)
    second = await lab_driver.list_hosts()
    for host in second:
        assert host.cpu_util is not None and 0.0 <= host.cpu_util <= 1.0, host.name


def vm_named(vms: list[Vm], name: str) -> Vm:
    return next(vm for vm in vms if vm.name == name)
