"""The trace replay behind bench/consolidation.py: CloudSim's PlanetLab setup, our
balancer or one of CloudSim's own policies deciding every 300 s, measured as CloudSim
measures (bench/_cloudsim_sla.py).

Two workloads:
- "full": every VM runs all day (what an operator's data center does);
- "cloudsim": as CloudSim 3.0.3 runs its examples, a VM asking 0 MIPS at an update is
  taken as finished and removed for good (531 of the 1,052 VMs on 20110303), and
  nothing is measured before CloudSim's first update at 300.1 s (its hosts are still at
  0 % then: energy from 0 % counts 0). CloudSim's published figures are on this one.
"""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path

import _cloudsim_policies as cloudsim
import _cloudsim_sla as sla
import numpy as np

from emulator.power import power_at
from vdctui.ops.balancer import THRESHOLDS, HostLoad, VmLoad, recommend, snapshot_after

G4 = (86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117)
G5 = (93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135)
PE_MIPS = (1860.0, 2660.0)
HOST_MODELS = ((2 * PE_MIPS[0], G4), (2 * PE_MIPS[1], G5))
VM_TYPES = ((2500.0, 870.0), (2000.0, 1740.0), (1000.0, 1740.0), (500.0, 613.0))
HOST_RAM_MB = 4096.0
INTERVAL_S = 300.0
MIGRATION_MB_S = 1000.0 / 8 / 2  # 1 Gbit/s, half for migration: 62.5 MB/s
UPDATE_OFFSET_S = 0.1  # CloudSim updates at 300 k + 0.1 s
WORKLOADS = ("full", "cloudsim")


def load_traces(folder: Path) -> list[list[float]]:
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return [[float(x) for x in f.read_text().split()] for f in files]


