"""The weighers: each scores the candidate hosts; scores are normalized to 0..1 over
the candidates and summed with the multipliers of a `Weights` (Nova-style).

A positive RAM/CPU multiplier spreads (prefers free room), a negative one packs;
the power multiplier prefers the least estimated watts added.
"""

from __future__ import annotations

import numpy as np

from vdctui.ops.scheduler.request import PlacementRequest
from vdctui.ops.scheduler.view import FleetView, FloatArray
from vdctui.ops.scheduler.weights import PACK, POWER, SPREAD, Weights

__all__ = ["PACK", "POWER", "SPREAD", "Weights", "watts_increase", "weigh"]


def _normalized(raw: FloatArray) -> FloatArray:
    if raw.size == 0:
        return raw
    low, high = float(raw.min()), float(raw.max())
    if high - low <= 1e-12:
        return np.zeros_like(raw)
    result: FloatArray = (raw - low) / (high - low)
    return result


def watts_increase(view: FleetView, req: PlacementRequest, idx: np.ndarray) -> FloatArray:
    util = min(max(req.expected_util, 0.0), 1.0)
    result: FloatArray = view.watts_per_cpu[idx] * req.vcpus * util
    return result


def weigh(view: FleetView, req: PlacementRequest, idx: np.ndarray, weights: Weights) -> FloatArray:
    """Combined weight of the candidate hosts `idx` (higher is better): each weigher's
    figure normalized to 0..1 over the candidates, times its multiplier, summed.

    The RAM and CPU weighers rank by the room left (overcommit - share held) and the
    power weigher by the watts added (watts per CPU x vCPUs x load); normalizing takes
    away the constant and the positive factor, so the view's `ranks` rows (minus the
    shares held, minus the watts per CPU) give the same weights."""
    power = req.vcpus * min(max(req.expected_util, 0.0), 1.0) > 0
    total: FloatArray = np.zeros(len(idx))
    if len(idx) == 0:
        return total
    offset = 0.0
    for multiplier, ranks in zip(
        (weights.ram, weights.cpu, weights.power if power else 0.0), view.ranks, strict=True
    ):
        if not multiplier:
            continue
        figures = ranks[idx]
        low, high = float(figures.min()), float(figures.max())
        if high - low > 1e-12:
            scale = multiplier / (high - low)
            total += scale * figures
            offset += scale * low
    total -= offset
    if req.dedicated:  # best fit: the node left with fewest free CPUs (less fragmentation)
        total += _normalized(-view.numa.leftover(req, idx))
    return total
