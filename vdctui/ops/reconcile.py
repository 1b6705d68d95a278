"""Bring the store's memory in line with what the driver reports now.

Every difference between what the store last saw and what runs now becomes a
FleetEvent ("drift.*"), recorded in the store and returned to the caller.
VMs on hosts that did not answer are kept as last seen: unknown is not gone.
"""

from __future__ import annotations

import asyncio
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
            events.append(
                FleetEvent(
                    ts,
                    "drift.host-appeared",
                    host=host.name,
                    message=f"host {host.name} appeared ({host.state})",
                )
            )
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
            events.append(
                FleetEvent(
                    ts,
                    "drift.vm-appeared",
                    host=vm.host,
                    vm=name,
                    message=f"VM {name} appeared on {vm.host} ({vm.state})",
                )
            )
            continue
        if old.host != vm.host:
            events.append(
                FleetEvent(
                    ts,
                    "drift.vm-moved",
                    host=vm.host,
                    vm=name,
                    message=f"VM {name} is on {vm.host}, was on {old.host}",
                )
            )
        if old.state is not vm.state:
            events.append(
                FleetEvent(
                    ts,
                    "drift.vm-state",
                    host=vm.host,
                    vm=name,
                    message=f"VM {name} went {old.state} -> {vm.state}",
                )
            )
    vanished = [
        name
        for name, old in before.items()
        if name not in now and (old.host is None or old.host in answered)
    ]
    events.extend(
        FleetEvent(
            ts,
            "drift.vm-vanished",
            host=before[name].host,
            vm=name,
            message=f"VM {name} is no longer on {before[name].host}",
        )
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


CHUNK = 2000  # rows handled between two yields to the event loop


def material(vm: Vm) -> tuple[object, ...]:
    """What counts as a change worth writing: every inventory field, CPU by whole
    percents, uptime by the minute, the dirty rate by the MB/s."""
    return (
        vm.state,
        vm.host,
        vm.vcpus,
        vm.memory_mib,
        vm.max_vcpus,
        vm.max_memory_mib,
        vm.disk_gib,
        vm.datastore,
        vm.network,
        vm.pool,
        vm.uuid,
        None if vm.cpu_util is None else round(vm.cpu_util, 2),
        None if vm.uptime_s is None else int(vm.uptime_s // 60),
        vm.state_reason,
        vm.memory_used_mib,
        vm.nics,
        vm.disks,
        vm.persistent,
        vm.autostart,
        round(vm.memory_dirty_rate, -6),
    )


async def breathe(index: int) -> None:
    """Let the event loop (a UI, a migration) run between chunks of a long sync."""
    if index % CHUNK == CHUNK - 1:
        await asyncio.sleep(0)


class Reconciler:
    """Keeps what the store last saw of the VMs in memory, so a sync of 100,000 VMs
    compares in memory and writes only what changed, in chunks that never hold the
    event loop for long."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: dict[str, Vm] | None = None
        self.hosts: list[Host] = []  # as the driver reported them at the last sync

    def seen(self) -> dict[str, Vm]:
        if self._seen is None:
            self._seen = {vm.name: vm for vm in self.store.vms()}
        return self._seen

    def remember(self, vm: Vm) -> Vm:
        """Store one VM the console just changed; returns it with its remembered pool."""
        vm = remembered_pool(vm, self.seen().get(vm.name))
        self.store.upsert_vms([vm], self.store.now())
        self.seen()[vm.name] = vm
        return vm

    async def sync(self, driver: HostDriver) -> list[FleetEvent]:
        """Read the fleet from the driver, record drift, and store what changed."""
        store = self.store
        ts = store.now()
        topology = await driver.topology()
        hosts = self.hosts = await driver.list_hosts()
        found = {vm.name: vm for vm in await driver.list_vms()}
        before_hosts = {host.name: host for host in store.hosts()}
        before = self.seen()
        answered = {host.name for host in hosts if host.state is HostState.UP}

        events = host_drift(before_hosts, hosts, ts) if before_hosts else []
        vm_events, vanished = vm_drift(before, found, answered, ts)
        if before:  # the first sync of a new store is not drift
            events.extend(vm_events)
        found = keep_known_pools(store, found, before)
        changed = []
        for index, vm in enumerate(found.values()):
            old = before.get(vm.name)
            if old is None or material(old) != material(vm):
                changed.append(vm)
            await breathe(index)

        store.replace_topology(topology)
        store.upsert_hosts(hosts, ts)
        for start in range(0, len(changed), CHUNK):
            store.upsert_vms(changed[start : start + CHUNK], ts)
            await asyncio.sleep(0)
        store.remove_vms(vanished)
        store.record_events(events)
        for vm in changed:
            before[vm.name] = vm
        for name in vanished:
            before.pop(name, None)
        return events


async def refresh_vm(reconciler: Reconciler, driver: HostDriver, name: str) -> Vm:
    """Ask the driver for one VM now and remember it (after a change the console made)."""
    return reconciler.remember(await driver.get_vm(name))
