"""Syncs between two whole ones read only what the embedded fleet's change feed says
changed (at 100,000 VMs a whole sync took seconds of the console that carries out the
other processes' changes); what they store is what a whole sync would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from emulator import Fleet
from vdctui.backend import fixed_console
from vdctui.model import HostState, VmState
from vdctui.ops import Console, reconcile
from vdctui.ops.reconcile import Reconciler
from vdctui.store import Store


@pytest.fixture
def incremental(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sync after the first reads what changed, whatever the fleet's size and
    however long the whole one took."""
    monkeypatch.setattr(reconcile, "INCREMENTAL_FROM", 0)
    monkeypatch.setattr(reconcile, "WHOLE_SPACING", 1e9)


def small(tmp_path: Path) -> tuple[Console, Fleet]:
    console, _clock = fixed_console(tmp_path / "v.db", hosts=6, vms=40)
    return console, console.driver.fleet  # type: ignore[attr-defined]


def inventory(store: Store) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a sync must get right whichever way it reads: every VM's place, state and
    shape, every host's state and VM count."""
    vms = {
        vm.name: (vm.host, vm.state, vm.vcpus, vm.memory_mib, vm.pool, vm.datastore)
        for vm in store.vms()
    }
    hosts = {host.name: (host.state, host.vm_count) for host in store.hosts()}
    return vms, hosts


def running(fleet: Fleet) -> list[str]:
    return sorted(n for n, v in fleet.vms.items() if v.state == "running")


async def test_a_change_made_in_the_fleet_shows_after_a_sync_of_the_changes(
    tmp_path: Path, incremental: None
) -> None:
    console, fleet = small(tmp_path)
    await console.sync()
    assert console.reconciler.whole
    name = running(fleet)[0]
    fleet.suspend_vm(name)  # behind the console's back
    events = await console.sync()
    assert not console.reconciler.whole  # it read the changes alone
    assert console.store.vm(name).state is VmState.PAUSED
    assert [e.kind for e in events if e.vm == name] == ["drift.vm-state"]


async def test_vms_added_removed_and_moved_show(tmp_path: Path, incremental: None) -> None:
    console, fleet = small(tmp_path)
    await console.sync()
    gone, mover = running(fleet)[:2]
    source = fleet.vms[mover].host
    target = next(h for h in sorted(fleet.hosts) if h != source)
    fleet.destroy_vm(gone)
    fleet.undefine_vm(gone)
    fleet.define_vm("new-001", target, vcpus=1, memory_mib=1024, network="prod")
    fleet.migrate(mover, target)
    await console.driver.advance(600)  # type: ignore[attr-defined]
    assert fleet.vms[mover].host == target
    events = await console.sync()
    assert not console.reconciler.whole
    assert console.store.vm(gone) is None
    assert console.store.vm("new-001").host == target
    assert console.store.vm(mover).host == target
    kinds = {(e.kind, e.vm) for e in events}
    assert {("drift.vm-vanished", gone), ("drift.vm-appeared", "new-001")} <= kinds
    assert ("drift.vm-moved", mover) in kinds
    counts = {h.name: h.vm_count for h in console.store.hosts()}
    assert counts[source] == len(fleet.hosts[source].vm_names)
    assert counts[target] == len(fleet.hosts[target].vm_names)


async def test_a_crashed_host_keeps_its_vms_as_last_seen_until_it_answers_again(
    tmp_path: Path, incremental: None
) -> None:
    console, fleet = small(tmp_path)
    await console.sync()
    host = fleet.vms[running(fleet)[0]].host
    on_it = set(fleet.hosts[host].vm_names)
    fleet.crash_host(host)
    await console.sync()
    assert not console.reconciler.whole
    assert console.store.host(host).state is not HostState.UP
    kept = {vm.name: vm for vm in console.store.vms() if vm.name in on_it}
    assert set(kept) == on_it  # unknown is not gone
    assert all(vm.state is not VmState.CRASHED for vm in kept.values())  # as last seen
    fleet.power_on_host(host)
    await console.sync()
    assert console.store.host(host).state is HostState.UP
    assert {vm.name: vm.state for vm in console.store.vms() if vm.name in on_it} == {
        name: VmState(fleet.vms[name].state) for name in on_it
    }


async def test_what_it_stores_is_what_a_whole_sync_stores(
    tmp_path: Path, incremental: None
) -> None:
    console, fleet = small(tmp_path)
    await console.sync()
    whole = Store(tmp_path / "whole.db")  # a second store, synced whole each time
    await Reconciler(whole).sync(console.driver)
    names = running(fleet)
    fleet.suspend_vm(names[0])
    fleet.shutdown_vm(names[1])
    fleet.set_vcpus(names[2], fleet.vms[names[2]].max_vcpus)
    fleet.partition_host(fleet.vms[names[3]].host)
    await console.driver.advance(60)  # type: ignore[attr-defined]
    await console.sync()
    assert not console.reconciler.whole
    await Reconciler(whole).sync(console.driver)  # a new one: it reads everything
    assert inventory(console.store) == inventory(whole)
    whole.close()


async def test_a_feed_that_overflowed_means_a_whole_sync(tmp_path: Path, incremental: None) -> None:
    console, fleet = small(tmp_path)
    await console.sync()
    fleet.feed.limit = 3
    changed = running(fleet)[:5]
    for name in changed:
        fleet.suspend_vm(name)
    await console.sync()
    assert console.reconciler.whole  # the feed no longer held every change
    assert all(console.store.vm(n).state is VmState.PAUSED for n in changed)
    fleet.resume_vm(changed[0])
    await console.sync()
    assert not console.reconciler.whole  # and follows the feed again after it
    assert console.store.vm(changed[0]).state is VmState.RUNNING


async def test_a_change_of_the_topology_means_a_whole_sync(
    tmp_path: Path, incremental: None
) -> None:
    console, fleet = small(tmp_path)
    await console.sync()
    fleet.slow_link(sorted(fleet.racks)[0], 0.5)
    await console.sync()
    assert console.reconciler.whole


async def test_a_small_fleet_is_read_whole_at_every_sync(tmp_path: Path) -> None:
    console, fleet = small(tmp_path)
    await console.sync()
    fleet.suspend_vm(running(fleet)[0])
    await console.sync()
    assert console.reconciler.whole  # 40 VMs: under INCREMENTAL_FROM


async def test_a_driver_without_a_feed_is_read_whole(
    tmp_path: Path, incremental: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    console, fleet = small(tmp_path)
    monkeypatch.setattr(console.driver, "change_version", lambda: None)
    await console.sync()
    name = running(fleet)[0]
    fleet.suspend_vm(name)
    await console.sync()
    assert console.reconciler.whole
    assert console.store.vm(name).state is VmState.PAUSED


async def test_the_hosts_that_answer_are_seen_now_and_the_figures_wait_for_a_whole_sync(
    tmp_path: Path, incremental: None
) -> None:
    console, fleet = small(tmp_path)
    await console.sync()
    name = running(fleet)[0]
    quiet = next(h for h in sorted(fleet.hosts) if h != fleet.vms[name].host)
    samples = len(console.host_history(quiet))
    trend = len(console.vm_trend(name).cpu)
    await console.driver.advance(60)  # type: ignore[attr-defined]
    await console.sync()
    assert not console.reconciler.whole
    assert console.store.host_seen_at()[quiet] == fleet.now  # it answered this sync
    # CPU figures and trends are read by whole syncs only
    assert len(console.host_history(quiet)) == samples
    assert len(console.vm_trend(name).cpu) == trend
