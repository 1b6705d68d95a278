"""The balancer's power goal on real lab hosts, through their Redfish BMCs (sushy-tools, whose
power changes really cut and restore the host: tests/lab/power_relay.py): it powers empty
hosts off, then, when load rises on the host left, powers one back on, waits until it
answers, and moves VMs onto it, checked with plain virsh on every host."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.lab.conftest import Guests
from tests.lab.hosts import DAEMONS, alive
from tests.lab.inventory import inventory_text
from tests.lab.lab import Lab
from vdctui.backend_ssh import ssh_console
from vdctui.model import HostState
from vdctui.ops import Console
from vdctui.ops.balancing import apply_moves, recommendations
from vdctui.ops.power import power

# Each lab host offers the console one CPU (the machine's others are "reserved"), so that two
# busy guests are a load rise however loaded the shared machine is.
RESERVED_CPUS = 1
# While the busy guests' load is measured, their host's CPU cgroup weighs this many times
# the default against the shared machine's other processes, so that they get the CPU they
# ask for (back to the default once the plan is made).
BUSY_SHARES = 8


@pytest.fixture
async def bmc_console(lab: Lab, tmp_path: Path) -> AsyncIterator[Console]:
    text = inventory_text(lab, "p2p", bmc=True).replace(
        'migration = "p2p"', f'migration = "p2p"\nreserved_cpus = {RESERVED_CPUS}'
    )
    inventory = tmp_path / "lab.toml"
    inventory.write_text(text)
    console = ssh_console(tmp_path / "console.db", inventory)
    try:
        await console.sync()
        yield console
    finally:
        await _all_back_on(lab, console)
        await console.close()


async def _all_back_on(lab: Lab, console: Console) -> None:
    """Every lab host the test left off is powered on through its BMC and answers again."""
    await console.sync()
    for host in console.hosts():
        if host.state is not HostState.UP:
            with contextlib.suppress(Exception):
                await power(console, host.name, "on")
            number = int(host.name.removeprefix("labh"))
            deadline = time.monotonic() + 60  # the BMC applies it 1-11 s later
            while not all(alive(lab.host(number).pid(d)) for d in DAEMONS):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            lab.revive_host(number)  # returns once libvirtd and sshd answer


def _weigh(lab: Lab, host: int, times: int) -> None:
    """The host's CPU cgroup weighs `times` the default (cgroup v1 cpu.shares, or v2
    cpu.weight), against the other processes of the machine."""
    for cg in lab.host(host).cgroups:
        for knob, default in (("cpu.shares", 1024), ("cpu.weight", 100)):
            with contextlib.suppress(OSError):
                if (cg / knob).exists():
                    (cg / knob).write_text(str(default * times))


async def _measured(console: Console, until: Callable[[], bool], within_s: float = 120) -> None:
    """Sync every 2 s until `until()` holds (a VM's CPU % needs two samples; a guest that is
    still booting on the loaded machine is busy for a while), or `within_s` passes."""
    deadline = time.monotonic() + within_s
    await console.sync()
    while True:
        await asyncio.sleep(2.0)
        await console.sync()
        if until() or time.monotonic() > deadline:
            return


def _running(lab: Lab) -> dict[int, list[str]]:
    """What `virsh list` runs on each lab host that answers (a host powered off runs none)."""
    found = {}
    for host in lab.hosts():
        listed = lab.virsh(host.number, "list", "--name", check=False)
        found[host.number] = listed.stdout.split() if listed.returncode == 0 else []
    return found


async def test_the_balancer_powers_an_empty_host_off_and_wakes_it_when_load_rises(
    lab: Lab, guests: Guests, bmc_console: Console
) -> None:
    console = bmc_console
    quiet = [guests.define("bal-q1", 1), guests.define("bal-q2", 2)]

    def idle() -> bool:  # booted: halted, next to no CPU
        return all(v.cpu_util is not None and v.cpu_util < 0.05 for v in console.vms())

    await _measured(console, idle)

    # quiet: one guest joins the other, the host it leaves and the empty labh3 are powered
    # off through their BMCs
    rec = recommendations(console, threshold=1, goal="power")
    assert len(rec.moves) == 1, (rec, [(v.name, v.host, v.cpu_util) for v in console.vms()])
    [move] = rec.moves
    assert "labh3" in rec.power_off and set(rec.power_off) == {"labh3", move.source}, rec
    kept = move.target
    applied = await apply_moves(console, rec)
    assert applied.done == applied.steps, applied.lines
    for name in rec.power_off:  # really off: the relay cut its daemons when sushy said Off
        n = int(name.removeprefix("labh"))
        assert not any(alive(lab.host(n).pid(d)) for d in DAEMONS)
        assert console.host(name).state is HostState.OFF
        assert console.store.power_offs()[name].by == "balancer"
    assert sorted(_running(lab)[int(kept.removeprefix("labh"))]) == sorted(quiet)

    # load rises on the host left: two busy guests arrive
    n_kept = int(kept.removeprefix("labh"))
    busy = [guests.define(f"bal-busy{i}", n_kept, spin=True) for i in (1, 2)]
    _weigh(lab, n_kept, BUSY_SHARES)

    def overloaded() -> bool:
        return bool(recommendations(console, threshold=1, goal="power").power_on)

    await _measured(console, overloaded)
    rec = recommendations(console, threshold=1, goal="power")
    _weigh(lab, n_kept, 1)
    loads = [(v.name, v.host, v.cpu_util) for v in console.vms()]
    assert rec.power_on and set(rec.power_on) <= {"labh1", "labh2", "labh3"} - {kept}, (rec, loads)
    onto = {m.vm: m.target for m in rec.moves if m.target in rec.power_on}
    assert onto, rec
    started = time.monotonic()
    applied = await apply_moves(console, rec)
    print(f"\nwake and moves: {time.monotonic() - started:.1f}s: {applied.lines}")
    assert applied.done == applied.steps, applied.lines
    for host in rec.power_on:
        assert f"{host} powered on (balancer) and answers" in applied.lines
        assert console.host(host).state is HostState.UP
        assert host not in console.store.power_offs()
    running = _running(lab)
    for vm, host in onto.items():  # virsh on the woken host runs it
        assert vm in running[int(host.removeprefix("labh"))], (vm, host, running)
    for vm in [*quiet, *busy]:  # and every VM runs exactly once
        assert sum(vm in names for names in running.values()) == 1, (vm, running)
    woke = console.audit(action="host.power-on")
    assert sorted((r.target, r.result) for r in woke) == [(h, "ok") for h in sorted(rec.power_on)]
    assert all(r.params == {"reason": "balancer-wake"} for r in woke)
