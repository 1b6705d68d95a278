"""What CloudSim 3.0.3 measures over one scheduling interval, as arrays.

Mirrors PowerDatacenter, HostDynamicWorkload.updateVmsProcessing,
VmSchedulerTimeSharedOverSubscription and the examples' Helper (getSlaTimePerActiveHost,
getSlaMetrics):

- migrations decided at time t all start at t (Host.addMigratingInVm updates both hosts
  at t) and the one of a VM with RAM r ends at t + r / 62.5 s; CloudSim records host and
  VM states at t and at every completion time, so an interval is cut into segments;
- a VM asks `demand` MIPS (uncapped); the scheduler caps it at the host's PE MIPS (one
  PE per VM); a migrating-in VM takes 10 % of its capped request on the target, a
  migrating-out VM gets 90 % of its allocation on the source (which counts it /0.9 in its
  own utilization); a host whose capped requests exceed its MIPS scales every VM down by
  the same factor (and floors the results);
- a host state is (allocated = its utilization MIPS, requested = sum of its VMs' uncapped
  requests, active = allocated > 0): SLATAH = time of active states with allocated <
  requested over the time of active states;
- a VM state is (allocated, requested, in migration on its source): PDM = sum over VMs of
  (requested - allocated) x time while in migration, over the sum of requested x time
  (a ratio of totals: Helper's "underallocated_migration", not a mean of per-VM ratios);
- energy between two updates is the mean of the power at the previous and the current
  utilization times the time, and 0 if the previous utilization was 0 (host off).
- demand between two trace samples is interpolated linearly, as
  UtilizationModelPlanetLabInMemory does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INTERVAL_S = 300.0


@dataclass
class Totals:
    energy_j: float = 0.0
    active_s: float = 0.0
    violated_s: float = 0.0
    requested: float = 0.0  # MIPS x s, over all VMs
    lost_in_migration: float = 0.0  # MIPS x s, while VMs migrate (on their source)
    # breakdown of violated_s (a host can count in several): PE cap, oversubscription,
    # a VM migrating in (10 % allocated there)
    by_cause: dict[str, float] | None = None

    def slatah(self) -> float:
        return self.violated_s / self.active_s if self.active_s else 0.0

    def pdm(self) -> float:
        return self.lost_in_migration / self.requested if self.requested else 0.0


class Fleet:
    """Hosts as arrays: per-PE MIPS (2 PEs each) and a power curve (11 points) each."""

    def __init__(self, pe_mips: np.ndarray, curves: np.ndarray) -> None:
        self.pe = np.asarray(pe_mips, dtype=float)
        self.capacity = 2.0 * self.pe
        self.curves = np.asarray(curves, dtype=float)
        self.n = len(self.pe)

    def power(self, util: np.ndarray) -> np.ndarray:
        u = np.clip(util, 0.0, 1.0) * 10.0
        i = np.minimum(u.astype(int), 9)
        rows = np.arange(self.n)
        lo = self.curves[rows, i]
        return lo + (self.curves[rows, i + 1] - lo) * (u - i)


def _state(
    fleet: Fleet, mem_vm: np.ndarray, mem_host: np.ndarray, kind: np.ndarray, demand: np.ndarray
) -> tuple[np.ndarray, ...]:
    """kind: 0 resident, 1 migrating out (on its source), 2 migrating in (on its target).
    Returns host allocated, host requested, host utilization, the VM members' allocation,
    requested, and per-host flags (capped, oversubscribed, receiving)."""
    n = fleet.n
    d = demand[mem_vm]
    pe = fleet.pe[mem_host]
    capped = np.minimum(d, pe)
    incoming = kind == 2
    outgoing = kind == 1
    required = np.where(incoming, capped * 0.1, capped)
    total_required = np.bincount(mem_host, required, n)
    over = total_required > fleet.capacity
    scale = np.where(over, fleet.capacity / np.where(total_required > 0, total_required, 1.0), 1.0)[
        mem_host
    ]
    over_m = over[mem_host]
    alloc = np.where(outgoing, capped * 0.9, np.where(incoming, capped * 0.1, capped))
    alloc_over = np.floor(
        np.where(
            outgoing, capped * scale * 0.9, np.where(incoming, capped * 0.1 * scale, capped * scale)
        )
    )
    alloc = np.where(over_m, alloc_over, alloc)
    contribution = np.where(outgoing, alloc / 0.9, alloc)
    host_alloc = np.bincount(mem_host, contribution, n)
    host_req = np.bincount(mem_host, d, n)
    util = host_alloc / fleet.capacity
    util = np.where((util > 1) & (util < 1.01), 1.0, util)
    capped_host = np.bincount(mem_host, (d > pe) & ~incoming, n) > 0
    receiving = np.bincount(mem_host, incoming & (d > 0), n) > 0
    return host_alloc, host_req, util, alloc, d, over, capped_host, receiving


def interval(
    fleet: Fleet,
    before: np.ndarray,
    after: np.ndarray,
    ram_mb: np.ndarray,
    d0: np.ndarray,
    d1: np.ndarray,
    totals: Totals,
    migration_mb_s: float = 62.5,
    length: float = INTERVAL_S,
    also_in: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Add one interval [t, t + length) to `totals`. `before`/`after`: each VM's host
    index before and after the migrations decided at t (equal: no migration); d0, d1:
    the VMs' demand (MIPS) at t and t + length. `also_in` (VMs, hosts): VMs that are
    also migrating in to another host until they land on `after` (a VM CloudSim's map
    moves twice in one round sits, migrating in, on both targets meanwhile)."""
    if totals.by_cause is None:
        totals.by_cause = {"pe cap": 0.0, "oversubscribed": 0.0, "migration in": 0.0}
    n_vms = len(before)
    moving = np.flatnonzero(before != after)
    delay = ram_mb[moving] / migration_mb_s
    cuts = sorted({0.0, *(float(x) for x in delay if x < length)})
    bounds = [*cuts, length]
    vm_index = np.arange(n_vms)
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        span = end - start
        if span <= 0:
            continue
        flying = moving[delay > start]
        host_now = after.copy()
        host_now[flying] = before[flying]
        kind = np.zeros(n_vms + len(flying), dtype=np.int8)
        kind[flying] = 1
        kind[n_vms:] = 2
        mem_vm = np.concatenate([vm_index, flying])
        mem_host = np.concatenate([host_now, after[flying]])
        if also_in is not None and len(also_in[0]):
            extra = ram_mb[also_in[0]] / migration_mb_s > start
            mem_vm = np.concatenate([mem_vm, also_in[0][extra]])
            mem_host = np.concatenate([mem_host, also_in[1][extra]])
            kind = np.concatenate([kind, np.full(int(extra.sum()), 2, dtype=np.int8)])
        dem_start = d0 + (d1 - d0) * (start / length)
        dem_end = d0 + (d1 - d0) * (end / length)
        h_alloc, h_req, u_start, alloc, req, over, capped, receiving = _state(
            fleet, mem_vm, mem_host, kind, dem_start
        )
        u_end = _state(fleet, mem_vm, mem_host, kind, dem_end)[2]
        active = h_alloc > 0
        violated = active & (h_alloc < h_req)
        totals.active_s += span * int(active.sum())
        totals.violated_s += span * int(violated.sum())
        totals.by_cause["pe cap"] += span * int((violated & capped).sum())
        totals.by_cause["oversubscribed"] += span * int((violated & over).sum())
        totals.by_cause["migration in"] += span * int((violated & receiving).sum())
        on = u_start > 0
        watts = (fleet.power(u_start) + fleet.power(u_end)) / 2.0
        totals.energy_j += float((watts * on).sum()) * span
        vm_alloc, vm_req = alloc[:n_vms], req[:n_vms]
        totals.requested += float(vm_req.sum()) * span
        short = (kind[:n_vms] == 1) & (vm_alloc < vm_req)
        totals.lost_in_migration += float((vm_req - vm_alloc)[short].sum()) * span
