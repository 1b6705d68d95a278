"""Bring the store's memory in line with what the driver reports now.

Every difference between what the store last saw and what runs now becomes a
FleetEvent ("drift.*"), recorded in the store and returned to the caller.
VMs on hosts that did not answer are kept as last seen: unknown is not gone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TypeVar

from vdctui.drivers.base import HostDriver
from vdctui.model import (
    DuplicateDefinition,
    FleetEvent,
    Host,
    HostState,
    MigrationOutcome,
    Pool,
    Topology,
    Vm,
)
from vdctui.ops import cores
from vdctui.ops.vm_history import VmHistory
from vdctui.store import Store
from vdctui.store.inventory import WRITE_CHUNK

T = TypeVar("T")


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
    before: dict[str, Vm], now: dict[str, Vm], vanished: list[str], ts: float
) -> list[FleetEvent]:
    """Events for VMs that appeared, changed state or host, or vanished."""
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
    return events


@dataclass(frozen=True, slots=True)
class Missing:
    """What became of the VMs the store knows that the fleet did not list."""

    vanished: list[str]  # every host answered and none has it: gone
    unaccounted: list[str]  # its host answered without it, but some host did not answer


def sort_missing(
    before: dict[str, Vm], found: dict[str, Vm], answered: set[str], everyone_answered: bool
) -> Missing:
    """A VM the console has seen is never dropped because a host stopped answering: on a
    silent host it is kept as last seen; gone from a host that answered while another did
    not, it is unaccounted for (it may have moved there); only when every host answered
    is a VM nobody lists gone."""
    vanished: list[str] = []
    unaccounted: list[str] = []
    for name, old in before.items():
        if name in found or (old.host is not None and old.host not in answered):
            continue
        (vanished if everyone_answered else unaccounted).append(name)
    return Missing(vanished, unaccounted)


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
READ_PAGE = 2000  # VMs read from the store between two yields to the event loop
# After each write transaction of a sync, the write lock is left free this long: another
# process's change waiting for it (SQLite's busy handler) gets in between two chunks.
WRITE_GAP_S = 0.002
# ...and after writing for LONG_GAP_EVERY_S, for LONG_GAP_S: longer than SQLite's busy
# handler ever sleeps (100 ms), so a process waiting for the lock wakes while it is free
# (with only the short gaps it could sleep through every one for the whole sync).
LONG_GAP_EVERY_S = 0.2
LONG_GAP_S = 0.12


def shown_uptime(seconds: float) -> float:
    """Uptime as precisely as `format_duration` shows it (a tenth of a second in the first
    ten, then the second, the minute from an hour, the hour from two days), cheaply: it
    is compared for 100,000 VMs at each sync."""
    if seconds < 10:
        return round(seconds, 1)
    if seconds < 60:
        return round(seconds)
    if seconds < 3600:
        return seconds // 1
    if seconds < 172_800:
        return seconds // 60
    return seconds // 3600


def material(vm: Vm) -> tuple[object, ...]:
    """What counts as a change worth writing: every inventory field, CPU by whole
    percents, uptime as precisely as it is shown (tenths of a second in its first ten
    seconds, then seconds, then minutes), the dirty rate by the MB/s."""
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
        None if vm.uptime_s is None else shown_uptime(vm.uptime_s),
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


async def write_in_chunks(write: Callable[[list[T]], None], items: list[T]) -> None:
    """`write` the items WRITE_CHUNK at a time, one short transaction each, leaving the
    write lock free a moment between two (for other processes) and the event loop too,
    and a longer moment every LONG_GAP_EVERY_S (see LONG_GAP_S)."""
    since_gap = time.monotonic()
    for start in range(0, len(items), WRITE_CHUNK):
        write(items[start : start + WRITE_CHUNK])
        if start + WRITE_CHUNK < len(items):
            if time.monotonic() - since_gap >= LONG_GAP_EVERY_S:
                await asyncio.sleep(LONG_GAP_S)
                since_gap = time.monotonic()
            else:
                await asyncio.sleep(WRITE_GAP_S)


class Reconciler:
    """Keeps what the store last saw of the VMs in memory, so a sync of 100,000 VMs
    compares in memory and writes only what changed, in chunks that never hold the
    event loop for long."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._seen: dict[str, Vm] | None = None
        # what counts in each VM the store holds (`material`), kept beside `_seen` so a
        # sync computes it for the fleet's VMs only; dropped for a VM changed otherwise
        self._marks: dict[str, tuple[object, ...]] = {}
        self._topology: Topology | None = None  # as last written to the store
        self.hosts: list[Host] = []  # as the driver reported them at the last sync
        # VMs read anew (after a change) while a sync was reading the fleet: the sync's
        # older reading of them must not overwrite the newer one
        self._touched: set[str] = set()
        self.history = VmHistory()  # each listed VM's CPU and memory at recent syncs
        self.duplicates: dict[str, DuplicateDefinition] = {}  # as the last sync's reads showed

    def seen(self) -> dict[str, Vm]:
        if self._seen is None:
            self._seen = {vm.name: vm for vm in self.store.vms()}
        return self._seen

    async def _read_seen(self) -> dict[str, Vm]:
        """`seen()`, its first read a page at a time, the event loop free between two (at
        100,000 VMs it took seconds: the other processes' changes waited for it)."""
        seen: dict[str, Vm] = {}
        after = ""
        while self._seen is None:
            page = self.store.vms_after(after, READ_PAGE)
            seen.update((vm.name, vm) for vm in page)
            if len(page) < READ_PAGE:
                self._seen = seen  # (a change remembered meanwhile read them all itself)
                break
            after = page[-1].name
            await asyncio.sleep(0)
        return self._seen

    def remember(self, vm: Vm) -> Vm:
        """Store one VM the console just changed; returns it with its remembered pool."""
        vm = remembered_pool(vm, self.seen().get(vm.name))
        self.store.upsert_vms([vm], self.store.now())
        self.seen()[vm.name] = vm
        self._marks.pop(vm.name, None)
        self._touched.add(vm.name)
        return vm

    async def sync(self, driver: HostDriver) -> list[FleetEvent]:
        """Read the fleet from the driver, record drift, and store what changed."""
        store = self.store
        ts = store.now()
        self._touched = set()
        topology = await driver.topology()
        hosts = self.hosts = await driver.list_hosts()
        found = {vm.name: vm for vm in await driver.list_vms()}
        before = await self._read_seen()
        before_hosts = {host.name: host for host in store.hosts()}
        answered = {host.name for host in hosts if host.state is HostState.UP}
        everyone = answered == {host.name for host in hosts}
        missing = sort_missing(before, found, answered, everyone_answered=everyone)
        host_seen = store.host_seen_at()

        events = host_drift(before_hosts, hosts, ts) if before_hosts else []
        unaccounted, lost_events = self._unaccounted(missing.unaccounted, answered, host_seen, ts)
        if before:  # the first sync of a new store is not drift
            events.extend(vm_drift(before, found, missing.vanished, ts))
            events.extend(lost_events)
        found = keep_known_pools(store, found, before)
        changed = list(unaccounted.values())
        marks = self._marks
        new_marks: dict[str, tuple[object, ...]] = {}
        for index, vm in enumerate(found.values()):
            mark = new_marks[vm.name] = material(vm)
            old = before.get(vm.name)
            if old is None or mark != (marks.get(vm.name) or material(old)):
                changed.append(vm)
            await breathe(index)

        if topology != (self._topology or store.topology()):
            store.replace_topology(topology)
        self._topology = topology
        await store_hosts(store, hosts, before_hosts, host_seen, ts)
        await cores.learn_topologies(store, driver, hosts)
        if self._touched:  # read anew meanwhile: newer than this sync's reading
            changed = [vm for vm in changed if vm.name not in self._touched]
            missing = Missing(
                [n for n in missing.vanished if n not in self._touched],
                [n for n in missing.unaccounted if n not in self._touched],
            )
        for name in unaccounted:  # kept, their figures unknown while no host lists them
            self.history.add_unknown(name)
        await self.history.record(list(found.values()))
        self.duplicates = {d.vm: d for d in driver.known_duplicates()}
        await write_in_chunks(lambda chunk: store.upsert_vms(chunk, ts), changed)
        store.remove_vms(missing.vanished)
        self._account(found, missing.vanished)
        store.record_events(events)
        for vm in changed:
            before[vm.name] = vm
        for name in missing.vanished:
            before.pop(name, None)
        # what counts in what the store now holds of each VM the fleet listed (unchanged,
        # or written now); not for those read anew meanwhile, nor those no longer listed
        marks.update((n, m) for n, m in new_marks.items() if n not in self._touched)
        for name in [*missing.vanished, *unaccounted]:
            marks.pop(name, None)
        return events

    def _unaccounted(
        self, names: list[str], answered: set[str], host_seen: dict[str, float], ts: float
    ) -> tuple[dict[str, Vm], list[FleetEvent]]:
        """Keep VMs no answering host has: on the host a migration took them to (one that
        does not answer), else where they were; remembered with when they were last seen."""
        before = self.seen()
        kept: dict[str, Vm] = {}
        events: list[FleetEvent] = []
        already = self.store.unaccounted()
        stamps: dict[str, float] = {}
        for name in names:
            if name in self._touched:  # read anew meanwhile: found
                continue
            old = before[name]
            host = self._whereabouts(name, answered) or old.host
            kept[name] = replace(old, host=host)
            if name in already:
                continue
            stamps[name] = host_seen.get(old.host or "", 0.0)
            where = f"; it may be on {host}, which does not answer" if host != old.host else ""
            events.append(
                FleetEvent(
                    ts,
                    "drift.vm-unaccounted",
                    host=host,
                    vm=name,
                    message=f"VM {name} is no longer on {old.host} and no host that "
                    f"answered has it{where}",
                )
            )
        self.store.mark_unaccounted(stamps, "not found on any host that answered")
        return kept, events

    def _whereabouts(self, name: str, answered: set[str]) -> str | None:
        """The host the console's latest migration of `name` took (or is taking) it to,
        when that host does not answer."""
        for record in self.store.migrations(vm=name, limit=1):
            if record.outcome in (None, MigrationOutcome.SUCCEEDED):
                return record.target if record.target not in answered else None
        return None

    def _account(self, found: dict[str, Vm], vanished: list[str]) -> None:
        lost = self.store.unaccounted()
        if lost:
            self.store.clear_unaccounted([n for n in lost if n in found or n in vanished])

    def moved(self, name: str, target: str) -> Vm | None:
        """A migration the console followed ended with `name` on `target`, which cannot be
        read now: remember it there, unaccounted for until its host answers again."""
        old = self.seen().get(name) or self.store.vm(name)
        if old is None:
            return None
        vm = replace(old, host=target)
        self._marks.pop(name, None)
        self.store.upsert_vms([vm], self.store.now())
        self.store.mark_unaccounted(
            {name: self.store.now()}, f"moved to {target}, which did not answer after the move"
        )
        self.seen()[name] = vm
        self._touched.add(name)
        return vm


