"""Where a VM may run: capacity checks and first-fit placement.

The real scheduler (filters and weighers) is a later piece of work; this is
the simple rule it will replace: hosts that are up, in name order, the first
one with room after overcommit ratios and the hypervisor's reserve.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from vdctui.frozen import frozen
from vdctui.model import Host, HostState, Pool, Vm, VmState

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# a figure for one host, or the same figure for every host of the scheduler's arrays
Figure = TypeVar("Figure", float, "npt.NDArray[np.float64]")

DEFAULT_CPU_OVERCOMMIT = 4.0
DEFAULT_MEMORY_OVERCOMMIT = 1.0


@frozen
class Ratios:
    cpu: float = DEFAULT_CPU_OVERCOMMIT
    memory: float = DEFAULT_MEMORY_OVERCOMMIT

    @classmethod
    def of(cls, pool: Pool | None) -> Ratios:
        return cls(pool.cpu_overcommit, pool.memory_overcommit) if pool else cls()


@frozen
class Allocation:
    """What the VMs on one host hold (shut-off VMs hold nothing)."""

    vcpus: int = 0
    memory_mib: int = 0

    def plus(self, vcpus: int, memory_mib: int) -> Allocation:
        return Allocation(self.vcpus + vcpus, self.memory_mib + memory_mib)


def vcpus_free(cpus: Figure, held_vcpus: Figure, overcommit: float) -> Figure:
    """The vCPUs a host can still take: its CPUs (those shared vCPUs float over) times a
    pool's vCPU overcommit, less the vCPUs it holds. The one rule of the vCPU overcommit,
    for placement, the scheduler (over all hosts at once), pre-flight and the balancer."""
    return cpus * overcommit - held_vcpus


def holds_resources(vm: Vm) -> bool:
    return vm.state is not VmState.SHUTOFF


def allocations(vms: Iterable[Vm]) -> dict[str, Allocation]:
    result: dict[str, Allocation] = {}
    for vm in vms:
        if vm.host and holds_resources(vm):
            result[vm.host] = result.get(vm.host, Allocation()).plus(vm.vcpus, vm.memory_mib)
    return result


def why_not_fits(
    host: Host, held: Allocation, vcpus: int, memory_mib: int, ratios: Ratios
) -> str | None:
    """None when `vcpus`/`memory_mib` more fit on `host`, else the reason in one clause."""
    if host.state is not HostState.UP:
        return f"host {host.name} is {host.state}"
    free = vcpus_free(float(host.usable_cpus), float(held.vcpus), ratios.cpu)
    if free < vcpus:
        return (
            f"host {host.name} has {free:g} of {host.usable_cpus * ratios.cpu:g} vCPUs free "
            f"(overcommit {ratios.cpu:g}x), {vcpus} needed"
        )
    memory_capacity = host.usable_memory_mib * ratios.memory
    if held.memory_mib + memory_mib > memory_capacity:
        free = memory_capacity - held.memory_mib
        return f"host {host.name} has {free:.0f} MiB of memory free, {memory_mib} MiB needed"
    return None


def first_fit(
    hosts: Iterable[Host],
    held: dict[str, Allocation],
    vcpus: int,
    memory_mib: int,
    ratios: Ratios,
    *,
    needs_datastore: str | None = None,
) -> Host | None:
    """The first host (by name) with room, reaching `needs_datastore` if given."""
    for host in sorted(hosts, key=lambda h: h.name):
        if needs_datastore and needs_datastore not in host.datastores:
            continue
        if why_not_fits(host, held.get(host.name, Allocation()), vcpus, memory_mib, ratios) is None:
            return host
    return None
