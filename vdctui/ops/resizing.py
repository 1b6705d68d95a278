"""Live resize: the checks (maxima, pool admission, the host's room) and the work, as a
task that claims its VM in the transaction that records it (issue 10), so no other
process can migrate, stop or resize the VM meanwhile."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.model import TaskState, Vm
from vdctui.ops import cores, placement, pools, tasks
from vdctui.ops.errors import Refused
from vdctui.store.history import TaskConflict

if TYPE_CHECKING:
    from vdctui.ops.console import Console


def check_resize(console: Console, vm: Vm, vcpus: int | None, memory_mib: int | None) -> None:
    """Refuse a resize outside the VM's maxima or its host's room."""
    if vcpus is None and memory_mib is None:
        raise Refused("Say what to change: vCPUs, memory or both.")
    if vcpus is not None and not 1 <= vcpus <= vm.max_vcpus:
        raise Refused(f"{vm.name} can have 1 to {vm.max_vcpus} vCPUs, not {vcpus}.")
    if memory_mib is not None and not 1 <= memory_mib <= vm.max_memory_mib:
        raise Refused(
            f"{vm.name} can have 1 to {vm.max_memory_mib} MiB of memory, not {memory_mib} MiB."
        )
    if vm.host is None or not placement.holds_resources(vm):
        return
    store = console.store
    cores.check_grow(store, vm, vcpus)
    extra_vcpus = max((vcpus or vm.vcpus) - vm.vcpus, 0)
    extra_memory = max((memory_mib or vm.memory_mib) - vm.memory_mib, 0)
    the_pool = store.pool(vm.pool) if vm.pool else None
    if the_pool is not None and (extra_vcpus or extra_memory):
        pools.check_admission(
            the_pool,
            store.pools(),
            store.vms(),
            store.hosts(),
            add_vcpus=extra_vcpus,
            add_memory_mib=extra_memory,
            what=f"Growing {vm.name}",
            maintenance=store.hosts_in_maintenance(),
        )
    host = console.host(vm.host)
    held = placement.allocations(store.vms(host=vm.host))
    ratios = placement.Ratios.of(the_pool)
    reason = placement.why_not_fits(
        host, held.get(host.name, placement.Allocation()), extra_vcpus, extra_memory, ratios
    )
    if reason:
        raise Refused(f"{vm.name} cannot grow on {host.name}: {reason}.")


async def resize(console: Console, vm: Vm, vcpus: int | None, memory_mib: int | None) -> Vm:
    """Check, then change the VM's vCPUs and memory under a "resize" task claiming it."""
    check_resize(console, vm, vcpus, memory_mib)
    params = {"vcpus": vcpus, "memory_mib": memory_mib}
    try:
        task = console.store.create_task(
            "resize", vm.name, console.identity.actor, params, claims=[vm.name]
        )
    except TaskConflict as exc:
        raise Refused(f"{exc}; wait for it to end or cancel it first.") from None
    console.store.update_task(task.id, state=TaskState.RUNNING, progress=0.0)
    async with tasks.ending_on_error(console, task.id):
        if vcpus is not None and vcpus != vm.vcpus:
            await console.driver.set_vcpus(vm.name, vcpus)
            await cores.after_resize(console, vm, vcpus)
        if memory_mib is not None and memory_mib != vm.memory_mib:
            await console.driver.set_memory(vm.name, memory_mib)
        resized = await console.refresh_vm(vm.name)
    tasks.end_task(console, task.id, TaskState.SUCCEEDED, audit=params)
    return resized