async def store_hosts(
    store: Store,
    hosts: list[Host],
    before: dict[str, Host],
    seen_at: dict[str, float],
    ts: float,
) -> None:
    """Hosts that answered are seen now; the others keep when they last answered, and an
    unreachable one keeps its figures as last seen (it may still run its VMs)."""
    answered = [h for h in hosts if h.state is HostState.UP]
    await write_in_chunks(lambda chunk: store.upsert_hosts(chunk, ts), answered)
    for host in hosts:
        if host.state is HostState.UP:
            continue
        old = before.get(host.name)
        if host.state is HostState.UNREACHABLE and old is not None:
            host = replace(
                host,
                cpu_util=old.cpu_util,
                memory_used_mib=old.memory_used_mib,
                # a BMC that answers says the draw now; else as last seen
                power_watts=old.power_watts if host.power_state is None else host.power_watts,
                vm_count=old.vm_count,
            )
        if old is not None and not host.cpus:
            # a driver that never reached it (a new process) knows no facts: an unreachable
            # host's, and a powered-off one's (the balancer may wake it), are as last seen
            host = replace(
                host,
                model=old.model,
                cpus=old.cpus,
                cores=old.cores,
                mhz=old.mhz,
                memory_mib=old.memory_mib,
                datastores=old.datastores,
            )
        store.upsert_hosts([host], seen_at.get(host.name, 0.0))


async def refresh_vm(reconciler: Reconciler, driver: HostDriver, name: str) -> Vm:
    """Ask the driver for one VM now and remember it (after a change the console made)."""
    vm = reconciler.remember(await driver.get_vm(name))
    reconciler.store.clear_unaccounted([name])
    return vm
