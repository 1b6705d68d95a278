"""The emulated hosts answer like the real ones: one list of commands run against a lab host
and an emulated host (both over SSH, through the driver's own pool), their parsed results
compared field by field. Values differ; fields and formats must not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import fields
from typing import Any

import pytest

import emulator
from tests.conftest import host_with_room_for, running_vm_on_shared_storage
from tests.lab.conftest import Guests
from tests.lab.hosts import host_ip
from tests.lab.lab import Lab
from tests.ssh.served import Served, serve
from vdctui.drivers.ssh import SshDriver, commands
from vdctui.drivers.ssh.clocks import parse_nodecpustats, parse_processes
from vdctui.drivers.ssh.events import event_command, parse_event
from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.parsers import (
    parse_domiflist,
    parse_dominfo,
    parse_domstats,
    parse_jobinfo,
    parse_names,
    parse_nodeinfo,
    parse_nodememstats,
)
from vdctui.drivers.ssh.session import VirshSession

# what the driver reads of `domstats --raw` for a running VM
DOMSTATS_KEYS = {
    "state.state", "state.reason", "cpu.time", "balloon.current", "balloon.maximum",
    "balloon.rss", "vcpu.current", "vcpu.maximum", "net.count", "block.count",
}  # fmt: skip
# what the driver reads of a completed job (`domjobinfo --completed --rawstats`); real
# libvirt leaves out memory_bps when a copy was too short to measure it
JOB_KEYS = {
    "operation", "time_elapsed", "downtime", "data_total", "data_processed",
    "data_remaining", "memory_dirty_rate", "memory_iteration",
}  # fmt: skip


def colon_keys(text: str) -> set[str]:
    return {line.partition(":")[0].strip() for line in text.splitlines() if ":" in line}


PARSED: list[tuple[str, Callable[[str], Any]]] = [
    ("nodeinfo", lambda t: {f.name for f in fields(parse_nodeinfo(t))} | colon_keys(t)),
    ("nodememstats", lambda t: (parse_nodememstats(t) > 0, colon_keys(t))),
    ("nodecpustats", lambda t: (parse_nodecpustats(t).total_ns > 0, colon_keys(t))),
    ("list --all --name", lambda t: len(parse_names(t)) >= 1),
    ("list --all --name --persistent", lambda t: len(parse_names(t)) >= 1),
    ("list --all --name --autostart", lambda t: parse_names(t)),
    ("domstats --raw VM", lambda t: set(parse_domstats(t)[0].fields) >= DOMSTATS_KEYS),
    ("dominfo VM", lambda t: colon_keys(t) - {"Messages"}),
    ("dominfo VM (parsed)", lambda t: parse_dominfo(t).cpu_time_s is not None),
    (
        "domiflist VM",
        lambda t: [(n.name[:4], n.model, len(n.mac.split(":"))) for n in parse_domiflist(t)],
    ),
    ("domstate --reason VM", lambda t: t.strip().startswith("running (") and t.strip()[-1]),
    ("domjobinfo --rawstats VM", lambda t: (parse_jobinfo(t).job_type, parse_jobinfo(t).fields)),
]
COMMANDS = {
    "nodeinfo": ["nodeinfo"],
    "nodememstats": ["nodememstats"],
    "nodecpustats": ["nodecpustats"],
    "list --all --name": ["list", "--all", "--name"],
    "list --all --name --persistent": ["list", "--all", "--name", "--persistent"],
    "list --all --name --autostart": ["list", "--all", "--name", "--autostart"],
    "domstats --raw VM": ["domstats", "--raw", "VM"],
    "dominfo VM": ["dominfo", "--domain", "VM"],
    "dominfo VM (parsed)": ["dominfo", "--domain", "VM"],
    "domiflist VM": ["domiflist", "--domain", "VM"],
    "domstate --reason VM": ["domstate", "--domain", "VM", "--reason"],
    "domjobinfo --rawstats VM": ["domjobinfo", "--domain", "VM", "--rawstats"],
}


@pytest.fixture
async def emulated() -> AsyncIterator[Served]:
    fleet = emulator.build_demo(seed=5, hosts=3, vms=6)
    served = await serve(fleet)
    yield served
    await served.close()


async def answers(driver: SshDriver, host: InventoryHost, vm: str) -> dict[str, Any]:
    found = {}
    for label, parse in PARSED:
        argv = [vm if word == "VM" else word for word in COMMANDS[label]]
        out = await driver.pool.run(host, commands.virsh(host.uri, *argv))
        assert out.status == 0, (label, out.stderr)
        found[label] = parse(out.stdout)
    return found


async def test_same_commands_same_fields(
    lab: Lab, lab_driver: SshDriver, guests: Guests, emulated: Served
) -> None:
    lab_vm = guests.define("parity-one", 1)
    fleet = emulated.fleet
    emu_vm = running_vm_on_shared_storage(fleet)
    emu_driver = emulated.driver()
    try:
        real = await answers(lab_driver, lab_driver.inventory.hosts[0], lab_vm)
        emu_host = emu_driver.inventory.host(fleet.vms[emu_vm].host)
        assert emu_host is not None
        fake = await answers(emu_driver, emu_host, emu_vm)
        for label, _ in PARSED:
            assert fake[label] == real[label], label

        # a migration's completed job, read on its target; and the event lines it makes
        lab.virsh(1, "migrate", "--live", "--persistent", "--undefinesource", "--p2p",
                  lab_vm, f"qemu+ssh://root@{host_ip(2)}/system")  # fmt: skip
        target = host_with_room_for(fleet, emu_vm)
        result = await (await emu_driver.migrate(emu_vm, target)).wait()
        assert result.outcome.value == "succeeded", result.reason
        jobs = []
        for driver, host, vm in (
            (lab_driver, lab_driver.inventory.hosts[1], lab_vm),
            (emu_driver, emu_driver.inventory.host(target), emu_vm),
        ):
            assert host is not None
            out = await driver.pool.run(host, commands.domjobinfo(host.uri, vm, completed=True))
            job = parse_jobinfo(out.stdout)
            jobs.append((job.job_type, set(job.fields) >= JOB_KEYS, job.fields["operation"]))
        assert jobs[0] == jobs[1] == (3, True, "4")  # completed, incoming
    finally:
        await emu_driver.close()


async def test_same_event_lines(
    lab: Lab, lab_driver: SshDriver, guests: Guests, emulated: Served
) -> None:
    fleet = emulated.fleet
    emu_vm = running_vm_on_shared_storage(fleet)
    emu_driver = emulated.driver()
    lab_vm = guests.define("parity-ev", 2)
    try:
        seen = []
        for driver, host, stop in (
            (lab_driver, lab_driver.inventory.hosts[1], lambda: lab.virsh(2, "destroy", lab_vm)),
            (emu_driver, emu_driver.inventory.host(fleet.vms[emu_vm].host),
             lambda: fleet.destroy_vm(emu_vm)),
        ):  # fmt: skip
            assert host is not None
            lines = driver.pool.lines(host, event_command(host.uri), stop)
            event = None
            while event is None or event.detail != "Stopped Destroyed":
                event = parse_event(host.name, await anext(lines))
            await lines.aclose()  # type: ignore[attr-defined]
            seen.append((event.kind, event.detail, event.ts is not None))
        assert seen[0] == seen[1] == ("lifecycle", "Stopped Destroyed", True)
    finally:
        await emu_driver.close()


async def test_same_poll_with_the_process_probe(
    lab: Lab, lab_driver: SshDriver, guests: Guests, emulated: Served
) -> None:
    """The poll as the driver sends it (a virsh script, then the process probe for each
    VM's uptime): the same sections, and the probe read the same way on both."""
    lab_vm = guests.define("parity-poll", 3)
    fleet = emulated.fleet
    emu_vm = running_vm_on_shared_storage(fleet)
    emu_driver = emulated.driver()
    try:
        found = []
        for driver, host, vm in (
            (lab_driver, lab_driver.inventory.hosts[2], lab_vm),
            (emu_driver, emu_driver.inventory.host(fleet.vms[emu_vm].host), emu_vm),
        ):
            assert host is not None
            sections = commands.Sections()
            out = await driver.pool.run(host, commands.poll(host.uri, sections))
            parts = sections.split(out.stdout)
            probe = parse_processes(parts["processes"])
            assert probe is not None, out.stdout[-400:]
            assert probe.uptime_of("driver") is None  # libvirtd's own pidfile, skipped
            uptime = probe.uptime_of(vm)
            found.append(
                (
                    sorted(parts),
                    probe.ticks_per_s,
                    uptime is not None and uptime >= 0,
                    colon_keys(parts["nodecpustats"]),
                )
            )
        assert found[0] == found[1]
    finally:
        await emu_driver.close()


async def test_same_interactive_virsh(
    lab: Lab, lab_driver: SshDriver, guests: Guests, emulated: Served
) -> None:
    """A migration's progress is read on an interactive virsh (`VirshSession`): the same
    asks give the same fields on a lab host and an emulated one."""
    lab_vm = guests.define("parity-ask", 1)
    fleet = emulated.fleet
    emu_vm = running_vm_on_shared_storage(fleet)
    emu_driver = emulated.driver()
    try:
        found = []
        for driver, host, vm in (
            (lab_driver, lab_driver.inventory.hosts[0], lab_vm),
            (emu_driver, emu_driver.inventory.host(fleet.vms[emu_vm].host), emu_vm),
        ):
            assert host is not None
            session = VirshSession(driver.pool, host)
            try:
                await session.open()
                job = parse_jobinfo(await session.ask(commands.domjobinfo_args(vm)))
                state = (await session.ask(commands.domstate_args(vm))).strip()
                missing = await session.ask(commands.domstate_args(f"{vm}-none"))
                echoed = await session.ask(["echo", "one two"])
            finally:
                await session.close()
            found.append((job.job_type, job.fields, state, missing.strip(), echoed))
        assert found[0] == found[1] == (0, {}, "running (booted)", "", "one two\n")
    finally:
        await emu_driver.close()
