"""Dedicated cores in operation: hosts' topologies learnt at sync, a VM's CPU policy set
through the door, pins applied and checked, kept across a move, grown with a resize.

The store remembers what the console chose (`vm_cpus`); the driver is the truth about
what holds now, so every pin is read back after it is set. Shared VMs on a host that has
dedicated VMs are pinned to the shared CPUs (never a dedicated or reserved one).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError, HostDriver, InvalidOperation, MigrationHandle
from vdctui.model import (
    CpuPins,
    CpuPolicy,
    CpuTopology,
    Host,
    HostState,
    MigrationOptions,
    NumaPolicy,
    ThreadPolicy,
    Vm,
    VmCpus,
)
from vdctui.ops.actions import Action
from vdctui.ops.errors import Failed, Refused
from vdctui.ops.handover import fleet_operation
from vdctui.ops.placement import holds_resources
from vdctui.store import Store

if TYPE_CHECKING:  # numa (numpy): loaded on first use, not before the console's first frame
    from vdctui.ops.console import Console
    from vdctui.ops.scheduler import PlacementRequest
    from vdctui.ops.scheduler.numa import CoreMap, CpuLedger
    from vdctui.ops.scheduler.view import FleetView

# The reservation a migration made on its target, with what the VM held before (to undo).
_moving: dict[str, VmCpus] = {}


def ledger(store: Store) -> CpuLedger:
    from vdctui.ops.scheduler.numa import CpuLedger

    return CpuLedger(store.cpu_topologies(), store.all_vm_cpus())


def policy_of(store: Store, vm: str) -> VmCpus:
    return store.vm_cpus(vm) or VmCpus(vm, CpuPolicy.SHARED)


async def learn_topologies(store: Store, driver: HostDriver, hosts: Iterable[Host]) -> None:
    """Read the CPU topology of every host that is up and not known yet (once: it does not
    change while a host runs); a host that cannot say stays unknown."""
    if not store.writable:
        return
    known = store.hosts_with_cpu_topology()
    found: list[CpuTopology] = []
    for host in hosts:
        if host.state is HostState.UP and host.name not in known:
            try:
                found.append(await driver.cpu_topology(host.name))
            except DriverError:
                continue
    if found:
        store.set_cpu_topologies(found)


def core_map(store: Store, host: str, *, leaving: str = "") -> CoreMap:
    """`host`'s cores as the store knows them (without what `leaving` holds)."""
    topology = store.cpu_topology(host)
    if topology is None:
        raise Refused(f"The CPU topology of host {host} is not known yet.")
    held = [
        c
        for c in store.all_vm_cpus().values()
        if c.dedicated and c.host == host and c.vm != leaving
    ]
    from vdctui.ops.scheduler.numa import CoreMap

    return CoreMap.of(topology, held)


def plan_pins(
    store: Store,
    vm: str,
    host: str,
    vcpus: int,
    memory_mib: int,
    threads: ThreadPolicy,
    numa: NumaPolicy = NumaPolicy.ONE,
) -> VmCpus:
    """Where a dedicated VM's vCPUs go on `host`, or Refused with why not. Changes nothing."""
    from vdctui.ops.scheduler.numa import choose_pins

    cmap = core_map(store, host, leaving=vm)
    chosen = choose_pins(cmap, vm, vcpus, memory_mib, threads, numa)
    if isinstance(chosen, str):
        raise Refused(f"{vm} cannot have dedicated cores on {host}: {chosen}.")
    return chosen


async def apply(driver: HostDriver, store: Store, pins: VmCpus) -> None:
    """Pin a dedicated VM (live and in its definition) and bind its memory to its NUMA
    node(s), read both back, remember them."""
    await driver.pin_vcpus(pins.vm, tuple((cpu,) for cpu in pins.vcpu_pins), pins.emulator_pins)
    per_vcpu, _ = await driver.vcpu_affinity(pins.vm)
    wrong = [
        i for i, cpu in enumerate(pins.vcpu_pins) if i >= len(per_vcpu) or per_vcpu[i] != (cpu,)
    ]
    if wrong:
        raise Failed(
            f"The pins of {pins.vm} did not hold on {pins.host}: vCPU {wrong[0]} may run on "
            f"CPUs {list(per_vcpu[wrong[0]]) if wrong[0] < len(per_vcpu) else '—'}."
        )
    from vdctui.ops.scheduler.numa_spread import memory_nodes

    nodes = memory_nodes(store.cpu_topology(pins.host or ""), pins)
    if nodes:
        await driver.bind_memory(pins.vm, nodes)
        bound = await driver.memory_binding(pins.vm)
        if bound != nodes:
            raise Failed(
                f"The memory of {pins.vm} is not bound to NUMA nodes {list(nodes)} on "
                f"{pins.host}: it is bound to {list(bound) or 'none'}."
            )
    store.set_vm_cpus(pins)


