"""The filter scheduler: where a VM may run, best host first, and why not elsewhere.

view = FleetView(hosts, vms, maintenance=..., rack_budgets_kw=...)
answer = place(view, PlacementRequest("web-01", vcpus=2, memory_mib=4096))
answer.ranked      # candidates, best first, with weights and estimated watts
answer.excluded    # every other host with the filter that excluded it and why
host = pick(view, request)   # the best host only (fast path for batches)
view.claim(host, 2, 4096)    # count it before the next placement

Importing this package loads no numpy: the views, filters and weighers load on the
first placement (the console imports the scheduler's types at start).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from vdctui.model import VmCpus
from vdctui.ops.scheduler.request import Exclusion, Placement, PlacementRequest, RankedHost
from vdctui.ops.scheduler.weights import PACK, POWER, SPREAD, Weights

if TYPE_CHECKING:
    from vdctui.ops.scheduler.filters import FILTERS, HostFilter
    from vdctui.ops.scheduler.numa import CpuLedger
    from vdctui.ops.scheduler.view import FleetView

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

_LOADED_LATER = {
    "FleetView": "vdctui.ops.scheduler.view",
    "FILTERS": "vdctui.ops.scheduler.filters",
    "HostFilter": "vdctui.ops.scheduler.filters",
    "CpuLedger": "vdctui.ops.scheduler.numa",
}


def __getattr__(name: str) -> Any:
    if name in _LOADED_LATER:
        return getattr(import_module(_LOADED_LATER[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def place(view: FleetView, request: PlacementRequest, weights: Weights = SPREAD) -> Placement:
    """Run every filter and weigher: the ranked candidates and every exclusion with its reason."""
    from vdctui.ops.scheduler.ranking import place as ranked

    return ranked(view, request, weights)


def pick(view: FleetView, request: PlacementRequest, weights: Weights = SPREAD) -> str | None:
    """The best host for `request`, or None; the same filters and weighers as `place`."""
    from vdctui.ops.scheduler.ranking import pick as best

    return best(view, request, weights)


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
