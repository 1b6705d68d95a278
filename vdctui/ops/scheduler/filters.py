"""The filters, Nova-style: each says which hosts pass, and why a given host did not.

They run in the order of `FILTERS`; an excluded host is reported with the first
filter that excluded it. A filter is a name, a vectorized test over the whole
`FleetView`, and a reason for one host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vdctui.ops.scheduler.numa import FILTER_NAME as NUMA_FILTER
from vdctui.ops.scheduler.request import PlacementRequest
from vdctui.ops.scheduler.view import BoolArray, FleetView


@dataclass(frozen=True, slots=True)
class HostFilter:
    name: str
    passes: Callable[[FleetView, PlacementRequest], BoolArray]
    reason: Callable[[FleetView, PlacementRequest, int], str]
    # False when the filter cannot exclude anything for this request (pick skips it)
    needed: Callable[[PlacementRequest], bool] = lambda r: True


def shared_cpus(view: FleetView) -> np.ndarray:
    """Usable logical CPUs less those dedicated VMs hold: what shared vCPUs float over."""
    return view.shared_cpus()


def free_vcpus(view: FleetView, req: PlacementRequest) -> np.ndarray:
    return view.free_vcpus(req.cpu_overcommit)


def free_memory(view: FleetView, req: PlacementRequest) -> np.ndarray:
    return view.free_memory(req.memory_overcommit)


def _state_reason(view: FleetView, req: PlacementRequest, i: int) -> str:
    host = view.hosts[i]
    return f"host {host.name} is {host.state}" + (f" ({host.reason})" if host.reason else "")


def _cpu_reason(view: FleetView, req: PlacementRequest, i: int) -> str:
    free = view.free_vcpus(req.cpu_overcommit)[i]
    cap = shared_cpus(view)[i] * req.cpu_overcommit
    return (
        f"host {view.names[i]} has {free:g} of {cap:g} vCPUs free "
        f"(overcommit {req.cpu_overcommit:g}x), {req.vcpus} needed"
    )


def _memory_reason(view: FleetView, req: PlacementRequest, i: int) -> str:
    cap = view.usable_memory[i] * req.memory_overcommit
    return (
        f"host {view.names[i]} has {cap - view.held_memory[i]:.0f} MiB of memory free, "
        f"{req.memory_mib} MiB needed"
    )


def _rack_power(view: FleetView, req: PlacementRequest) -> BoolArray:
    if not view.budgeted:
        return _all(view)
    result: BoolArray = view.host_rack_free >= view.worst_watts(req.vcpus)
    return result


def _rack_power_reason(view: FleetView, req: PlacementRequest, i: int) -> str:
    rack = view.rack_names[view.rack_of[i]]
    free = view.rack_free_watts[view.rack_of[i]]
    return (
        f"rack {rack} has {max(free, 0):.0f} W of its power budget left, up to "
        f"{view.watts_per_cpu[i] * req.vcpus:.0f} W needed"
    )


def _all(view: FleetView) -> BoolArray:
    return np.ones(len(view), dtype=bool)


def _one(view: FleetView, names: frozenset[str] | set[str]) -> BoolArray:
    mask = np.zeros(len(view), dtype=bool)
    idx = [view.index[n] for n in names if n in view.index]
    mask[idx] = True
    return mask


def _all_but(view: FleetView, name: str) -> BoolArray:
    mask = _all(view)
    if name in view.index:
        mask[view.index[name]] = False
    return mask


def _same_host(view: FleetView, req: PlacementRequest) -> BoolArray:
    return _one(view, {req.same_host}) if req.same_host else _all(view)


def _avoid_racks(view: FleetView, req: PlacementRequest) -> BoolArray:
    if not req.avoid_racks:
        return _all(view)
    return view.avoiding_racks(req.avoid_racks)


def _network(view: FleetView, req: PlacementRequest) -> BoolArray:
    ok = not req.network or view.networks is None or req.network in view.networks
    return _all(view) if ok else ~_all(view)


FILTERS: tuple[HostFilter, ...] = (
    HostFilter("ComputeFilter", lambda v, r: v.up, _state_reason),
    HostFilter(
        "MaintenanceFilter",
        lambda v, r: ~v.maintenance,
        lambda v, r, i: f"host {v.names[i]} is in maintenance",
    ),
    HostFilter(
        "CurrentHostFilter",
        lambda v, r: _all_but(v, r.current_host) if r.current_host else _all(v),
        lambda v, r, i: f"{r.vm} runs on {v.names[i]} already",
        lambda r: bool(r.current_host),
    ),
    HostFilter(
        "DatastoreFilter",
        lambda v, r: v.reaches(r.datastore) if r.datastore else _all(v),
        lambda v, r, i: f"host {v.names[i]} does not reach datastore {r.datastore}",
    ),
    HostFilter(
        "NetworkFilter",
        _network,
        lambda v, r, i: f"network {r.network} is not known on host {v.names[i]}",
        lambda r: bool(r.network),
    ),
    HostFilter(
        "AffinityFilter",
        _same_host,
        lambda v, r, i: f"its affinity group runs on {r.same_host}",
        lambda r: bool(r.same_host),
    ),
    HostFilter(
        "AntiAffinityHostFilter",
        lambda v, r: ~_one(v, r.avoid_hosts) if r.avoid_hosts else _all(v),
        lambda v, r, i: f"host {v.names[i]} runs a VM of its anti-affinity group",
        lambda r: bool(r.avoid_hosts),
    ),
    HostFilter(
        "AntiAffinityRackFilter",
        _avoid_racks,
        lambda v, r, i: f"rack {v.hosts[i].rack} holds a VM of its anti-affinity group",
        lambda r: bool(r.avoid_racks),
    ),
    HostFilter(
        NUMA_FILTER,
        lambda v, r: v.numa.fits(r) if r.dedicated else _all(v),
        lambda v, r, i: v.numa.reason(v.names[i], r),
        lambda r: r.dedicated,
    ),
    HostFilter(
        "CoreFilter",
        lambda v, r: free_vcpus(v, r) >= r.vcpus if not r.dedicated else _all(v),
        _cpu_reason,
        lambda r: not r.dedicated,
    ),
    HostFilter("RamFilter", lambda v, r: free_memory(v, r) >= r.memory_mib, _memory_reason),
    HostFilter("RackPowerFilter", _rack_power, _rack_power_reason),
)
