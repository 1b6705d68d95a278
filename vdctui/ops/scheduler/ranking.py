"""Ranking hosts for a request: every filter, then the weighers (numpy)."""

from __future__ import annotations

import numpy as np

from vdctui.ops.scheduler.filters import FILTERS
from vdctui.ops.scheduler.request import Exclusion, Placement, PlacementRequest, RankedHost
from vdctui.ops.scheduler.view import FleetView
from vdctui.ops.scheduler.weighers import watts_increase, weigh
from vdctui.ops.scheduler.weights import SPREAD, Weights

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
    remaining = view.available_reaching(request.datastore)
    for host_filter in FILTERS:
        if host_filter.name not in _FAST_FILTERS and host_filter.needed(request):
            remaining = remaining & host_filter.passes(view, request)
    idx = np.flatnonzero(remaining)
    if idx.size == 0:
        return None
    scores = weigh(view, request, idx, weights)
    return view.names[int(idx[int(np.argmax(scores))])]
