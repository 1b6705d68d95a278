"""CloudSim 3.0.3's own consolidation policies, as its source computes them, on arrays.

The replay (bench/consolidation.py) runs these as baselines, so that its measurement can be
checked against CloudSim's published figures with CloudSim's own decisions. Each function
is pure: it copies what it is given and returns a value.

What is mirrored (org.cloudbus.cloudsim.power, 3.0.3):

- overload detection (`isHostOverUtilized`): THR, a static threshold on the sum of the
  VMs' requested MIPS over the host's MIPS; IQR and MAD, the threshold 1 - s x IQR (or
  MAD) of the host's utilization history, once that history holds 12 values; LR, a
  least-squares line through the last 10 values (MathUtil's "loess" weights are all
  positive, so the regression is unweighted), extrapolated one interval ahead (the
  longest migration, RAM / 62.5 MB/s, is under 300 s), times s, at or above 1. Before
  their history is long enough, IQR, MAD and LR fall back to THR 0.7, as the examples do.
- a host's history (PowerHostUtilizationHistory) is the sum of its current VMs' own
  histories (the last 30 utilizations, newest first, which travel with a VM), each scaled
  by the VM's MIPS over the host's, with its zero tail trimmed;
- MMT selection: the VM with the least RAM (the first in the host's VM list on a tie),
  taken off while the host is still over-utilized;
- PABFD placement (`findHostForVm`): among the hosts not excluded whose PE can run the
  VM's request and whose free MIPS can take it, skipping hosts with load that the VM would
  over-utilize, the one whose power would rise least, measured from its power at the last
  update (`host.getPower()`, which placements made in this round do not change); the
  first host on a tie;
- `optimizeAllocation`: over-utilized hosts are relieved first (their VMs placed in
  decreasing order of requested MIPS, the over-utilized hosts excluded); then the
  least-utilized host (by its utilization at the last update) is emptied if all its VMs
  find a host, again and again until every host has been tried. Hosts switched off (no
  utilization at the last update) receive nothing there. As in CloudSim, the hosts that
  received VMs from over-utilized hosts are not excluded from being emptied (the set is
  filled from an empty list), so a VM can appear twice in one round's migration map:
  both count, and it ends on the second target.
- migrations complete in order of their length (RAM), each appending its VM to the end of
  its target's VM list (the order MMT's tie-break reads);
- CloudSim updates and decides 0.1 s after each 300 s sample: the requests and the
  utilization histories the policies read are the traces interpolated there (the replay
  passes them in). That nudge (0.03 % of a demand's change) moves a policy's SLAV by up
  to 7 % and its migrations by up to 2 %: the runs are chaotic, so differences from
  CloudSim's figures that small cannot be told from noise;
- a VM that asks 0 MIPS at an update is taken as finished (HostDynamicWorkload
  .getCompletedVms) and removed from the data center for the rest of the run: with the
  demand read 0.1 s after each 300 s sample, between two samples, that is a VM whose trace
  reads 0 twice in a row (on 20110303, 531 of the 1,052 VMs, 294 of them in the first hour);
- the first placement (`allocateHostForVm` for each VM in id order at time 0): every VM
  asks its full MIPS, the VMs already placed ask 0 (no cloudlet yet) but keep their full
  MIPS allocated, each host's RAM (4,096 MB) and bandwidth (10 VMs at 100 Mbit/s) bound it,
  and `host.getPower()` is still at 0 % for every host, so a VM goes to the host whose
  power after placement is least above its idle power (in effect: spread out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HISTORY = 30  # PowerVm.HISTORY_LENGTH
FALLBACK = 0.7  # the static threshold IQR, MAD and LR fall back to (the examples' value)


@dataclass(frozen=True)
class Policy:
    name: str
    detection: str  # "thr" | "iqr" | "mad" | "lr"
    parameter: float  # the threshold (THR) or the safety parameter s


POLICIES = (
    Policy("THR-MMT-1.0", "thr", 1.0),
    Policy("THR-MMT-0.8", "thr", 0.8),
    Policy("IQR-MMT-1.5", "iqr", 1.5),
    Policy("MAD-MMT-2.5", "mad", 2.5),
    Policy("LR-MMT-1.2", "lr", 1.2),
)


@dataclass(frozen=True)
class Hosts:
    pe_mips: np.ndarray  # one PE's MIPS (2 PEs per host)
    curves: np.ndarray  # watts at 0 %, 10 %, ..., 100 %, one row per host

    @property
    def capacity(self) -> np.ndarray:
        return 2.0 * self.pe_mips


def power(curves: np.ndarray, util: np.ndarray) -> np.ndarray:
    """PowerModelSpecPower: linear between the 10 % points."""
    x = np.clip(util, 0.0, 1.0) * 10.0
    i = np.minimum(x.astype(int), 9)
    rows = np.arange(len(curves))
    lo = curves[rows, i]
    return lo + (curves[rows, i + 1] - lo) * (x - i)


def trimmed_length(history: np.ndarray) -> np.ndarray:
    """MathUtil.trimZeroTail's length, row by row: up to the last non-zero value."""
    nz = history != 0
    last = history.shape[1] - np.argmax(nz[:, ::-1], axis=1)
    return np.where(nz.any(axis=1), last, 0)