async def hold(driver: HostDriver, store: Store, pins: VmCpus, before: VmCpus | None) -> None:
    """Hold `pins` in the store, move the shared VMs of its host off them, then pin the VM;
    if that fails, the VM's record is what it was `before`. The CPUs it held `before` and
    gives back go to the shared VMs only once it has let them go (the host refuses a CPU
    still dedicated to it)."""
    host = pins.host or ""
    still_held = before.taken if before is not None and before.host == pins.host else ()
    store.set_vm_cpus(pins)
    try:
        await float_shared(driver, store, host, avoiding=still_held)
        await apply(driver, store, pins)
        if set(still_held) - set(pins.taken):
            await float_shared(driver, store, host)
    except BaseException:
        if before is None:
            store.forget_vm_cpus(pins.vm)
        else:
            store.set_vm_cpus(before)
        raise


async def float_shared(
    driver: HostDriver, store: Store, host: str, avoiding: tuple[int, ...] = ()
) -> None:
    """Pin the shared VMs running on `host` to its shared CPUs (none dedicated or reserved,
    nor `avoiding`), whenever a dedicated VM comes or goes there (so they also get back
    the CPUs one left)."""
    cmap = core_map(store, host)
    shared = tuple(cpu for cpu in cmap.shared_cpus if cpu not in avoiding)
    dedicated = {c.vm for c in store.all_vm_cpus().values() if c.dedicated}
    failed: list[str] = []
    for vm in store.vms(host=host):
        if vm.name in dedicated or not holds_resources(vm):
            continue
        try:
            await driver.pin_vcpus(vm.name, tuple(shared for _ in range(vm.vcpus)), shared)
        except DriverError as exc:
            failed.append(f"{vm.name} ({exc})")
    if failed:
        raise Failed(f"Shared VMs on {host} still float over dedicated CPUs: {', '.join(failed)}.")


@fleet_operation(Action.VM_CPU_POLICY)
async def set_policy(
    console: Console,
    name: str,
    policy: CpuPolicy,
    threads: ThreadPolicy = ThreadPolicy.PREFER,
    numa: NumaPolicy = NumaPolicy.ONE,
) -> VmCpus:
    """Make a VM dedicated (pinned on its host, in one NUMA node or, when `numa` allows,
    over several; refused when its host has no room) or shared again (floating over the
    host's shared CPUs, its memory on every node)."""
    store = console.store

    async def work() -> VmCpus:
        vm = console._idle_vm(name)
        if vm.host is None:
            raise Refused(f"{name} is on no host the console knows.")
        if policy is CpuPolicy.DEDICATED:
            pins = plan_pins(store, name, vm.host, vm.vcpus, vm.memory_mib, threads, numa)
            await hold(console.driver, store, pins, store.vm_cpus(name))
            return pins
        store.forget_vm_cpus(name)
        shared = VmCpus(name, CpuPolicy.SHARED, threads, vm.host)
        cmap = core_map(store, vm.host)
        cpus = tuple(cmap.shared_cpus)
        await console.driver.pin_vcpus(name, tuple(cpus for _ in range(vm.vcpus)), cpus)
        if len(cmap.topology.nodes) > 1:  # no longer bound to the node it had
            await console.driver.bind_memory(name, tuple(range(len(cmap.topology.nodes))))
        await float_shared(console.driver, store, vm.host)  # its CPUs to its neighbours
        return shared

    params = {"policy": policy.value, "threads": threads.value, "numa": numa.value}
    return await console.change(Action.VM_CPU_POLICY, name, params, work)


# --- moves and resizes -------------------------------------------------------------------


