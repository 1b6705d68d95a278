"""Balancing and consolidation, DRS-style: recommendations with their expected gain.

`recommend` works on a plain snapshot (`HostLoad`, `VmLoad`), so the console (from
the store) and the trace benchmark (from a replay) run the same policy:

1. relieve hosts whose demand is above the target utilization (smallest-memory VM
   that brings the host under target first: the quickest migration), and VMs starved
   by slow cores, onto the host that adds the least power and stays under target
   (powering a host on if none can);
2. with goal "power", empty the hosts with the fewest VMs whose VMs all fit elsewhere
   under target less the minimum gain, and power them off (gain: watts saved);
   with goal "spread", move VMs from the busiest to the least busy host while that
   narrows the gap by at least the threshold's minimum gain.

The plan is a value: `recommend` draws it on a private copy of what it is given
(a `_Draft`), phase by phase (`_relieve`, then `_consolidate` and `_power_off` or
`_spread`), and returns it; the caller's hosts and VMs are left as they were.
`snapshot_after` gives the snapshot as the plan would leave it, for a replay that
carries the plan out on its own model (the trace benchmark) or a test.

The threshold runs from 1 (conservative: low target, big gains only) to 5
(aggressive). Demand should be a prediction (e.g. the recent peak), not the last
sample, so that consolidation leaves headroom.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from vdctui.ops.placement import vcpus_free

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
    datastores: frozenset[str] | None = None  # the datastores it reaches; None: not known
    shared_cpus: float = math.inf  # the CPUs shared vCPUs float over; inf: no vCPU limit
    vcpus_held: float = 0.0  # shared vCPUs: filled in from the VMs


@dataclass
class VmLoad:
    name: str
    host: str
    demand: float  # predicted CPU demand, same unit as cpu_capacity
    memory_mib: float
    movable: bool = True
    vcpus: int = 1  # a VM gets at most vcpus x its host's core_capacity
    datastore: str = ""  # its disk's datastore: only hosts that reach it take it ("": none)
    # its pool's vCPU overcommit: a host takes it while its shared vCPUs stay within that
    # many per shared CPU (placement's rule); inf: no limit
    vcpu_overcommit: float = math.inf
    dedicated: bool = False  # on dedicated cores: none of its vCPUs are shared ones


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


def _host_copy(h: HostLoad, on: bool) -> HostLoad:
    """A copy of `h`, on or off, with nothing tallied on it yet. Built field by field:
    the trace replay copies some 4,000 records an interval, where `dataclasses.replace`
    costs seconds and `copy.copy` leaves objects slower to read."""
    return HostLoad(
        h.name,
        h.cpu_capacity,
        h.memory_mib,
        on,
        h.can_receive,
        h.power,
        0.0,
        0.0,
        h.core_capacity,
        h.datastores,
        h.shared_cpus,
    )


def _vm_copy(v: VmLoad, host: str) -> VmLoad:
    """A copy of `v`, on `host`."""
    return VmLoad(
        v.name,
        host,
        v.demand,
        v.memory_mib,
        v.movable,
        v.vcpus,
        v.datastore,
        v.vcpu_overcommit,
        v.dedicated,
    )


def _shared_vcpus(v: VmLoad) -> int:
    """The vCPUs `v` adds to its host's shared ones."""
    return 0 if v.dedicated else v.vcpus


def _tally(h: HostLoad, v: VmLoad, sign: float = 1.0) -> None:
    """Count `v` on `h` (or, with sign -1, no longer)."""
    h.demand += sign * v.demand
    h.memory_used += sign * v.memory_mib
    h.vcpus_held += sign * _shared_vcpus(v)


def _watts(hosts: Sequence[HostLoad]) -> float:
    return sum(h.power(min(_util(h), 1.0)) for h in hosts if h.on)


