"""Bring the store's memory in line with what the driver reports now.

Every difference between what the store last saw and what runs now becomes a
FleetEvent ("drift.*"), recorded in the store and returned to the caller.
VMs on hosts that did not answer are kept as last seen: unknown is not gone.
How the two readings differ is vdctui.ops.drift; between two whole syncs of a driver
with a change feed, a sync reads only what changed (vdctui.ops.sync_changes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from vdctui.drivers.base import HostDriver
from vdctui.model import (
    DuplicateDefinition,
    FleetEvent,
    Host,
    HostState,
    MigrationOutcome,
    Topology,
    Vm,
)
from vdctui.ops.drift import (
    Missing,
    host_drift,
    keep_known_pools,
    remembered_pool,
    sort_missing,
    vm_drift,
)
from vdctui.ops.services_on_demand import cores  # a read that follows the store needs none
from vdctui.ops.vm_history import VmHistory
from vdctui.store import Store
from vdctui.store.inventory import WRITE_CHUNK

T = TypeVar("T")


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
# A whole sync (every VM and host read and compared: seconds at 100,000 VMs) comes at
# most every this many times its own length after it; the syncs between read only what
# the driver's change feed says changed (with a feed: the embedded fleet).
WHOLE_SPACING = 4.0
INCREMENTAL_FROM = 10_000  # VMs: a smaller fleet is read whole at every sync (as fast)


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
        self.whole = True  # whether the last sync read everything (else what changed)
        self._feed_of: HostDriver | None = None  # the driver whose feed `_version` is of
        self._version: int | None = None  # its change feed's version at the last sync
        self._whole_due = 0.0  # monotonic time of the next whole sync

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
        """Read the fleet from the driver, record drift, and store what changed: only what
        the driver's change feed says changed since the last sync (vdctui.ops.sync_changes)
        between two whole syncs, which read everything (and so every figure: CPU, memory,
        power, and each VM's history); a whole sync at most every WHOLE_SPACING times its
        own length, at every sync of a fleet under INCREMENTAL_FROM VMs, and whenever the
        driver keeps no feed or it cannot say."""
        from vdctui.ops.sync_changes import sync_changes

        version = self._version if self._feed_of is driver else None
        big = self._seen is not None and len(self._seen) >= INCREMENTAL_FROM
        if version is not None and big and time.monotonic() < self._whole_due:
            changes = await driver.changed_since(version)
            if changes is not None:
                events = await sync_changes(self, driver, changes)
                self._version, self.whole = changes.version, False
                return events
        version = driver.change_version()
        began = time.monotonic()
        events = await self._sync_whole(driver)
        ended = time.monotonic()
        self._feed_of, self._version, self.whole = driver, version, True
        self._whole_due = ended + WHOLE_SPACING * (ended - began)
        return events

    async def _sync_whole(self, driver: HostDriver) -> list[FleetEvent]:
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
        changed, new_marks = await self.compare(found, unaccounted)

        if topology != (self._topology or store.topology()):
            store.replace_topology(topology)
        self._topology = topology
        await store_hosts(store, hosts, before_hosts, host_seen, ts)
        await cores.learn_topologies(store, driver, hosts)
        for name in unaccounted:  # kept, their figures unknown while no host lists them
            self.history.add_unknown(name)
        await self.history.record(list(found.values()))
        self.duplicates = {d.vm: d for d in driver.known_duplicates()}
        await self.write(found, changed, new_marks, missing, unaccounted, events, ts)
        if answered:  # every figure read now (the syncs of changes read none: their age)
            store.figures_read(ts)
        return events

    async def compare(
        self, found: dict[str, Vm], unaccounted: dict[str, Vm]
    ) -> tuple[list[Vm], dict[str, tuple[object, ...]]]:
        """The VMs to write (those unaccounted for, and each found one whose `material`
        differs from what the store holds), and what counts in each found one."""
        before = self.seen()
        changed = list(unaccounted.values())
        marks = self._marks
        new_marks: dict[str, tuple[object, ...]] = {}
        for index, vm in enumerate(found.values()):
            mark = new_marks[vm.name] = material(vm)
            old = before.get(vm.name)
            if old is None or mark != (marks.get(vm.name) or material(old)):
                changed.append(vm)
            await breathe(index)
        return changed, new_marks

    async def write(
        self,
        found: dict[str, Vm],
        changed: list[Vm],
        new_marks: dict[str, tuple[object, ...]],
        missing: Missing,
        unaccounted: dict[str, Vm],
        events: list[FleetEvent],
        ts: float,
    ) -> None:
        """Store what a sync found: the changed VMs, the vanished ones gone, the events;
        not what was read anew meanwhile (a change this console made: newer)."""
        store, before, marks = self.store, self.seen(), self._marks
        if self._touched:  # read anew meanwhile: newer than this sync's reading
            changed = [vm for vm in changed if vm.name not in self._touched]
            missing = Missing(
                [n for n in missing.vanished if n not in self._touched],
                [n for n in missing.unaccounted if n not in self._touched],
            )
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
