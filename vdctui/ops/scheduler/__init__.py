"""The filter scheduler: where a VM may run, best host first, and why not elsewhere.

view = FleetView(hosts, vms, maintenance=..., rack_budgets_kw=...)
answer = place(view, PlacementRequest("web-01", vcpus=2, memory_mib=4096))
answer.ranked      # candidates, best first, with weights and estimated watts
answer.excluded    # every other host with the filter that excluded it and why
host = pick(view, request)   # the best host only (fast path for batches)
view.claim(host, 2, 4096)    # count it before the next placement
"""

from __future__ import annotations

import numpy as np

from vdctui.model import VmCpus
from vdctui.ops.scheduler.filters import FILTERS, HostFilter
from vdctui.ops.scheduler.numa import CpuLedger
from vdctui.ops.scheduler.request import Exclusion, Placement, PlacementRequest, RankedHost
from vdctui.ops.scheduler.view import FleetView
from vdctui.ops.scheduler.weighers import PACK, POWER, SPREAD, Weights, watts_increase, weigh

__all__ = [
    "FILTERS",
    "PACK",
    "POWER",
    "SPREAD",
    "CpuLedger",
    "Exclusion",
    "FleetView",
    "HostFilter",
    "Placement",
    "PlacementRequest",
    "RankedHost",
    "Weights",
    "claim",
    "pick",
    "place",
]


# what `FleetView.available` and the datastore mask already cover in `pick`
_FAST_FILTERS = frozenset({"ComputeFilter", "MaintenanceFilter", "DatastoreFilter"})


def place(view: FleetView, request: PlacementRequest, weights: Weights = SPREAD) -> Placement:
    """Run every filter and weigher: the ranked candidates and every exclusion with its reason."""
    remaining = np.ones(len(view), dtype=bool)
    excluded: list[Exclusion] = []
    for host_filter in FILTERS:
        passes = host_filter.passes(view, request)
        dropped = np.flatnonzero(remaining & ~passes)
        excluded.extend(
            Exclusion(view.names[i], host_filter.name, host_filter.reason(view, request, int(i)))
            for i in dropped
        )
        remaining &= passes
    idx = np.flatnonzero(remaining)
    scores = weigh(view, request, idx, weights)
    watts = watts_increase(view, request, idx)
    order = np.lexsort((idx, -scores))  # best weight first, then name order
    ranked = tuple(RankedHost(view.names[idx[k]], float(scores[k]), float(watts[k])) for k in order)
    excluded.sort(key=lambda e: e.host)
    return Placement(request, ranked, tuple(excluded))


def pick(view: FleetView, request: PlacementRequest, weights: Weights = SPREAD) -> str | None:
    """The best host for `request`, or None; the same filters and weighers as `place`."""
    remaining = view.available()
    if request.datastore:
        remaining = remaining & view.reaches(request.datastore)
    for host_filter in FILTERS:
        if host_filter.name not in _FAST_FILTERS and host_filter.needed(request):
            remaining = remaining & host_filter.passes(view, request)
    idx = np.flatnonzero(remaining)
    if idx.size == 0:
        return None
    scores = weigh(view, request, idx, weights)
    return view.names[int(idx[int(np.argmax(scores))])]


def claim(view: FleetView, host: str, request: PlacementRequest, watts: float = 0.0) -> VmCpus:
    """Count `request` on `host` before the next placement of a batch; a dedicated request
    gets its pins there (raises ValueError with the reason when they do not fit)."""
    if not request.dedicated or request.vcpus < 1:  # (a shut-off VM moving holds nothing)
        view.claim(host, request.vcpus, request.memory_mib, watts)
        return VmCpus(request.vm, request.cpu_policy, request.threads, host)
    pins = view.numa.claim(host, request)
    if isinstance(pins, str):
        raise ValueError(pins)
    view.claim(host, 0, request.memory_mib, watts)
    return pins
