"""Consolidation on real traces: replay a day of PlanetLab CPU traces with CloudSim's
reference setup and compare our balancer with the plain baselines and CloudSim.

    python bench/consolidation.py --traces ../shared/traces/planetlab/20110303 \
        [--reference ../shared/traces/planetlab/README.md] [--threshold 3] [--hosts 800]

Setup (from the traces' README): 800 hosts alternating HP ML110 G4 (2 x 1860 MIPS,
curve 86..117 W) and G5 (2 x 2660 MIPS, 93.7..135 W), 4096 MB each, 1 Gbit/s; one VM
per trace file (sorted), four types in contiguous blocks; a VM's demand = its MIPS x
trace / 100; 300 s intervals; a migration lasts RAM / (1 Gbit/s / 2) and the VM loses
10 % of its demand meanwhile; an empty host is off (0 W). Energy is counted over the
287 intervals between the 288 samples, as CloudSim does (NPA: 2410.8 kWh).

SLA and energy are measured as CloudSim 3.0.3 measures them (bench/_cloudsim_sla.py):
one PE per VM capped at the host's PE MIPS, proportional scaling on oversubscribed hosts,
a migrating VM at 10 % on its target and 90 % on its source for RAM / 62.5 MB/s, host
and VM state histories cut at migration completions, SLATAH over active host time, PDM
as Helper's ratio of totals (migration shortfall / all requested MIPS x s), energy as the
trapezoid between updates. With `--ram cloudsim` RAM bounds only the first placement
(CloudSim reserves full RAM at creation, then 0 MB). The "no migrations" baseline is
our RAM-bound first placement kept all day (compare with CloudSim's DVFS row).

Our policy (vdctui.ops.balancer.recommend, goal "power"): every interval, with each
VM's demand predicted as its peak over the last `--window` samples, relieve hosts
above the threshold's target utilization (and VMs whose vCPU wants more than target of
a host core, onto faster cores), then empty the hosts with the fewest VMs whose VMs fit
elsewhere under target less the threshold's minimum gain (packing headroom). Nothing
here is fitted to one day.

The replay is this script's own interval-by-interval model (not a step-by-step run of
emulator.Fleet); what is still not CloudSim's: our first placement and policy, and
CloudSim's 0.1 s event offsets and HashMap summation order.
"""

from __future__ import annotations

import argparse
import math
import re
import time
from collections import deque
from pathlib import Path

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


def load_traces(folder: Path) -> list[list[float]]:
    files = sorted(p for p in folder.iterdir() if p.is_file())
    return [[float(x) for x in f.read_text().split()] for f in files]


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


def run(
    traces: list[list[float]],
    n_hosts: int,
    policy: str,
    threshold: int,
    window: int,
    ram: str = "strict",
) -> dict[str, float]:
    """policy: "npa" (all on at full power), "static" (initial placement, no migration),
    "balancer" (ours). SLA and energy are measured as CloudSim does (bench/_cloudsim_sla)."""
    steps = min(len(t) for t in traces)
    types = make_vms(traces)
    if policy == "npa":
        watts = sum(power_at(HOST_MODELS[i % 2][1], 1.0) for i in range(n_hosts))
        return {
            "energy_kwh": watts * (steps - 1) * INTERVAL_S / 3.6e6,
            "slatah": 0.0,
            "pdm": 0.0,
            "migrations": 0,
        }
    # "cloudsim": CloudSim 3.0.3 asks 0 MB for a running VM whose cloudlet has a null RAM
    # model (as in its PlanetLab examples), so RAM only bounds the first placement there.
    hosts = make_hosts(n_hosts, HOST_RAM_MB if ram == "strict" else math.inf)
    index = {h.name: i for i, h in enumerate(hosts)}
    fleet = sla.Fleet(
        np.array([PE_MIPS[i % 2] for i in range(n_hosts)]),
        np.array([HOST_MODELS[i % 2][1] for i in range(n_hosts)]),
    )
    mips = np.array([m for m, _ in types])
    ram_mb = np.array([r for _, r in types])
    util = np.array([t[:steps] for t in traces], dtype=float).T / 100.0  # [step, vm]
    history = [deque(maxlen=window) for _ in traces]
    vms: list[VmLoad] = []
    totals = sla.Totals()
    migrations = 0
    for t in range(steps - 1):
        demand = mips * util[t]
        for k, d in enumerate(demand):
            history[k].append(float(d))
        predicted = [max(h) for h in history]
        if t == 0:
            vms = initial_placement(hosts, types, predicted, threshold)
        before = np.array([index[vm.host] for vm in vms])
        if t > 0 and policy == "balancer":
            for vm, p in zip(vms, predicted, strict=True):
                vm.demand = p
            rec = recommend(hosts, vms, threshold=threshold, goal="power")
            hosts, vms = snapshot_after(rec, hosts, vms)  # carried out
            migrations += len(rec.moves)
        after = np.array([index[vm.host] for vm in vms])
        sla.interval(
            fleet, before, after, ram_mb, demand, mips * util[t + 1], totals, MIGRATION_MB_S
        )
    return {
        "energy_kwh": totals.energy_j / 3.6e6,
        "slatah": totals.slatah(),
        "pdm": totals.pdm(),
        "migrations": migrations,
        **{f"slatah {k}": v / totals.active_s for k, v in (totals.by_cause or {}).items()},
    }


