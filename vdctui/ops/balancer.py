"""Balancing and consolidation, DRS-style: recommendations with their expected gain.

`recommend` works on a plain snapshot (`HostLoad`, `VmLoad`), so the console (from
the store) and the trace benchmark (from a replay) run the same policy:

1. relieve hosts whose demand is above the target utilization (smallest-memory VM
   that brings the host under target first: the quickest migration), onto the
   fullest host that stays under target (powering a host on if none can);
2. with goal "power", empty the least-loaded hosts whose VMs all fit elsewhere under
   target, and power them off (gain: watts saved);
   with goal "spread", move VMs from the busiest to the least busy host while that
   narrows the gap by more than the threshold's minimum gain.

The threshold runs from 1 (conservative: low target, big gains only) to 5
(aggressive). Demand should be a prediction (e.g. the recent peak), not the last
sample, so that consolidation leaves headroom.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# threshold -> (target utilization, minimum spread gain as a share of capacity)
THRESHOLDS: dict[int, tuple[float, float]] = {
    1: (0.70, 0.20),
    2: (0.75, 0.15),
    3: (0.80, 0.10),
    4: (0.85, 0.05),
    5: (0.90, 0.02),
}


@dataclass
class HostLoad:
    name: str
    cpu_capacity: float  # MHz (or MIPS)
    memory_mib: float
    on: bool = True
    can_receive: bool = True  # up and not in maintenance
    power: Callable[[float], float] = field(default=lambda u: 0.0)  # watts at util 0..1
    demand: float = 0.0  # filled in from the VMs
    memory_used: float = 0.0
    core_capacity: float = math.inf  # one core's MHz/MIPS: the most a 1-vCPU VM can get


@dataclass
class VmLoad:
    name: str
    host: str
    demand: float  # predicted CPU demand, same unit as cpu_capacity
    memory_mib: float
    movable: bool = True
    vcpus: int = 1  # a VM gets at most vcpus x its host's core_capacity


@dataclass(frozen=True, slots=True)
class Move:
    vm: str
    source: str
    target: str
    reason: str  # "overload" | "consolidate" | "spread"
    gain: str  # what it buys, in words


@dataclass(frozen=True, slots=True)
class Recommendation:
    moves: tuple[Move, ...]
    power_off: tuple[str, ...]
    power_on: tuple[str, ...]
    watts_saved: float  # estimated, at the predicted demand
    spread_before: float  # utilization stddev over hosts that are on
    spread_after: float


def _util(h: HostLoad) -> float:
    return h.demand / h.cpu_capacity if h.cpu_capacity > 0 else 1.0


def _stddev(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    mean = sum(values) / len(values)
    return float((sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5)


def recommend(
    hosts: Sequence[HostLoad],
    vms: Sequence[VmLoad],
    *,
    threshold: int = 3,
    goal: str = "power",
    max_moves: int | None = None,
) -> Recommendation:
    """What to move (and power off/on) to relieve overloads and then save power or spread."""
    if threshold not in THRESHOLDS:
        raise ValueError(f"threshold must be 1 to 5, not {threshold}")
    if goal not in ("power", "spread"):
        raise ValueError(f"goal must be 'power' or 'spread', not {goal!r}")
    target, min_gain = THRESHOLDS[threshold]
    by_name = {h.name: h for h in hosts}
    for h in hosts:
        h.demand, h.memory_used = 0.0, 0.0
    on_host: dict[str, list[VmLoad]] = {h.name: [] for h in hosts}
    for vm in vms:
        if vm.host in by_name:
            by_name[vm.host].demand += vm.demand
            by_name[vm.host].memory_used += vm.memory_mib
            on_host[vm.host].append(vm)
    watts_before = sum(h.power(min(_util(h), 1.0)) for h in hosts if h.on)
    spread_before = _stddev([_util(h) for h in hosts if h.on])
    moves: list[Move] = []
    powered_on: list[str] = []
    hosts_on = [h for h in hosts if h.on]

    fastest_core = max((h.core_capacity for h in hosts if h.can_receive), default=math.inf)

    def fits(vm: VmLoad, h: HostLoad, limit: float) -> bool:
        here = by_name.get(vm.host)
        return (
            h.can_receive
            and h.memory_used + vm.memory_mib <= h.memory_mib
            and (h.demand + vm.demand) <= limit * h.cpu_capacity
            # its vCPUs keep headroom on the new cores, or lose nothing by the move
            and (
                vm.demand <= limit * vm.vcpus * h.core_capacity
                or (here is not None and h.core_capacity >= here.core_capacity)
            )
        )

    def starved(h: HostLoad) -> list[VmLoad]:
        """VMs that want more than target of what their vCPUs get on this host's cores,
        when there are faster cores to move them to."""
        if h.core_capacity >= fastest_core:
            return []
        return [
            v
            for v in on_host[h.name]
            if v.movable and v.demand > target * v.vcpus * h.core_capacity
        ]

    def move(vm: VmLoad, h: HostLoad, reason: str, gain: str) -> None:
        src = by_name[vm.host]
        src.demand -= vm.demand
        src.memory_used -= vm.memory_mib
        on_host[src.name].remove(vm)
        h.demand += vm.demand
        h.memory_used += vm.memory_mib
        on_host[h.name].append(vm)
        moves.append(Move(vm.name, src.name, h.name, reason, gain))
        vm.host = h.name

    def best_target(
        vm: VmLoad, exclude: set[str], limit: float = target, min_core: float = 0.0
    ) -> HostLoad | None:
        """The fullest host that is on and stays under `limit` (least power added)."""
        options = [
            h
            for h in hosts_on
            if h.on and h.name not in exclude and h.core_capacity >= min_core and fits(vm, h, limit)
        ]
        if not options:
            return None
        return min(
            options,
            key=lambda h: (
                h.power(min((h.demand + vm.demand) / h.cpu_capacity, 1.0))
                - h.power(min(_util(h), 1.0)),
                -_util(h),
                h.name,
            ),
        )

    # 1. overloads: hosts above target, and VMs that want more than this host's cores give
    for h in sorted(hosts, key=lambda x: -_util(x)):
        while h.on and on_host[h.name]:
            squeezed = starved(h)
            if _util(h) <= target and not squeezed:
                break
            excess = h.demand - target * h.cpu_capacity
            others = (
                []
                if _util(h) <= target
                else sorted(
                    (v for v in on_host[h.name] if v.movable and v not in squeezed),
                    key=lambda v: (v.demand < excess, v.memory_mib, v.name),
                )
            )
            placed = False
            for vm in squeezed + others:
                # a squeezed VM goes to faster cores; any other move just relieves the host
                faster = math.nextafter(h.core_capacity, math.inf) if vm in squeezed else 0.0
                dest = best_target(vm, {h.name}, target, faster)
                if dest is None:
                    sleeping = [
                        s
                        for s in hosts
                        if not s.on
                        and s.can_receive
                        and s.core_capacity >= faster
                        and fits(vm, s, target)
                    ]
                    if sleeping:
                        dest = max(sleeping, key=lambda s: (s.cpu_capacity, s.name))
                        dest.on = True
                        powered_on.append(dest.name)
                        hosts_on.append(dest)
                if dest is not None:
                    reason = (
                        f"gives {vm.name} faster cores than {h.name}"
                        if vm in squeezed
                        else f"brings {h.name} toward {target:.0%}"
                    )
                    move(vm, dest, "overload", reason)
                    placed = True
                    break
            if not placed:
                break
    # 2. consolidate or spread
    emptied: list[str] = []
    if goal == "power":
        # Pack only up to the target less the threshold's minimum gain, so a host that
        # received VMs has headroom before it counts as overloaded (no ping-pong), and
        # free the hosts that take the fewest migrations first.
        ceiling = target - min_gain
        for h in sorted(
            (x for x in hosts if x.on and on_host[x.name]),
            key=lambda x: (len(on_host[x.name]), _util(x), x.name),
        ):
            if max_moves is not None and len(moves) >= max_moves:
                break
            if h.name in powered_on or not all(v.movable for v in on_host[h.name]):
                continue
            trial: list[tuple[VmLoad, HostLoad]] = []
            saved = [(x.demand, x.memory_used) for x in hosts]
            exclude = {h.name, *emptied}
            ok = True
            for vm in sorted(on_host[h.name], key=lambda v: -v.demand):
                dest = best_target(vm, exclude, ceiling)
                if dest is None:
                    ok = False
                    break
                dest.demand += vm.demand
                dest.memory_used += vm.memory_mib
                trial.append((vm, dest))
            for x, (d, m) in zip(hosts, saved, strict=True):
                x.demand, x.memory_used = d, m
            if not ok:
                continue
            idle = h.power(0.0)
            for vm, dest in trial:
                move(vm, dest, "consolidate", f"empties {h.name} (~{idle:.0f} W)")
            emptied.append(h.name)
        for name in emptied:
            by_name[name].on = False
        for h in hosts:  # hosts that are on with nothing on them go off too
            if h.on and not on_host[h.name] and h.name not in powered_on and h.can_receive:
                if h.name not in emptied:
                    emptied.append(h.name)
                h.on = False
    else:
        while max_moves is None or len(moves) < max_moves:
            active = [x for x in hosts if x.on and x.can_receive]
            if len(active) < 2:
                break
            hi = max(active, key=_util)
            lo = min(active, key=_util)
            gap = _util(hi) - _util(lo)
            best = None
            for vm in sorted(on_host[hi.name], key=lambda v: (v.memory_mib, v.name)):
                if not vm.movable or not fits(vm, lo, target):
                    continue
                new_gap = abs(
                    (hi.demand - vm.demand) / hi.cpu_capacity
                    - (lo.demand + vm.demand) / lo.cpu_capacity
                )
                if gap - new_gap >= min_gain and (best is None or new_gap < best[1]):
                    best = (vm, new_gap)
            if best is None:
                break
            move(best[0], lo, "spread", f"narrows the load gap {gap:.0%} -> {best[1]:.0%}")
    watts_after = sum(h.power(min(_util(h), 1.0)) for h in hosts if h.on)
    return Recommendation(
        tuple(moves),
        tuple(emptied),
        tuple(powered_on),
        watts_before - watts_after,
        spread_before,
        _stddev([_util(h) for h in hosts if h.on]),
    )