def reserve_on_target(store: Store, vm: Vm, target: str) -> None:
    """Before a dedicated VM moves: choose its pins on `target` and hold them there (the
    scheduler sees them taken from now on). Refused when they do not fit."""
    held = store.vm_cpus(vm.name)
    if held is None or not held.dedicated:
        return
    pins = plan_pins(store, vm.name, target, vm.vcpus, vm.memory_mib, held.threads, held.numa)
    _moving[vm.name] = held
    store.set_vm_cpus(pins)


async def carried(console: Console, vm: str, target: str) -> CpuPins | None:
    """What a moving VM's definition carries to `target` (`virsh migrate --xml`): a dedicated
    VM the pins reserved there (the target's shared VMs moved off them first); a shared VM,
    when either host has dedicated VMs, the target's shared CPUs (never its source's pins,
    which may be dedicated CPUs on the target). None: nothing to carry.
    Trouble is a DriverError (the migration is refused, its reservation undone)."""
    store = console.store
    held = store.vm_cpus(vm)
    try:
        if held is not None and held.dedicated and vm in _moving:
            await float_shared(console.driver, store, target)
            return to_carry(store.cpu_topology(target), held)
        found = store.vm(vm)
        source = found.host if found is not None else None
        topology = store.cpu_topology(target)
        if found is None or topology is None or not holds_dedicated(store, source, target):
            return None
        cpus = tuple(core_map(store, target).shared_cpus)
        return CpuPins(tuple(cpus for _ in range(max(found.vcpus, 1))), cpus)
    except (Refused, Failed) as exc:
        raise InvalidOperation(str(exc)) from None


async def migrate_pinned(
    console: Console, vm: str, target: str, live: bool, options: MigrationOptions
) -> MigrationHandle:
    """Start the driver's migration of `vm`, its definition carrying its pins on `target`."""
    pins = await carried(console, vm, target)
    return await console.driver.migrate(vm, target, live=live, options=options, pins=pins)


async def pin_restarted(
    console: Console, view: FleetView, target: str, request: PlacementRequest, source: str | None
) -> None:
    """A VM restarted on `target` after its host failed, defined there and not started yet:
    a dedicated VM gets pins of its own there (chosen in the restart's view, the target's
    shared VMs moved off them), a shared VM the target's shared CPUs when either host has
    dedicated VMs (its saved definition may carry its old host's pins)."""
    store = console.store
    if request.dedicated:
        pins = view.numa.claim(target, request)
        if isinstance(pins, str):
            raise Refused(f"{request.vm} cannot have dedicated cores on {target}: {pins}.")
        await hold(console.driver, store, pins, store.vm_cpus(request.vm))
        return
    await pin_shared(console.driver, store, request.vm, request.vcpus, target, source)


async def pin_shared(
    driver: HostDriver, store: Store, vm: str, vcpus: int, host: str, came_from: str | None = None
) -> None:
    """A shared VM new on `host` (created, restarted): pinned to its shared CPUs when it or
    the host it `came_from` has dedicated VMs (else it floats over every CPU, as before)."""
    if store.cpu_topology(host) is None or not holds_dedicated(store, host, came_from):
        return
    cpus = tuple(core_map(store, host).shared_cpus)
    await driver.pin_vcpus(vm, tuple(cpus for _ in range(max(vcpus, 1))), cpus)


async def pin_started(driver: HostDriver, store: Store, vm: str) -> None:
    """A shared VM that starts where dedicated VMs are held: pinned to the host's shared CPUs,
    as a created one is (it was off when they came, so nothing pinned it then)."""
    held = store.vm_cpus(vm)
    found = store.vm(vm)
    if found is None or not found.host or (held is not None and held.dedicated):
        return
    try:
        await pin_shared(driver, store, vm, found.vcpus, found.host)
    except DriverError as exc:  # it runs: say so, and how to put it right
        raise Failed(
            f"{vm} started, but still floats over dedicated CPUs on {found.host} ({exc}); "
            f"`vdctui host pins {found.host} --repair` pins it."
        ) from None


def to_carry(topology: CpuTopology | None, pins: VmCpus) -> CpuPins:
    """A dedicated VM's pins as its definition says them."""
    from vdctui.ops.scheduler.numa_spread import memory_nodes

    nodes = memory_nodes(topology, pins)
    return CpuPins(tuple((cpu,) for cpu in pins.vcpu_pins), pins.emulator_pins, nodes)


