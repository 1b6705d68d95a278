"""Bring the store's memory in line with what the driver reports now.

Every difference between what the store last saw and what runs now becomes a
FleetEvent ("drift.*"), recorded in the store and returned to the caller.
VMs on hosts that did not answer are kept as last seen: unknown is not gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from vdctui.drivers.base import HostDriver
from vdctui.model import FleetEvent, Host, HostState, Pool, Vm
from vdctui.store import Store


def host_drift(before: dict[str, Host], now: Iterable[Host], ts: float) -> list[FleetEvent]:
    events = []
    for host in now:
        old = before.get(host.name)
        if old is None:
            events.append(FleetEvent(ts, "drift.host-appeared", host=host.name,
                                     message=f"host {host.name} appeared ({host.state})"))
        elif old.state is not host.state:
            why = f": {host.reason}" if host.reason else ""
            message = f"host {host.name} went {old.state} -> {host.state}{why}"
            events.append(FleetEvent(ts, "drift.host-state", host=host.name, message=message))
    return events


def vm_drift(
    before: dict[str, Vm], now: dict[str, Vm], answered: set[str], ts: float
) -> tuple[list[FleetEvent], list[str]]:
    """Events for VMs that appeared, changed state or host; and the names that vanished."""
    events: list[FleetEvent] = []
    for name, vm in now.items():
        old = before.get(name)
        if old is None:
            events.append(FleetEvent(ts, "drift.vm-appeared", host=vm.host, vm=name,
                                     message=f"VM {name} appeared on {vm.host} ({vm.state})"))
            continue
        if old.host != vm.host:
            events.append(FleetEvent(ts, "drift.vm-moved", host=vm.host, vm=name,
                                     message=f"VM {name} is on {vm.host}, was on {old.host}"))
        if old.state is not vm.state:
            events.append(FleetEvent(ts, "drift.vm-state", host=vm.host, vm=name,
                                     message=f"VM {name} went {old.state} -> {vm.state}"))
    vanished = [
        name for name, old in before.items()
        if name not in now and (old.host is None or old.host in answered)
    ]
    events.extend(
        FleetEvent(ts, "drift.vm-vanished", host=before[name].host, vm=name,
                   message=f"VM {name} is no longer on {before[name].host}")
        for name in vanished
    )
    return events, vanished


def remembered_pool(vm: Vm, before: Vm | None) -> Vm:
    """A driver that knows no pools (ssh) keeps the pool the console gave the VM."""
    if not vm.pool and before is not None and before.pool:
        return replace(vm, pool=before.pool)
    return vm


def keep_known_pools(store: Store, vms: dict[str, Vm], before: dict[str, Vm]) -> dict[str, Vm]:
    """Remembered pools stay; a pool a driver names that the console does not know is created."""
    known = {pool.name for pool in store.pools()}
    result = {}
    for name, found in vms.items():
        vm = remembered_pool(found, before.get(name))
        if vm.pool and vm.pool not in known:
            store.upsert_pool(Pool(name=vm.pool, description="found on the fleet"))
            known.add(vm.pool)
        result[name] = vm
    return result


async def reconcile(store: Store, driver: HostDriver) -> list[FleetEvent]:
    """Read the fleet from the driver, record drift, and store what was seen."""
    ts = store.now()
    topology = await driver.topology()
    hosts = await driver.list_hosts()
    vms = {vm.name: vm for vm in await driver.list_vms()}
    before_hosts = {host.name: host for host in store.hosts()}
    before_vms = {vm.name: vm for vm in store.vms()}
    answered = {host.name for host in hosts if host.state is HostState.UP}

    events = host_drift(before_hosts, hosts, ts) if before_hosts else []
    vm_events, vanished = vm_drift(before_vms, vms, answered, ts)
    if before_vms:  # the first sync of a new store is not drift
        events.extend(vm_events)
    vms = keep_known_pools(store, vms, before_vms)

    store.replace_topology(topology)
    store.upsert_hosts(hosts, ts)
    store.upsert_vms(list(vms.values()), ts)
    store.remove_vms(vanished)
    store.record_events(events)
    return events


async def refresh_vm(store: Store, driver: HostDriver, name: str) -> Vm:
    """Ask the driver for one VM now and remember it (after a change the console made)."""
    vm = remembered_pool(await driver.get_vm(name), store.vm(name))
    store.upsert_vms([vm], store.now())
    return vm
