"""Creating VMs from a flavor into a pool: check the order, place, define, start.

Placement is the filter scheduler's (`scheduler.pick`, one FleetView kept across
the batch); pool admission control is checked for the whole order first.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from vdctui import checks
from vdctui.drivers.base import DriverError, HostDriver
from vdctui.model import (
    CpuPolicy,
    DatastoreKind,
    Flavor,
    Host,
    NumaPolicy,
    Pool,
    TaskState,
    ThreadPolicy,
    Topology,
    Vm,
    VmSpec,
)
from vdctui.ops import cores, pools, scheduling
from vdctui.ops.errors import Failed, Refused
from vdctui.ops.reconcile import Reconciler, refresh_vm
from vdctui.ops.scheduler import PlacementRequest, Weights, claim, pick, place
from vdctui.ops.tasks import Door, end_task
from vdctui.store import Store

MAX_COUNT = checks.MAX_VMS_AT_ONCE


@dataclass(frozen=True, slots=True)
class CreateOrder:
    """A checked request: the names to create and what they are made of."""

    base_name: str
    names: tuple[str, ...]
    flavor: Flavor
    pool: Pool


def names_for(base: str, count: int) -> list[str]:
    """`web` x1 -> [web]; `web` x3 -> [web-01, web-02, web-03]."""
    if not checks.is_name(base):
        raise Refused(f"{checks.shown(base)} is not a VM name: use {checks.NAME_RULE}.")
    if not 1 <= count <= MAX_COUNT:
        raise Refused(f"Create 1 to {MAX_COUNT} VMs at a time, not {count}.")
    width = max(2, len(str(count)))
    return [base] if count == 1 else [f"{base}-{i:0{width}d}" for i in range(1, count + 1)]


def plan(store: Store, base: str, *, flavor: str, pool: str, count: int) -> CreateOrder:
    """Check names, flavor and pool; refuse with the reason before anything is made."""
    names = names_for(base, count)
    taken = next((n for n in names if store.vm(n) is not None), None)
    if taken:
        raise Refused(f"A VM named {taken!r} exists already.")
    the_flavor = store.flavor(flavor)
    if the_flavor is None:
        known = ", ".join(f.name for f in store.flavors())
        raise Refused(f"There is no flavor {flavor!r} (known: {known}).")
    the_pool = store.pool(pool)
    if the_pool is None:
        known = ", ".join(p.name for p in store.pools())
        raise Refused(f"There is no pool {pool!r} (known: {known}).")
    return CreateOrder(base, tuple(names), the_flavor, the_pool)


def spec_for(name: str, order: CreateOrder, host: Host, topology: Topology) -> VmSpec:
    """The VM's definition on `host`: its disk on a shared datastore the host reaches
    (so it can move later), else the host's own; the first network."""
    kinds = {d.name: d.kind for d in topology.datastores}
    reachable = sorted(host.datastores, key=lambda d: kinds.get(d) is not DatastoreKind.SHARED)
    flavor = order.flavor
    return VmSpec(
        name=name,
        vcpus=flavor.vcpus,
        memory_mib=flavor.memory_mib,
        max_vcpus=flavor.max_vcpus,
        max_memory_mib=flavor.max_memory_mib,
        disk_gib=flavor.disk_gib,
        datastore=reachable[0] if reachable else "",
        network=topology.networks[0].name if topology.networks else "",
        pool=order.pool.name,
    )


def admit(store: Store, order: CreateOrder) -> None:
    """Refuse the order if its running VMs would break a pool's limit or reservation."""
    n = len(order.names)
    pools.check_admission(
        order.pool,
        store.pools(),
        store.vms(),
        store.hosts(),
        add_vcpus=n * order.flavor.vcpus,
        add_memory_mib=n * order.flavor.memory_mib,
        what=f"Creating {n} {order.flavor.name} VM{'s' if n > 1 else ''}",
        maintenance=store.hosts_in_maintenance(),
    )


async def carry_out(
    door: Door,
    reconciler: Reconciler,
    driver: HostDriver,
    order: CreateOrder,
    actor: str,
    *,
    start: bool,
    weights: Weights | None = None,
) -> list[Vm]:
    """Place and make every VM of the order as a task with progress; say how far it got.
    The task ends with its outcome and an audit end record whatever happens."""
    store = reconciler.store
    task = store.create_task(
        "create",
        order.base_name,
        actor,
        {"flavor": order.flavor.name, "pool": order.pool.name, "count": len(order.names)},
    )
    store.update_task(task.id, state=TaskState.RUNNING, progress=0.0)
    created: list[Vm] = []
    try:
        await _make(reconciler, driver, order, task.id, created, start=start, weights=weights)
    except BaseException as exc:
        so_far = f" after creating {len(created)} of {len(order.names)}" if created else ""
        cancelled = isinstance(exc, asyncio.CancelledError)
        why = "cancelled" if cancelled else str(exc) or type(exc).__name__
        state = TaskState.CANCELLED if cancelled else TaskState.FAILED
        end_task(door, task.id, state, error=f"{why}{so_far}")
        if isinstance(exc, Refused | Failed | DriverError):
            raise type(exc)(f"{exc}{so_far}") from exc
        raise
    end_task(door, task.id, TaskState.SUCCEEDED, progress=100.0, audit={"created": len(created)})
    return created


async def _make(
    reconciler: Reconciler,
    driver: HostDriver,
    order: CreateOrder,
    task_id: int,
    created: list[Vm],
    *,
    start: bool,
    weights: Weights | None,
) -> None:
    """Place, define (and start) each VM of the order in turn, adding it to `created`."""
    store = reconciler.store
    topology = store.topology()
    view = scheduling.fleet_view(store)
    flavor = order.flavor
    for name in order.names:
        request = PlacementRequest(
            name,
            flavor.vcpus,
            flavor.memory_mib,
            cpu_overcommit=order.pool.cpu_overcommit,
            memory_overcommit=order.pool.memory_overcommit,
            cpu_policy=CpuPolicy(flavor.cpu_policy),
            threads=ThreadPolicy(flavor.cpu_threads),
            numa=NumaPolicy(flavor.cpu_numa),
        )
        chosen = pick(view, request, weights or Weights())
        if chosen is None:
            why = place(view, request).summary()
            raise Refused(
                f"No host has room for {name} ({flavor.vcpus} vCPUs, "
                f"{flavor.memory_mib} MiB) in pool {order.pool.name}: {why}."
            )
        host = view.hosts[view.index[chosen]]
        await driver.define(spec_for(name, order, host, topology), host.name)
        if request.dedicated:  # pinned before it starts; its cores are held even when off
            await cores.hold(driver, store, claim(view, host.name, request), None)
        else:  # never on a dedicated VM's CPUs, from its first start
            await cores.pin_shared(driver, store, name, flavor.vcpus, host.name)
        if start:
            await driver.start(name)
            if not request.dedicated:
                view.claim(host.name, flavor.vcpus, flavor.memory_mib)
        created.append(await refresh_vm(reconciler, driver, name))
        store.update_task(task_id, progress=100.0 * len(created) / len(order.names))
