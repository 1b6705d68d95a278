"""How the emulator scales: build, step, save and load a large fleet.

python bench/emulator_scale.py [--hosts 10000] [--vms 100000] [--steps 20]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

from emulator import FleetFile, build_demo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hosts", type=int, default=10_000)
    ap.add_argument("--vms", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()

    t = time.perf_counter()
    fleet = build_demo(seed=0, hosts=args.hosts, vms=args.vms)
    print(
        f"build_demo(hosts={args.hosts}, vms={args.vms}): {time.perf_counter() - t:.2f} s "
        f"({len(fleet.racks)} racks, {len(fleet.rooms)} rooms)"
    )

    times = []
    for _ in range(args.steps):
        t = time.perf_counter()
        fleet.step(1.0)
        times.append(time.perf_counter() - t)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(
        f"step(1.0): median {statistics.median(times) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms over {args.steps} steps"
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
