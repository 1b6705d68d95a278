"""How the emulator scales: build and step per 1,000 hosts, and their growth from 1,000
to 10,000 hosts (10 VMs per host; linear growth is 10x); then, on the largest fleet,
steps with live migrations, a simulated hour, save and load.

python bench/emulator_scale.py [--sizes 1000,10000] [--vms-per-host 10] [--steps 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from emulator import Fleet, FleetFile, build_demo


def measured(hosts: int, vms: int, steps: int) -> tuple[Fleet, float, float, float]:
    """A demo fleet, the time to build it, and its step(1.0) median and p95."""
    t = time.perf_counter()
    fleet = build_demo(seed=0, hosts=hosts, vms=vms)
    built = time.perf_counter() - t
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        fleet.step(1.0)
        times.append(time.perf_counter() - t)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return fleet, built, statistics.median(times), p95


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="1000,10000", help="host counts, smallest first")
    ap.add_argument("--vms-per-host", type=int, default=10)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]
    print(f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rows = []
    for hosts in sizes:
        fleet, built, step, p95 = measured(hosts, hosts * args.vms_per_host, args.steps)
        per = 1000 / hosts
        rows.append((hosts, built, step))
        print(
            f"{hosts:,} hosts / {len(fleet.vms):,} VMs: build {built:.2f} s "
            f"({built * per:.3f} s per 1,000 hosts); step(1.0) median {step * 1000:.1f} ms, "
            f"p95 {p95 * 1000:.1f} ms ({step * 1000 * per:.2f} ms per 1,000 hosts)"
        )
    (small, b0, s0), (large, b1, s1) = rows[0], rows[-1]
    if large > small:
        print(
            f"growth {small:,} -> {large:,} hosts ({large / small:g}x; linear is "
            f"{large / small:g}x): build {b1 / b0:.1f}x, step {s1 / s0:.1f}x"
        )

    hosts = sorted(fleet.hosts)
    running = [v for v in fleet.vms.values() if v.state == "running"][:50]
    for i, v in enumerate(running):
        target = hosts[(hosts.index(v.host) + 1 + i) % len(hosts)]
        if fleet.memory_free_mib(target) > v.memory_mib:
            fleet.migrate(v.name, target, copy_storage=True)
    times = []
    for _ in range(args.steps):
        t = time.perf_counter()
        fleet.step(1.0)
        times.append(time.perf_counter() - t)
    print(f"step(1.0) with ~50 live migrations: median {statistics.median(times) * 1000:.1f} ms")

    t = time.perf_counter()
    fleet.step(3600.0)
    print(f"step(3600.0): {time.perf_counter() - t:.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fleet.db"
        ff = FleetFile(path)
        t = time.perf_counter()
        ff.save(fleet, full=True)
        print(f"full save: {time.perf_counter() - t:.2f} s, {path.stat().st_size / 1e6:.1f} MB")
        name = next(v.name for v in fleet.vms.values() if v.state == "running")
        fleet.suspend_vm(name)
        t = time.perf_counter()
        rows = ff.save(fleet)
        print(
            f"incremental save after one operator change ({rows} row): "
            f"{(time.perf_counter() - t) * 1000:.1f} ms"
        )
        t = time.perf_counter()
        loaded = FleetFile(path).load()
        print(f"load: {time.perf_counter() - t:.2f} s ({len(loaded.vms)} VMs)")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MiB")
    print(f"summary: {fleet.summary()}")


if __name__ == "__main__":
    main()