def _by_length(history: np.ndarray, length: np.ndarray, stat) -> np.ndarray:
    out = np.zeros(len(history))
    for n in np.unique(length):
        rows = length == n
        out[rows] = stat(history[rows, :n])
    return out


def mad(x: np.ndarray) -> np.ndarray:
    """MathUtil.mad per row (medians as commons-math's 50th percentile)."""
    return np.median(np.abs(x - np.median(x, axis=1)[:, None]), axis=1)


def iqr(x: np.ndarray) -> np.ndarray:
    """MathUtil.iqr per row: sorted[round(0.75 (n+1)) - 1] - sorted[round(0.25 (n+1)) - 1]."""
    n = x.shape[1]
    s = np.sort(x, axis=1)
    q1 = int(np.floor(0.25 * (n + 1) + 0.5)) - 1
    q3 = int(np.floor(0.75 * (n + 1) + 0.5)) - 1
    return s[:, q3] - s[:, q1]


def lr_prediction(history: np.ndarray) -> np.ndarray:
    """The utilization LR predicts one interval after the last 10 values (newest first in
    `history`): a least-squares line at x = 1..10 (oldest first), read at x = 11."""
    y = history[:, :10][:, ::-1]
    x = np.arange(1.0, 11.0)
    xm, ym = x.mean(), y.mean(axis=1)
    slope = ((x - xm) * (y - ym[:, None])).sum(axis=1) / ((x - xm) ** 2).sum()
    return ym + slope * (11.0 - xm)


def over_utilized(
    policy: Policy, requested: np.ndarray, capacity: np.ndarray, history: np.ndarray
) -> np.ndarray:
    """isHostOverUtilized, per host: `requested` is the sum of the VMs' requested MIPS,
    `history` the host's utilization history (newest first, zero-padded)."""
    util = requested / capacity
    if policy.detection == "thr":
        return util > policy.parameter
    fallback = util > FALLBACK
    length = trimmed_length(history)
    if policy.detection == "lr":
        ok = length >= 10
        predicted = np.zeros(len(util))
        if ok.any():
            predicted[ok] = lr_prediction(history[ok]) * policy.parameter
        return np.where(ok, predicted >= 1.0, fallback)
    ok = length >= 12
    threshold = np.ones(len(util))
    if ok.any():
        stat = iqr if policy.detection == "iqr" else mad
        threshold[ok] = 1.0 - policy.parameter * _by_length(history[ok], length[ok], stat)
    return np.where(ok, util > threshold, fallback)


def initial_placement(
    hosts: Hosts, mips: np.ndarray, ram: np.ndarray, host_ram: float = 4096.0, max_vms: int = 10
) -> list[list[int]]:
    """Where CloudSim creates each VM (in id order) at time 0: the VM lists, per host."""
    n = len(hosts.pe_mips)
    cap = hosts.capacity
    allocated = np.zeros(n)
    ram_used = np.zeros(n)
    count = np.zeros(n, dtype=int)
    idle = hosts.curves[:, 0]
    members: list[list[int]] = [[] for _ in range(n)]
    for v, (m, r) in enumerate(zip(mips, ram, strict=True)):
        ok = (
            (hosts.pe_mips >= m)
            & (cap - allocated >= m)
            & (host_ram - ram_used >= r)
            & (count < max_vms)
        )
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            raise ValueError(f"VM {v} fits on no host")
        diff = power(hosts.curves[idx], (allocated[idx] + m) / cap[idx]) - idle[idx]
        h = int(idx[np.argmin(diff)])
        members[h].append(v)
        allocated[h] += m
        ram_used[h] += r
        count[h] += 1
    return members


