"""The CPUs a host keeps for itself (its logical partition), named by the operator:
checked (the host has them, no dedicated VM holds them, some CPU is left for VMs), then
the dedicated VMs' emulator threads move onto them and the shared VMs off them.

On a real host the list is the console's own: no VM's vCPU is pinned there and QEMU's
threads are; the host's kernel is not told (isolcpus, systemd CPUAffinity).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from vdctui.model import CpuTopology
from vdctui.ops import cores
from vdctui.ops.actions import Action
from vdctui.ops.core_map import cpu_list
from vdctui.ops.errors import Refused
from vdctui.ops.handover import fleet_operation

if TYPE_CHECKING:
    from vdctui.ops.console import Console

MAX_CPU = 65535


def parse_cpus(text: str) -> tuple[int, ...]:
    """`0-1,8` -> (0, 1, 8); `none` -> (); anything else is Refused, said in one sentence."""
    text = text.strip()
    if text.lower() == "none":
        return ()
    cpus: set[int] = set()
    for part in text.split(","):
        low, sep, high = part.strip().partition("-")
        if not low.isdigit() or (sep and not high.isdigit()):
            raise Refused(f"Not a CPU list: {text[:40]!r} (e.g. 0-1,8, or none).")
        first, last = int(low), int(high) if sep else int(low)
        if not first <= last <= MAX_CPU:
            raise Refused(f"Not a CPU list: {text[:40]!r} (e.g. 0-1,8, or none).")
        cpus.update(range(first, last + 1))
    return tuple(sorted(cpus))


def check(topology: CpuTopology, cpus: tuple[int, ...], taken: dict[int, str]) -> None:
    """Refused unless `cpus` may be the host's reserved CPUs."""
    host = topology.host
    every = set(topology.cpus)
    missing = sorted(set(cpus) - every)
    if missing:
        raise Refused(
            f"Host {host} has no CPU {missing[0]} (it has CPUs {cpu_list(sorted(every))})."
        )
    held = sorted(set(cpus) & set(taken))
    if held:
        raise Refused(
            f"CPU {held[0]} of host {host} is held by dedicated VM {taken[held[0]]}: "
            "move it or make it shared first."
        )
    if len(set(cpus)) >= len(every):
        raise Refused(f"Host {host} would keep all its {len(every)} CPUs for itself.")


@fleet_operation(Action.HOST_RESERVE_CPUS)
async def reserve_cpus(console: Console, host: str, wanted: tuple[int, ...] | str) -> CpuTopology:
    """Make `wanted` (CPUs, or a list as an operator typed it) the CPUs `host` keeps for
    itself (an admin's change, audited; bad input is refused there too)."""
    store = console.store
    known = store.cpu_topology(host)
    said = wanted if isinstance(wanted, str) else cpu_list(wanted) or "none"
    params = {"cpus": said[:80], "before": cpu_list(known.reserved) if known else None}

    async def work() -> CpuTopology:
        cpus = parse_cpus(wanted) if isinstance(wanted, str) else wanted
        console.host(host)  # an unknown host is an error
        topology = store.cpu_topology(host)
        if topology is None:
            raise Refused(f"The CPU topology of host {host} is not known yet.")
        check(topology, cpus, cores.core_map(store, host).owner)
        await console.driver.set_reserved_cpus(host, cpus)
        changed = replace(topology, reserved=cpus)
        store.set_cpu_topologies([changed])
        for pins in cores.ledger(store).on_host(host):  # QEMU's threads onto the new ones
            await cores.apply(
                console.driver, store, replace(pins, emulator_pins=cpus or pins.vcpu_pins)
            )
        await cores.float_shared(console.driver, store, host)
        return changed

    return await console.change(Action.HOST_RESERVE_CPUS, host, params, work)
