"""The weighers: each scores the candidate hosts; scores are normalized to 0..1 over
the candidates and summed with the multipliers of a `Weights` (Nova-style).

A positive RAM/CPU multiplier spreads (prefers free room), a negative one packs;
the power multiplier prefers the least estimated watts added.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vdctui.ops.scheduler.request import PlacementRequest
from vdctui.ops.scheduler.view import FleetView, FloatArray


@dataclass(frozen=True, slots=True)
class Weights:
    ram: float = 1.0
    cpu: float = 1.0
    power: float = 0.5

    @classmethod
    def named(cls, name: str) -> Weights:
        """ "spread" (default), "pack" (fill hosts up) or "power" (least watts added)."""
        presets = {"spread": SPREAD, "pack": PACK, "power": POWER}
        try:
            return presets[name]
        except KeyError:
            raise ValueError(
                f"unknown placement policy {name!r} (one of: {', '.join(presets)})"
            ) from None


SPREAD = Weights(ram=1.0, cpu=1.0, power=0.5)
PACK = Weights(ram=-1.0, cpu=-1.0, power=0.5)
POWER = Weights(ram=0.0, cpu=0.0, power=1.0)


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
