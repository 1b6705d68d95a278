"""Pin reconciliation: the pins each VM has on its host (as the hypervisor says now)
against what the console holds (dedicated VMs' pins and memory binding; shared VMs kept
off dedicated and reserved CPUs), reported as drift, and repaired on request.

`check` reads only (drift found is recorded in the audit log as `host.pins-drift`);
`repair` is a change through the door (`host.pins-repair`, operator).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError
from vdctui.model import PinDrift, VmCpus
from vdctui.ops import cores
from vdctui.ops.actions import Action
from vdctui.ops.core_map import cpu_list
from vdctui.ops.errors import Failed
from vdctui.ops.handover import fleet_operation
from vdctui.ops.placement import holds_resources

if TYPE_CHECKING:
    from vdctui.ops.console import Console


def _cpus(cpus: tuple[int, ...] | list[int]) -> str:
    return cpu_list(list(cpus)) or "none"


async def _dedicated_drift(console: Console, pins: VmCpus) -> list[str]:
    """What differs between a dedicated VM's pins on its host and those held."""
    from vdctui.ops.scheduler.numa_spread import memory_nodes

    per_vcpu, emulator = await console.driver.vcpu_affinity(pins.vm)
    found: list[str] = []
    for i, cpu in enumerate(pins.vcpu_pins):
        actual = per_vcpu[i] if i < len(per_vcpu) else ()
        if actual != (cpu,):
            found.append(f"vCPU {i} may run on CPUs {_cpus(actual)}, not {cpu} alone")
    if pins.emulator_pins and tuple(sorted(emulator)) != tuple(sorted(pins.emulator_pins)):
        found.append(
            f"its emulator runs on CPUs {_cpus(emulator)}, not {_cpus(pins.emulator_pins)}"
        )
    nodes = memory_nodes(console.store.cpu_topology(pins.host or ""), pins)
    if nodes:
        bound = await console.driver.memory_binding(pins.vm)
        if bound != nodes:
            found.append(f"its memory is bound to nodes {_cpus(bound)}, not {_cpus(nodes)}")
    return found


async def _shared_drift(console: Console, vm: str, vcpus: int, allowed: set[int]) -> list[str]:
    """The vCPUs of a shared VM that may run on a dedicated or reserved CPU."""
    per_vcpu, _ = await console.driver.vcpu_affinity(vm)
    found: list[str] = []
    for i, cpus in enumerate(per_vcpu[:vcpus]):
        outside = sorted(set(cpus) - allowed)
        if outside:
            found.append(f"shared vCPU {i} may run on dedicated or reserved CPUs {_cpus(outside)}")
    return found


async def find_drift(console: Console, host: str) -> list[PinDrift]:
    """Every VM on `host` whose pins are not as held (Refused when the host's topology is
    not known). Reads only."""
    store = console.store
    cmap = cores.core_map(store, host)
    held = {c.vm: c for c in store.all_vm_cpus().values() if c.dedicated and c.host == host}
    allowed = set(cmap.shared_cpus)
    drift: list[PinDrift] = []
    for vm in store.vms(host=host):
        try:
            if vm.name in held:
                found = await _dedicated_drift(console, held[vm.name])
            elif holds_resources(vm) and cmap.owner:
                found = await _shared_drift(console, vm.name, vm.vcpus, allowed)
            else:
                continue
        except DriverError as exc:
            found = [f"its pins cannot be read ({exc})"]
        drift += [PinDrift(vm.name, host, what) for what in found]
    return drift


@fleet_operation()
async def check(console: Console, host: str) -> list[PinDrift]:
    """Drift on `host`, each recorded in the audit log."""
    console.host(host)  # an unknown host is an error
    drift = await find_drift(console, host)
    for d in drift:
        console.record_audit(Action.HOST_PINS_DRIFT, d.vm, {"host": host}, "drift", d.what)
    return drift


@fleet_operation(Action.HOST_PINS_REPAIR)
async def repair(console: Console, host: str) -> list[PinDrift]:
    """Pin again, as held, every VM of `host` found drifting (dedicated VMs re-pinned and
    their memory bound; shared VMs floated over the shared CPUs); what could not be
    repaired fails the change, named."""

    async def work() -> list[PinDrift]:
        console.host(host)
        drift = await find_drift(console, host)
        store = console.store
        vms = {d.vm for d in drift}
        held = {c.vm: c for c in store.all_vm_cpus().values() if c.dedicated and c.host == host}
        failed: list[str] = []
        for name in sorted(vms & set(held)):
            try:
                await cores.apply(console.driver, store, held[name])
            except (DriverError, Failed) as exc:
                failed.append(f"{name} ({exc})")
        if vms - set(held):
            try:
                await cores.float_shared(console.driver, store, host)
            except Failed as exc:
                failed.append(str(exc))
        if failed:
            raise Failed(f"Pins on {host} could not all be repaired: {'; '.join(failed)}")
        left = {d.vm for d in await find_drift(console, host)}
        return [PinDrift(d.vm, d.host, d.what, d.vm not in left) for d in drift]

    return await console.change(Action.HOST_PINS_REPAIR, host, {}, work)