def host_utilization(hosts: Hosts, members: list[list[int]], requested: np.ndarray) -> np.ndarray:
    """Each host's CPU utilization as CloudSim updates it with every VM resident: the
    requests capped at a PE, scaled down (and floored) on an oversubscribed host."""
    n = len(members)
    vms = np.array([v for m in members for v in m], dtype=int)
    host_of = np.array([h for h, m in enumerate(members) for _ in m], dtype=int)
    capped = np.minimum(requested[vms], hosts.pe_mips[host_of])
    total = np.bincount(host_of, capped, n)
    over = total > hosts.capacity
    scale = np.where(over, hosts.capacity / np.where(total > 0, total, 1.0), 1.0)
    alloc = np.where(over[host_of], np.floor(capped * scale[host_of]), capped)
    util = np.bincount(host_of, alloc, n) / hosts.capacity
    return np.where((util > 1) & (util < 1.01), 1.0, util)


class _Round:
    """One optimizeAllocation on a private copy: VM lists and the per-host sums the
    policy reads, kept as CloudSim's vmCreate / vmDestroy would leave them."""

    def __init__(
        self,
        policy: Policy,
        hosts: Hosts,
        members: list[list[int]],
        requested: np.ndarray,
        mips: np.ndarray,
        ram: np.ndarray,
        history: np.ndarray,
    ) -> None:
        self.policy, self.hosts = policy, hosts
        self.members = [list(m) for m in members]
        self.req, self.ram = requested, ram
        self.cap = hosts.capacity
        self.share = history * mips[:, None]  # a VM's history in MIPS
        self.vm_length = trimmed_length(history)
        n = len(members)
        self.creq = np.zeros(n)  # requests capped at a PE
        self.rsum = np.zeros(n)  # requests as asked
        self.hist = np.zeros((n, history.shape[1]))
        self.length = np.zeros(n, dtype=int)
        for h in range(n):
            self._tally(h)
        # host.getPower() reads the utilization of the last update: fixed for the round
        self.util_then = host_utilization(hosts, members, requested)
        self.power_then = power(hosts.curves, self.util_then)

    def _tally(self, h: int) -> None:
        vms = self.members[h]
        r = self.req[vms]
        self.creq[h] = np.minimum(r, self.hosts.pe_mips[h]).sum()
        self.rsum[h] = r.sum()
        self.hist[h] = (self.share[vms] / self.cap[h]).sum(axis=0)
        self.length[h] = trimmed_length(self.hist[h : h + 1])[0]

    def create(self, v: int, h: int) -> None:
        self.members[h].append(v)
        self._tally(h)

    def destroy(self, v: int, h: int) -> None:
        self.members[h].remove(v)
        self._tally(h)

    def over(self, idx: np.ndarray, adding: int | None = None) -> np.ndarray:
        rsum, hist = self.rsum[idx], self.hist[idx]
        if adding is not None:
            rsum = rsum + self.req[adding]
            hist = hist + self.share[adding][None, :] / self.cap[idx][:, None]
        return over_utilized(self.policy, rsum, self.cap[idx], hist)

    def find_host(self, v: int, excluded: np.ndarray) -> int | None:
        r = self.req[v]
        alloc = np.minimum(self.creq, self.cap)
        free = np.where(self.creq <= self.cap, self.cap - self.creq, 0.0)
        idx = np.flatnonzero(~excluded & (self.hosts.pe_mips >= r) & (free >= r))
        if idx.size == 0:
            return None
        loaded = alloc[idx] != 0
        if loaded.any():
            keep = np.ones(idx.size, dtype=bool)
            keep[loaded] = ~self.over(idx[loaded], adding=v)
            idx = idx[keep]
        if idx.size == 0:
            return None
        after = power(self.hosts.curves[idx], (alloc[idx] + r) / self.cap[idx])
        return int(idx[np.argmin(after - self.power_then[idx])])

    def by_request(self, vms: list[int]) -> list[int]:
        return sorted(vms, key=lambda v: -self.req[v])  # stable, as Collections.sort

    def relieve(self, overloaded: np.ndarray) -> list[tuple[int, int]]:
        out: list[int] = []
        for h in np.flatnonzero(overloaded):
            while self.members[h]:
                v = min(self.members[h], key=lambda x: self.ram[x])  # first on a tie
                out.append(v)
                self.destroy(v, h)
                if not self.over(np.array([h]))[0]:
                    break
        moves = []
        for v in self.by_request(out):
            t = self.find_host(v, overloaded)
            if t is not None:
                self.create(v, t)
                moves.append((v, t))
        return moves

    def consolidate(self, overloaded: np.ndarray) -> list[tuple[int, int]]:
        off = self.util_then == 0
        not_source = overloaded | off
        not_target = overloaded | off
        moves: list[tuple[int, int]] = []
        while not not_source.all():
            candidates = ~not_source & (self.util_then > 0) & (self.util_then < 1)
            candidates &= np.array([bool(m) for m in self.members])
            if not candidates.any():
                break
            u = int(np.argmin(np.where(candidates, self.util_then, np.inf)))
            not_source[u] = not_target[u] = True
            placed: list[tuple[int, int]] = []
            for v in self.by_request(self.members[u]):
                t = self.find_host(v, not_target)
                if t is None:
                    for v2, t2 in placed:
                        self.destroy(v2, t2)
                    placed = []
                    break
                self.create(v, t)
                placed.append((v, t))
            for _, t in placed:
                not_source[t] = True
            moves += placed
        return moves


