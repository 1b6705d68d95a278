"""Placement speed: 10,000 placements with the filter scheduler on fleets of 1,000 and
10,000 hosts: per 1,000 hosts, and the growth from 1,000 to 10,000 hosts (linear is 10x).

    python bench/placement.py [--sizes 1000,10000] [--placements 10000] [--policy spread]

Hosts of three sizes in racks of 40 with power budgets, two rooms with a shared
datastore each, some hosts down or in maintenance, VMs of five flavors; every
placement runs all filters and weighers and is counted before the next one.
A quarter of the requests (`--dedicated 0.25`) are dedicated: pinned to CPUs of their
own in one NUMA node of a 2-node host whose first core is reserved.
"""

from __future__ import annotations

import argparse
import os
import random
import time

from vdctui.model import CpuPolicy, CpuTopology, Host, HostState
from vdctui.ops.scheduler import CpuLedger, FleetView, PlacementRequest, Weights, claim, pick, place
from vdctui.ops.scheduler.regular import regular_topology

SIZES = ((64, 262144), (64, 524288), (128, 1048576))
FLAVORS = ((1, 2048), (2, 4096), (4, 8192), (8, 16384), (2, 2048))


def fleet(n: int, rng: random.Random) -> tuple[list[Host], set[str], dict[str, float]]:
    hosts = []
    for i in range(n):
        cpus, memory = SIZES[i % len(SIZES)]
        room = f"room-{i % 2}"
        state = HostState.CRASHED if rng.random() < 0.01 else HostState.UP
        hosts.append(
            Host(
                name=f"host-{i:05d}",
                state=state,
                rack=f"rack-{i // 40:04d}",
                room=room,
                site="site",
                model=f"m{cpus}",
                cpus=cpus,
                cores=cpus // 2,
                mhz=2900,
                memory_mib=memory,
                nic_gbps=25.0,
                reserved_cpus=2,
                reserved_memory_mib=8192,
                datastores=(f"san-{room}", f"local-host-{i:05d}"),
                cpu_util=rng.random() * 0.5,
                power_watts=150 + rng.random() * 100,
            )
        )
    maintenance = {h.name for h in hosts if rng.random() < 0.01}
    budgets = {h.rack: 15.0 for h in hosts}
    return hosts, maintenance, budgets


def topologies(hosts: list[Host]) -> dict[str, CpuTopology]:
    """Two NUMA nodes, two threads a core, core 0 (both threads) reserved for the host."""
    return {
        h.name: regular_topology(
            h.name,
            nodes=2,
            cores_per_node=h.cores // 2,
            threads=h.cpus // h.cores,
            memory_mib=h.memory_mib,
            reserved=(0, h.cores),
        )
        for h in hosts
    }


def measured(n: int, args: argparse.Namespace) -> tuple[float, float]:
    """Build the view of `n` hosts and place every request (each counted before the
    next); print what it took, and return the time of the view and of the placements."""
    rng = random.Random(args.seed)
    hosts, maintenance, budgets = fleet(n, rng)
    weights = Weights.named(args.policy)
    every = max(round(1 / args.dedicated), 1) if args.dedicated > 0 else 0
    racks = max(n // 40, 1)
    requests = []
    for k in range(args.placements):
        vcpus, memory = FLAVORS[k % len(FLAVORS)]
        requests.append(
            PlacementRequest(
                f"vm-{k}",
                vcpus,
                memory,
                datastore=f"san-room-{k % 2}",
                avoid_racks=frozenset({f"rack-{k % racks:04d}"}) if k % 10 == 0 else frozenset(),
                cpu_policy=CpuPolicy.DEDICATED if every and k % every == 1 else CpuPolicy.SHARED,
            )
        )
    ledger = CpuLedger(topologies(hosts))
    t0 = time.perf_counter()
    view = FleetView(hosts, maintenance=maintenance, rack_budgets_kw=budgets, cpus=ledger)
    t1 = time.perf_counter()
    placed = pinned = 0
    for req in requests:
        host = pick(view, req, weights)
        if host is not None:
            claim(view, host, req, float(view.watts_per_cpu[view.index[host]]) * req.vcpus)
            placed += 1
            pinned += req.dedicated
    t2 = time.perf_counter()
    explained = place(view, requests[0], weights)
    t3 = time.perf_counter()
    per = 1000 / n
    each = 1e6 * (t2 - t1) / max(args.placements, 1)
    print(
        f"{n:,} hosts: view built in {t1 - t0:.3f} s ({(t1 - t0) * per:.4f} s per 1,000 "
        f"hosts); {placed:,} of {args.placements:,} placements ({args.policy}) in "
        f"{t2 - t1:.3f} s ({each:.0f} us each, {each * per:.1f} us per 1,000 hosts), "
        f"{pinned:,} of them dedicated (pinned in one NUMA node); one explained: "
        f"{len(explained.ranked):,} ranked, {len(explained.excluded):,} excluded, {t3 - t2:.3f} s"
    )
    return t1 - t0, t2 - t1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="host counts, smallest first")
    parser.add_argument("--placements", type=int, default=10_000)
    parser.add_argument("--policy", default="spread", choices=["spread", "pack", "power"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dedicated", type=float, default=0.25, help="share of dedicated VMs")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rows = [(n, *measured(n, args)) for n in sizes]
    (small, v0, p0), (large, v1, p1) = rows[0], rows[-1]
    if large > small:
        print(
            f"growth {small:,} -> {large:,} hosts ({large / small:g}x; linear is "
            f"{large / small:g}x): view {v1 / v0:.1f}x, {args.placements:,} placements "
            f"{p1 / p0:.1f}x"
        )


if __name__ == "__main__":
    main()