@dataclass
class _Draft:
    """The private working copy a plan is drawn on: copies of the hosts and VMs with
    their loads tallied, which VMs sit where, and the steps decided so far. The phases
    change only this; the caller's snapshot is never touched."""

    hosts: list[HostLoad]
    target: float  # utilization a host should stay under
    min_gain: float  # the threshold's minimum gain, as a share of capacity
    by_name: dict[str, HostLoad]
    on_host: dict[str, list[VmLoad]]
    hosts_on: list[HostLoad]  # the hosts that were on, then those woken, in that order
    fastest_core: float
    moves: list[Move] = field(default_factory=list)
    powered_on: list[str] = field(default_factory=list)
    powered_off: list[str] = field(default_factory=list)

    def fits(self, vm: VmLoad, h: HostLoad, limit: float) -> bool:
        """`vm` fits on `h` under `limit`: `h` reaches its datastore, memory, CPU, room for
        its vCPUs within its pool's overcommit, and its vCPUs keep headroom on the new
        cores (or lose nothing by the move)."""
        here = self.by_name.get(vm.host)
        return (
            h.can_receive
            and (not vm.datastore or h.datastores is None or vm.datastore in h.datastores)
            and h.memory_used + vm.memory_mib <= h.memory_mib
            and (h.demand + vm.demand) <= limit * h.cpu_capacity
            and (
                vm.dedicated
                or vcpus_free(h.shared_cpus, h.vcpus_held, vm.vcpu_overcommit) >= vm.vcpus
            )
            and (
                vm.demand <= limit * vm.vcpus * h.core_capacity
                or (here is not None and h.core_capacity >= here.core_capacity)
            )
        )

    def starved(self, h: HostLoad) -> list[VmLoad]:
        """VMs that want more than target of what their vCPUs get on this host's cores,
        when there are faster cores to move them to."""
        if h.core_capacity >= self.fastest_core:
            return []
        return [
            v
            for v in self.on_host[h.name]
            if v.movable and v.demand > self.target * v.vcpus * h.core_capacity
        ]

    def best_target(
        self, vm: VmLoad, exclude: set[str], limit: float, min_core: float = 0.0
    ) -> HostLoad | None:
        """The host that is on, stays under `limit` and adds the least power (the
        fullest, on a tie)."""
        options = [
            h
            for h in self.hosts_on
            if h.on
            and h.name not in exclude
            and h.core_capacity >= min_core
            and self.fits(vm, h, limit)
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

    def wake_for(self, vm: VmLoad, min_core: float) -> HostLoad | None:
        """The biggest host that is off and could take `vm`, powered on for it."""
        sleeping = [
            s
            for s in self.hosts
            if not s.on
            and s.can_receive
            and s.core_capacity >= min_core
            and self.fits(vm, s, self.target)
        ]
        if not sleeping:
            return None
        dest = max(sleeping, key=lambda s: (s.cpu_capacity, s.name))
        dest.on = True
        self.powered_on.append(dest.name)
        self.hosts_on.append(dest)
        return dest

    def move(self, vm: VmLoad, h: HostLoad, reason: str, gain: str) -> None:
        src = self.by_name[vm.host]
        _tally(src, vm, -1.0)
        self.on_host[src.name].remove(vm)
        _tally(h, vm)
        self.on_host[h.name].append(vm)
        self.moves.append(Move(vm.name, src.name, h.name, reason, gain))
        vm.host = h.name


def _draft(
    hosts: Sequence[HostLoad], vms: Sequence[VmLoad], target: float, min_gain: float
) -> _Draft:
    """Copies of the snapshot, each host's demand and memory tallied from its VMs."""
    mine = [_host_copy(h, h.on) for h in hosts]
    by_name = {h.name: h for h in mine}
    on_host: dict[str, list[VmLoad]] = {h.name: [] for h in mine}
    for vm in (_vm_copy(v, v.host) for v in vms):
        if vm.host in by_name:
            _tally(by_name[vm.host], vm)
            on_host[vm.host].append(vm)
    return _Draft(
        hosts=mine,
        target=target,
        min_gain=min_gain,
        by_name=by_name,
        on_host=on_host,
        hosts_on=[h for h in mine if h.on],
        fastest_core=max((h.core_capacity for h in mine if h.can_receive), default=math.inf),
    )


def _relieve(d: _Draft) -> None:
    """Relieve the hosts above target, busiest first: VMs starved by slow cores go to
    faster ones, then the smallest-memory VM that brings the host under target (the
    quickest migration) goes to the host that adds the least power, waking the biggest
    sleeping host if none can take it. A host nothing can relieve is left as it is."""
    for h in sorted(d.hosts, key=lambda x: -_util(x)):
        while h.on and d.on_host[h.name]:
            squeezed = d.starved(h)
            if _util(h) <= d.target and not squeezed:
                break
            excess = h.demand - d.target * h.cpu_capacity
            others = (
                []
                if _util(h) <= d.target
                else sorted(
                    (v for v in d.on_host[h.name] if v.movable and v not in squeezed),
                    key=lambda v: (v.demand < excess, v.memory_mib, v.name),
                )
            )
            for vm in squeezed + others:
                # a squeezed VM goes to faster cores; any other move just relieves the host
                faster = math.nextafter(h.core_capacity, math.inf) if vm in squeezed else 0.0
                dest = d.best_target(vm, {h.name}, d.target, faster) or d.wake_for(vm, faster)
                if dest is not None:
                    reason = (
                        f"gives {vm.name} faster cores than {h.name}"
                        if vm in squeezed
                        else f"brings {h.name} toward {d.target:.0%}"
                    )
                    d.move(vm, dest, "overload", reason)
                    break
            else:
                break


def _homes_elsewhere(
    d: _Draft, h: HostLoad, exclude: set[str], ceiling: float
) -> list[tuple[VmLoad, HostLoad]] | None:
    """Where each of `h`'s VMs (biggest first) would go so that all fit under
    `ceiling` on other hosts, or None if one does not; the draft is left as it was."""
    saved = [(x.demand, x.memory_used, x.vcpus_held) for x in d.hosts]
    homes: list[tuple[VmLoad, HostLoad]] = []
    all_fit = True
    for vm in sorted(d.on_host[h.name], key=lambda v: -v.demand):
        dest = d.best_target(vm, exclude, ceiling)
        if dest is None:
            all_fit = False
            break
        _tally(dest, vm)
        homes.append((vm, dest))
    for x, (demand, memory, vcpus) in zip(d.hosts, saved, strict=True):
        x.demand, x.memory_used, x.vcpus_held = demand, memory, vcpus
    return homes if all_fit else None


def _consolidate(d: _Draft, max_moves: int | None) -> None:
    """Empty the hosts that take the fewest migrations first (then the least loaded),
    when all their VMs are movable and fit on the other hosts under the target less the
    threshold's minimum gain, so that a host that received VMs has headroom before it
    counts as overloaded (no ping-pong). A host woken to relieve another stays, and so
    does a host that received VMs in this plan (no VM moves twice). VMs go only to hosts
    that hold VMs: one that holds none is powered off anyway, so filling it saves nothing."""
    ceiling = d.target - d.min_gain
    received = {m.target for m in d.moves}
    # not a home: empty hosts, emptied ones (powered off), and the one being emptied
    away = {x.name for x in d.hosts if not d.on_host[x.name]} | set(d.powered_off)
    for h in sorted(
        (x for x in d.hosts if x.on and d.on_host[x.name]),
        key=lambda x: (len(d.on_host[x.name]), _util(x), x.name),
    ):
        if max_moves is not None and len(d.moves) >= max_moves:
            break
        if h.name in d.powered_on or h.name in received:
            continue
        if not all(v.movable for v in d.on_host[h.name]):
            continue
        away.add(h.name)
        homes = _homes_elsewhere(d, h, away, ceiling)
        if homes is None:
            away.discard(h.name)
            continue
        idle = h.power(0.0)
        for vm, dest in homes:
            d.move(vm, dest, "consolidate", f"empties {h.name} (~{idle:.0f} W)")
            received.add(dest.name)
        d.powered_off.append(h.name)


def _power_off(d: _Draft) -> None:
    """Power off the hosts consolidation emptied, and any other host that is on with
    nothing on it (unless woken by this plan, or unable to receive: in maintenance)."""
    for name in d.powered_off:
        d.by_name[name].on = False
    for h in d.hosts:
        if h.on and not d.on_host[h.name] and h.name not in d.powered_on and h.can_receive:
            if h.name not in d.powered_off:
                d.powered_off.append(h.name)
            h.on = False


def _spread(d: _Draft, max_moves: int | None) -> None:
    """Move a VM from the busiest host to the least busy one while that narrows their
    utilization gap by at least the threshold's minimum gain (the VM that narrows it
    most, the smallest on a tie)."""
    while max_moves is None or len(d.moves) < max_moves:
        active = [x for x in d.hosts if x.on and x.can_receive]
        if len(active) < 2:
            break
        hi = max(active, key=_util)
        lo = min(active, key=_util)
        gap = _util(hi) - _util(lo)
        best = None
        for vm in sorted(d.on_host[hi.name], key=lambda v: (v.memory_mib, v.name)):
            if not vm.movable or not d.fits(vm, lo, d.target):
                continue
            new_gap = abs(
                (hi.demand - vm.demand) / hi.cpu_capacity
                - (lo.demand + vm.demand) / lo.cpu_capacity
            )
            if gap - new_gap >= d.min_gain and (best is None or new_gap < best[1]):
                best = (vm, new_gap)
        if best is None:
            break
        d.move(best[0], lo, "spread", f"narrows the load gap {gap:.0%} -> {best[1]:.0%}")


def recommend(
    hosts: Sequence[HostLoad],
    vms: Sequence[VmLoad],
    *,
    threshold: int = 3,
    goal: str = "power",
    max_moves: int | None = None,
) -> Recommendation:
    """What to move (and power off/on) to relieve overloads and then save power or
    spread. Changes nothing it is given; the same snapshot always gives the same plan."""
    if threshold not in THRESHOLDS:
        raise ValueError(f"threshold must be 1 to 5, not {threshold}")
    if goal not in ("power", "spread"):
        raise ValueError(f"goal must be 'power' or 'spread', not {goal!r}")
    d = _draft(hosts, vms, *THRESHOLDS[threshold])
    watts_before = _watts(d.hosts)
    spread_before = _stddev([_util(h) for h in d.hosts if h.on])
    _relieve(d)
    if goal == "power":
        _consolidate(d, max_moves)
        _power_off(d)
    else:
        _spread(d, max_moves)
    return Recommendation(
        tuple(d.moves),
        tuple(d.powered_off),
        tuple(d.powered_on),
        watts_before - _watts(d.hosts),
        spread_before,
        _stddev([_util(h) for h in d.hosts if h.on]),
    )


def snapshot_after(
    rec: Recommendation, hosts: Sequence[HostLoad], vms: Sequence[VmLoad]
) -> tuple[list[HostLoad], list[VmLoad]]:
    """Copies of the snapshot as `rec` would leave it: each VM on its last move's target,
    the hosts it powers on or off so, the loads tallied again. Changes nothing given."""
    to = {m.vm: m.target for m in rec.moves}
    off, on = set(rec.power_off), set(rec.power_on)
    after_vms = [_vm_copy(v, to.get(v.name, v.host)) for v in vms]
    after_hosts = [_host_copy(h, (h.on or h.name in on) and h.name not in off) for h in hosts]
    by_name = {h.name: h for h in after_hosts}
    for vm in after_vms:
        if vm.host in by_name:
            _tally(by_name[vm.host], vm)
    return after_hosts, after_vms