def initial_placement(
    hosts: list[HostLoad], types: list[tuple[float, float]], predicted: list[float], threshold: int
) -> list[VmLoad]:
    """Best-fit decreasing by predicted demand, under the threshold's target, powering
    hosts on (the bigger model first) as needed."""
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


def reference_rows(readme: Path) -> list[str]:
    rows = []
    for line in readme.read_text().splitlines():
        if re.match(r"^\| [A-Z]", line) and "policy" not in line:
            rows.append(line)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=Path, required=True)
    parser.add_argument(
        "--reference",
        type=Path,
        default=None,
        help="A README with CloudSim's result table to print beside ours.",
    )
    parser.add_argument("--hosts", type=int, default=800)
    parser.add_argument("--threshold", type=int, default=3, choices=sorted(THRESHOLDS))
    parser.add_argument(
        "--ram",
        choices=["strict", "cloudsim"],
        default="strict",
        help="strict: VMs hold their RAM on a host (4096 MB); cloudsim: RAM "
        "does not bound consolidation, as in CloudSim's examples.",
    )
    parser.add_argument(
        "--window",
        type=int,
        default=3,
        help="Samples over which a VM's demand is predicted as its peak.",
    )
    args = parser.parse_args()
    traces = load_traces(args.traces)
    print(
        f"{len(traces)} VMs, {min(len(t) for t in traces)} samples, {args.hosts} hosts, "
        f"RAM model {args.ram}, threshold {args.threshold}, window {args.window}"
    )
    print("| policy | energy kWh | SLATAH | PDM | SLAV | ESV (energy x SLAV) | migrations |")
    print("|---|---|---|---|---|---|---|")
    runs = [
        ("NPA (ours, check: 2410.8)", "npa"),
        ("no migrations (ours)", "static"),
        (f"vdctui balancer, threshold {args.threshold}", "balancer"),
    ]
    notes: list[str] = []
    for label, policy in runs:
        t0 = time.perf_counter()
        r = run(traces, args.hosts, policy, args.threshold, args.window, args.ram)
        slav = r["slatah"] * r["pdm"]
        print(
            f"| {label} | {r['energy_kwh']:.2f} | {100 * r['slatah']:.4f}% | "
            f"{100 * r['pdm']:.3f}% | {100 * slav:.7f}% | {r['energy_kwh'] * slav:.7f} | "
            f"{int(r['migrations']):,} |  ({time.perf_counter() - t0:.1f} s)"
        )
        causes = {k[7:]: v for k, v in r.items() if k.startswith("slatah ")}
        if causes:
            notes.append(
                f"{label}: SLATAH time with "
                + ", ".join(f"{k} {100 * v:.2f}%" for k, v in causes.items())
            )
    for note in notes:
        print(note)
    if args.reference:
        print("\nCloudSim 3.0.3 on this setup (from the reference):")
        for row in reference_rows(args.reference):
            print(row)


if __name__ == "__main__":
    main()