def optimize_allocation(
    policy: Policy,
    hosts: Hosts,
    members: list[list[int]],
    requested: np.ndarray,
    mips: np.ndarray,
    ram: np.ndarray,
    history: np.ndarray,
) -> list[tuple[int, int]]:
    """CloudSim's migration map for one interval, as (VM, target host) pairs in order.
    `members`: each host's VM list (in order); `requested`: each VM's MIPS asked now;
    `history`: each VM's utilization history (newest first, zero-padded to 30)."""
    r = _Round(policy, hosts, members, requested, mips, ram, history)
    overloaded = over_utilized(policy, r.rsum, r.cap, r.hist)
    moves = r.relieve(overloaded.copy())
    return moves + r.consolidate(overloaded.copy())


def after_migrations(
    members: list[list[int]], moves: list[tuple[int, int]], ram: np.ndarray
) -> list[list[int]]:
    """The VM lists once the migrations have completed: shortest (least RAM) first, each
    VM leaving its host's list and joining the end of its target's."""
    out = [list(m) for m in members]
    where = {v: h for h, vms in enumerate(out) for v in vms}
    for v, t in sorted(moves, key=lambda m: ram[m[0]]):  # stable: map order on a tie
        out[where[v]].remove(v)
        out[t].append(v)
        where[v] = t
    return out


def passed_through(moves: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(VMs, hosts): the targets a VM moved twice in one map migrates in to besides its
    last one (every entry starts a migration; the VM lands on its last target)."""
    seen: set[int] = set()
    extra: list[tuple[int, int]] = []
    for v, t in reversed(moves):
        if v in seen:
            extra.append((v, t))
        seen.add(v)
    return np.array([v for v, _ in extra], dtype=int), np.array([t for _, t in extra], dtype=int)


def finished(utilization_now: np.ndarray, utilization_next: np.ndarray) -> np.ndarray:
    """The VMs CloudSim removes at an update: they ask 0 MIPS 0.1 s after a sample, so
    the trace reads 0 at this sample and the next."""
    return (utilization_now == 0) & (utilization_next == 0)


def without(members: list[list[int]], gone: np.ndarray) -> list[list[int]]:
    """The VM lists with the VMs marked in `gone` removed."""
    return [[v for v in vms if not gone[v]] for vms in members]


def push_history(history: np.ndarray, utilization: np.ndarray) -> np.ndarray:
    """PowerVm.addUtilizationHistoryValue for every VM: newest first, 30 kept."""
    out = np.empty_like(history)
    out[:, 1:] = history[:, :-1]
    out[:, 0] = utilization
    return out