def holds_dedicated(store: Store, *hosts: str | None) -> bool:
    """Whether a dedicated VM is held on any of `hosts`."""
    return any(c.dedicated and c.host in hosts for c in store.all_vm_cpus().values())


def undo_reserve(store: Store, vm: str) -> None:
    """The move did not happen: the VM keeps what it held on its source."""
    held = _moving.pop(vm, None)
    if held is not None:
        store.set_vm_cpus(held)


async def after_move(console: Console, vm: str, moved: bool) -> None:
    """A dedicated VM arrived: pin it on the target as reserved (and the target's shared VMs
    off its CPUs); if it did not move, it keeps its source pins. A failure is audited."""
    if not moved:
        undo_reserve(console.store, vm)
        return
    before = _moving.pop(vm, None)
    pins = console.store.vm_cpus(vm)
    if before is None or pins is None or not pins.dedicated or pins.host is None:
        return
    try:
        await hold(console.driver, console.store, pins, pins)
        if before.host and before.host != pins.host:  # its source's shared VMs get its CPUs
            await float_shared(console.driver, console.store, before.host)
    except (DriverError, Failed, Refused) as exc:
        error = f"{vm} moved to {pins.host} but its pins were not applied: {exc}"
        console.record_audit(Action.VM_CPU_POLICY, vm, {"after": "migration"}, "failed", error)


def check_grow(store: Store, vm: Vm, vcpus: int | None) -> None:
    """Refuse growing a dedicated VM past the free CPUs of its NUMA node."""
    held = store.vm_cpus(vm.name)
    if held is None or not held.dedicated or vcpus is None or vcpus <= vm.vcpus:
        return
    if vm.host is None:
        return
    cmap = core_map(store, vm.host, leaving=vm.name)
    nodes = _nodes_of(cmap, held)
    room = sum(cmap.capacity(node, held.threads) for node in nodes)
    if room < vcpus:
        where = f"NUMA node {nodes[0]}" if len(nodes) == 1 else "its NUMA nodes"
        raise Refused(
            f"{vm.name} cannot grow to {vcpus} dedicated vCPUs on {vm.host}: {where} "
            f"{'has' if len(nodes) == 1 else 'have'} {room} free CPUs for it "
            f"(it holds {len(held.vcpu_pins)})."
        )


def _nodes_of(cmap: CoreMap, held: VmCpus) -> list[int]:
    """The nodes a dedicated VM may grow in: its node, or every node when it spreads."""
    if held.node is not None:
        return [held.node]
    return list(range(len(cmap.topology.nodes)))


async def after_resize(console: Console, vm: Vm, vcpus: int) -> None:
    """Pin a resized dedicated VM anew (its current pins kept, new vCPUs on free CPUs of
    its node; a shrunk VM gives the CPUs of its last vCPUs back)."""
    held = console.store.vm_cpus(vm.name)
    if held is None or not held.dedicated or vm.host is None or vcpus == len(held.vcpu_pins):
        return
    cmap = core_map(console.store, vm.host, leaving=vm.name)
    nodes = _nodes_of(cmap, held)
    keep = held.vcpu_pins[:vcpus]
    wanted = max(vcpus - len(keep), 0)
    if held.threads is ThreadPolicy.ISOLATE:  # whole cores: the siblings idle with them
        cores = [core for node in nodes for core in cmap.free_cores(node)][:wanted]
        extra = [core[0] for core in cores]
        kept = {
            cpu
            for node in nodes
            for core in cmap.topology.nodes[node].cores
            if core[0] in keep
            for cpu in core
        }
        taken = tuple(sorted(kept | {cpu for core in cores for cpu in core}))
    else:
        free = [c for node in nodes for c in cmap.free_cpus(node)]
        extra = [c for c in free if c not in keep][:wanted]
        taken = tuple(sorted(keep + tuple(extra)))
    pins = VmCpus(
        vm.name,
        held.policy,
        held.threads,
        vm.host,
        keep + tuple(extra),
        held.emulator_pins,
        held.node,
        held.memory_mib,
        taken,
        held.numa,
    )
    await hold(console.driver, console.store, pins, held)