def variant(
    traces: list[list[float]], start_hour: int = 0, vms: str | int = "all", hours: int = 24
) -> list[list[float]]:
    """Held-out variants of a day: starting at another hour (wrapping around), or one of
    two disjoint halves of the VMs (every other file, so each half keeps the four types
    in the same proportions). Subsets, to keep a run short: `vms` N keeps N traces spread
    evenly over the files (as `vdctui emulate --traces DIR --vms N` does), `hours` H the
    first H hours (H x 12 intervals)."""
    if not 0 <= start_hour < 24:
        raise ValueError(f"start hour must be 0 to 23, not {start_hour}")
    if not 1 <= hours <= 24:
        raise ValueError(f"hours must be 1 to 24, not {hours}")
    if isinstance(vms, int):
        if not 0 < vms <= len(traces):
            raise ValueError(f"the day holds {len(traces)} traces: give 1 to {len(traces)} VMs")
        traces = [traces[k * len(traces) // vms] for k in range(vms)]
    elif vms not in ("all", "even", "odd"):
        raise ValueError(f"vms must be all, even, odd or a number, not {vms!r}")
    shift = start_hour * 12  # 5-minute samples
    out = [(t[shift:] + t[:shift])[: hours * 12 + 1] for t in traces]
    return out if vms in ("all",) or isinstance(vms, int) else out[0 if vms == "even" else 1 :: 2]


def make_hosts(n: int, ram_mb: float = HOST_RAM_MB) -> list[HostLoad]:
    hosts = []
    for i in range(n):
        capacity, curve = HOST_MODELS[i % 2]
        hosts.append(
            HostLoad(
                f"h{i:03d}",
                capacity,
                ram_mb,
                on=False,
                power=lambda u, c=curve: power_at(c, u),
                core_capacity=PE_MIPS[i % 2],
            )
        )
    return hosts


def make_vms(traces: list[list[float]]) -> list[tuple[float, float]]:
    block = math.ceil(len(traces) / 4)
    return [VM_TYPES[i // block] for i in range(len(traces))]


class _Day:
    """What every run shares: the VMs' sizes and utilization, the fleet as arrays, the
    totals, and the workload's rules (which VMs are gone, which intervals count)."""

    def __init__(self, traces: list[list[float]], n_hosts: int, workload: str) -> None:
        if workload not in WORKLOADS:
            raise ValueError(f"workload must be one of {WORKLOADS}, not {workload!r}")
        self.workload = workload
        self.steps = min(len(t) for t in traces)
        self.types = make_vms(traces)
        self.mips = np.array([m for m, _ in self.types])
        self.ram = np.array([r for _, r in self.types])
        self.util = np.array([t[: self.steps] for t in traces], dtype=float).T / 100.0
        pe = np.array([PE_MIPS[i % 2] for i in range(n_hosts)])
        curves = np.array([HOST_MODELS[i % 2][1] for i in range(n_hosts)], dtype=float)
        self.hosts = cloudsim.Hosts(pe, curves)
        self.fleet = sla.Fleet(pe, curves)
        self.alive = np.ones(len(traces), dtype=bool)
        self.totals = sla.Totals()
        self.migrations = 0

    def finishing(self, t: int) -> np.ndarray:
        """The VMs the workload removes at step t (none on the full workload)."""
        if self.workload == "full" or t == 0:
            return np.zeros(len(self.alive), dtype=bool)
        gone = self.alive & cloudsim.finished(self.util[t], self.util[t + 1])
        self.alive &= ~gone
        return gone

    def demand(self, t: int) -> np.ndarray:
        return self.mips * self.util[t] * self.alive

    def read(self, t: int) -> np.ndarray:
        """The utilization CloudSim reads at its update after sample t: 0.1 s later
        (300 k + 0.1 s), between two samples, as UtilizationModelPlanetLabInMemory
        interpolates. The decisions see this; the measurement keeps the samples."""
        u = self.util[t] + (self.util[t + 1] - self.util[t]) * (UPDATE_OFFSET_S / INTERVAL_S)
        return u * self.alive

    def measure(
        self,
        t: int,
        before: np.ndarray,
        after: np.ndarray,
        also_in: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        if self.workload == "cloudsim" and t == 0:
            return  # CloudSim records no host state before its first update (300.1 s)
        sla.interval(
            self.fleet,
            before,
            after,
            self.ram,
            self.demand(t),
            self.demand(t + 1),
            self.totals,
            MIGRATION_MB_S,
            also_in=also_in,
        )

    def result(self) -> dict[str, float]:
        t = self.totals
        return {
            "energy_kwh": t.energy_j / 3.6e6,
            "slatah": t.slatah(),
            "pdm": t.pdm(),
            "migrations": self.migrations,
            "removed": int((~self.alive).sum()),
            **{f"slatah {k}": v / t.active_s for k, v in (t.by_cause or {}).items()},
        }


def npa(n_hosts: int, steps: int) -> dict[str, float]:
    """No power management: every host on at full power all day."""
    watts = sum(power_at(HOST_MODELS[i % 2][1], 1.0) for i in range(n_hosts))
    return {
        "energy_kwh": watts * (steps - 1) * INTERVAL_S / 3.6e6,
        "slatah": 0.0,
        "pdm": 0.0,
        "migrations": 0,
    }


def run_ours(
    traces: list[list[float]],
    n_hosts: int,
    policy: str,
    threshold: int,
    window: int,
    ram: str = "strict",
    workload: str = "full",
) -> dict[str, float]:
    """policy: "static" (our first placement, no migration) or "balancer"
    (vdctui.ops.balancer.recommend, goal power, demand predicted as the peak of the last
    `window` samples). ram "cloudsim": RAM bounds only the first placement (CloudSim asks
    0 MB for a running VM whose cloudlet has a null RAM model, as in its examples)."""
    day = _Day(traces, n_hosts, workload)
    hosts = make_hosts(n_hosts, HOST_RAM_MB if ram == "strict" else math.inf)
    index = {h.name: i for i, h in enumerate(hosts)}
    history = [deque(maxlen=window) for _ in traces]
    vms: list[VmLoad] = []
    for t in range(day.steps - 1):
        gone = day.finishing(t)
        demand = day.demand(t)
        for k, d in enumerate(demand):
            history[k].append(float(d))
        predicted = [max(h) for h in history]
        if t == 0:
            vms = initial_placement(hosts, day.types, predicted, threshold)
        if gone.any():
            vms = [vm for vm in vms if not gone[int(vm.name[1:])]]
        before = _host_index(vms, index, len(traces))
        if t > 0 and policy == "balancer":
            for vm in vms:
                vm.demand = predicted[int(vm.name[1:])]
            rec = recommend(hosts, vms, threshold=threshold, goal="power")
            hosts, vms = snapshot_after(rec, hosts, vms)  # carried out
            day.migrations += len(rec.moves)
        day.measure(t, before, _host_index(vms, index, len(traces)))
    return day.result()


def _host_index(vms: list[VmLoad], index: dict[str, int], n_vms: int) -> np.ndarray:
    """Each VM's host index; a VM removed (asking nothing from then on) reads 0."""
    out = np.zeros(n_vms, dtype=int)
    for vm in vms:
        out[int(vm.name[1:])] = index[vm.host]
    return out


def run_cloudsim(
    traces: list[list[float]], n_hosts: int, policy: cloudsim.Policy, workload: str = "cloudsim"
) -> dict[str, float]:
    """One of CloudSim's own policies (bench/_cloudsim_policies.py) from CloudSim's first
    placement; its first optimization is one interval after the cloudlets start."""
    day = _Day(traces, n_hosts, workload)
    members = cloudsim.initial_placement(day.hosts, day.mips, day.ram, HOST_RAM_MB)
    history = np.zeros((len(traces), cloudsim.HISTORY))
    for t in range(day.steps - 1):
        gone = day.finishing(t)
        if gone.any():
            members = cloudsim.without(members, gone)
        before = _members_index(members, len(traces))
        moves: list[tuple[int, int]] = []
        if t > 0:
            read = day.read(t)
            history = cloudsim.push_history(history, read)
            moves = cloudsim.optimize_allocation(
                policy, day.hosts, members, day.mips * read, day.mips, day.ram, history
            )
            members = cloudsim.after_migrations(members, moves, day.ram)
            day.migrations += len(moves)
        after = _members_index(members, len(traces))
        day.measure(t, before, after, cloudsim.passed_through(moves))
    return day.result()


def _members_index(members: list[list[int]], n_vms: int) -> np.ndarray:
    """Each VM's host index; a VM removed (asking nothing from then on) reads 0."""
    out = np.zeros(n_vms, dtype=int)
    for h, vms in enumerate(members):
        out[vms] = h
    return out


def initial_placement(
    hosts: list[HostLoad], types: list[tuple[float, float]], predicted: list[float], threshold: int
) -> list[VmLoad]:
    """Our first placement: best-fit decreasing by predicted demand, under the
    threshold's target, powering hosts on (the bigger model first) as needed."""
    target = THRESHOLDS[threshold][0]
    order = sorted(range(len(types)), key=lambda k: -predicted[k])
    vms: list[VmLoad | None] = [None] * len(types)
    for h in hosts:
        h.demand = h.memory_used = 0.0
    spare = sorted(hosts, key=lambda h: (-h.cpu_capacity, h.name))
    for k in order:
        ram = types[k][1]
        room = [h for h in hosts if h.memory_used + ram <= min(h.memory_mib, HOST_RAM_MB)]
        fitting = [
            h
            for h in room
            if h.on
            and h.demand + predicted[k] <= target * h.cpu_capacity
            and predicted[k] <= target * h.core_capacity
        ]
        if fitting:
            h = min(fitting, key=lambda x: x.cpu_capacity - x.demand)
        else:
            h = next(x for x in spare if not x.on)
            h.on = True
        h.demand += predicted[k]
        h.memory_used += ram
        vms[k] = VmLoad(f"v{k}", h.name, predicted[k], ram)
    return [v for v in vms if v is not None]
