"""The scheduler over the console's memory: a FleetView and requests from the store.

`fleet_view(store)` sees hosts, VMs, maintenance flags and rack budgets as last
synced; `request_for(store, vm)` turns a VM (or a VM about to be made) into a
`PlacementRequest` with its pool's overcommit ratios and its affinity groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from vdctui.model import Vm
from vdctui.ops import cores
from vdctui.ops.placement import Ratios
from vdctui.ops.scheduler import SPREAD, Placement, PlacementRequest, Weights, place
from vdctui.store import Store

if TYPE_CHECKING:
    from vdctui.ops.scheduler.view import FleetView


def fleet_view(store: Store, *, vms: Iterable[Vm] | None = None) -> FleetView:
    """Hosts and what they hold as last seen, with maintenance flags and rack budgets."""
    from vdctui.ops.scheduler.view import FleetView  # numpy: loaded on the first placement

    topology = store.topology()
    return FleetView(
        store.hosts(),
        store.vms() if vms is None else vms,
        maintenance=store.hosts_in_maintenance(),
        rack_budgets_kw={r.name: r.power_budget_kw for r in topology.racks},
        networks=[n.name for n in topology.networks] if topology.networks else None,
        cpus=cores.ledger(store),
    )


def affinity_constraints(
    store: Store, vm: str, hosts_of: dict[str, str | None], rack_of: dict[str, str]
) -> tuple[str, frozenset[str], frozenset[str]]:
    """(same host, hosts to avoid, racks to avoid) from the groups `vm` belongs to,
    given where the other members run now."""
    same = ""
    avoid_hosts: set[str] = set()
    avoid_racks: set[str] = set()
    for group in store.affinity_groups(vm=vm):
        where = [hosts_of.get(m) for m in group.members if m != vm]
        placed = [h for h in where if h]
        if group.kind == "same-host" and placed and not same:
            same = placed[0]
        elif group.kind == "different-hosts":
            avoid_hosts.update(placed)
        elif group.kind == "different-racks":
            avoid_racks.update(rack_of[h] for h in placed if h in rack_of)
    return same, frozenset(avoid_hosts), frozenset(avoid_racks)


def request_for(
    store: Store,
    vm: Vm,
    *,
    hosts_of: dict[str, str | None] | None = None,
    rack_of: dict[str, str] | None = None,
) -> PlacementRequest:
    """A placement request for `vm` as it is (its current host excluded)."""
    pool = store.pool(vm.pool) if vm.pool else None
    ratios = Ratios.of(pool)
    if hosts_of is None:
        hosts_of = {v.name: v.host for v in store.vms()}
    if rack_of is None:
        rack_of = {h.name: h.rack for h in store.hosts()}
    same, avoid_hosts, avoid_racks = affinity_constraints(store, vm.name, hosts_of, rack_of)
    cpus = cores.policy_of(store, vm.name)
    return PlacementRequest(
        vm=vm.name,
        vcpus=vm.vcpus,
        memory_mib=vm.memory_mib,
        datastore=vm.datastore,
        network=vm.network,
        cpu_overcommit=ratios.cpu,
        memory_overcommit=ratios.memory,
        current_host=vm.host or "",
        same_host=same,
        avoid_hosts=avoid_hosts,
        avoid_racks=avoid_racks,
        expected_util=vm.cpu_util if vm.cpu_util else 0.5,
        cpu_policy=cpus.policy,
        threads=cpus.threads,
        numa=cpus.numa,
    )


def placement_for(store: Store, vm: Vm, weights: Weights = SPREAD) -> Placement:
    """Where `vm` could move: ranked hosts and every excluded host with its filter."""
    return place(fleet_view(store), request_for(store, vm), weights)
