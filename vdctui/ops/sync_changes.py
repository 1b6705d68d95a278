"""A sync that reads only what changed since the last one (issue 10, speed).

A whole sync lists and compares every host and VM: seconds of the console's CPU at
100,000 VMs, during which the changes other processes hand it wait. A driver with a
change feed (the embedded fleet: emulator.feed) says which hosts and VMs changed since
a version of it; the syncs between two whole ones (vdctui.ops.reconcile.Reconciler.sync)
read those alone, with the same rules of truth as a whole sync:

- a VM that changed is read again; one no host lists is gone when every host answers,
  unaccounted for when some host does not, kept as last seen when its host does not
  answer (`sort_missing`);
- a host that changed is read again, and so is every VM on it once it answers (it may
  answer again after a crash or a partition); so is the host of every VM that changed
  (its VM count, its memory), before and after;
- the hosts that answer are seen now: the feed says nothing of them changed (their
  state, their partition), so the age the lists show stays true;
- figures that move all the time (a VM's CPU, a host's power) and each VM's history are
  read by the whole syncs only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError, FleetChanges, HostDriver
from vdctui.model import FleetEvent, HostState, Vm
from vdctui.ops import cores
from vdctui.ops.drift import host_drift, keep_known_pools, sort_missing, vm_drift
from vdctui.ops.reconcile import store_hosts, write_in_chunks

if TYPE_CHECKING:
    from vdctui.ops.reconcile import Reconciler


async def sync_changes(
    reconciler: Reconciler, driver: HostDriver, changes: FleetChanges
) -> list[FleetEvent]:
    """Read what `changes` names (and what it moves), record drift, store what changed."""
    store = reconciler.store
    ts = store.now()
    reconciler._touched = set()
    hosts = {host.name: host for host in reconciler.hosts}
    fresh = {host.name: host for host in await driver.read_hosts(changes.hosts)}
    hosts.update(fresh)
    answered = {name for name, host in hosts.items() if host.state is HostState.UP}
    found = {vm.name: vm for vm in await driver.read_vms(changes.vms)}
    for name in sorted(n for n in fresh if n in answered):
        found.update((vm.name, vm) for vm in await _vms_on(driver, name))
    before = await reconciler._read_seen()
    considered = {name: before[name] for name in changes.vms if name in before}
    missing = sort_missing(considered, found, answered, len(answered) == len(hosts))

    moved_on = {vm.host for vm in (*found.values(), *considered.values()) if vm.host}
    more = moved_on.difference(fresh)
    fresh.update((host.name, host) for host in await driver.read_hosts(more))
    hosts.update(fresh)
    before_hosts = {name: host for name in fresh if (host := store.host(name)) is not None}
    host_seen = store.host_seen_at()
    events = host_drift(before_hosts, fresh.values(), ts)
    unaccounted, lost_events = reconciler._unaccounted(missing.unaccounted, answered, host_seen, ts)
    events.extend(vm_drift(before, found, missing.vanished, ts))
    events.extend(lost_events)
    found = keep_known_pools(store, found, before)
    changed, new_marks = await reconciler.compare(found, unaccounted)

    reconciler.hosts = list(hosts.values())
    await store_hosts(store, list(fresh.values()), before_hosts, host_seen, ts)
    still = [name for name in answered if name not in fresh]
    await write_in_chunks(lambda chunk: store.hosts_seen(chunk, ts), still)
    await cores.learn_topologies(store, driver, fresh.values())
    for name in unaccounted:  # kept, their figures unknown while no host lists them
        reconciler.history.add_unknown(name)
    await reconciler.write(found, changed, new_marks, missing, unaccounted, events, ts)
    return events


async def _vms_on(driver: HostDriver, host: str) -> list[Vm]:
    """The VMs on `host` (none when it stopped answering meanwhile)."""
    try:
        return await driver.list_vms(host=host)
    except DriverError:
        return []
