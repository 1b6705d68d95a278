"""Drift: how what the store last saw differs from what the driver reports now.

Pure functions of the two readings (and the pools the store knows), shared by the whole
sync (vdctui.ops.reconcile) and the sync of what changed (vdctui.ops.sync_changes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from vdctui.model import FleetEvent, Host, Pool, Vm
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
