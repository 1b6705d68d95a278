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
    """Combined weight of the candidate hosts `idx` (higher is better)."""
    total: FloatArray = np.zeros(len(idx))
    if weights.ram:  # the share of the host's memory left free (overcommit counted)
        room = req.memory_overcommit - view.held_memory[idx] * view.inverse_memory[idx]
        total += weights.ram * _normalized(room)
    if weights.cpu:
        room = req.cpu_overcommit - view.held_vcpus[idx] * view.inverse_cpus[idx]
        total += weights.cpu * _normalized(room)
    if weights.power:
        total += weights.power * _normalized(-watts_increase(view, req, idx))
    if req.dedicated:  # best fit: the node left with fewest free CPUs (less fragmentation)
        total += _normalized(-view.numa.leftover(req, idx))
    return total
