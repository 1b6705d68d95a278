"""Intrusion detection over a simulated day: false positives on normal traffic, and the
three injected attacks found.

    python bench/intrusion_day.py [--hosts 64] [--hours 24] [--seed 1]

The demo fleet's normal flows (emulator/flows.py) for HOURS are scanned with the default
thresholds (vdctui.ops.intrusion.Thresholds): every alert is a false positive. Then a
port scan, a brute force and an internal sweep are injected and scanned for.
"""

from __future__ import annotations

import argparse
import time

import emulator
from vdctui.ops.intrusion import Thresholds, detect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=64)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    fleet = emulator.build_demo(seed=args.seed, hosts=args.hosts)
    fleet.advance_flows()
    limits = Thresholds()
    t0 = time.perf_counter()
    false_positives = records = 0
    for _ in range(int(args.hours)):  # an hour at a time: records are kept in a bounded deque
        hour = fleet.now
        fleet.step(3600.0)
        batch = fleet.flow_records(hour)
        records += len(batch)
        false_positives += len(detect(batch, limits))
    took = time.perf_counter() - t0
    running = sorted(n for n, v in fleet.vms.items() if v.state == "running")
    target, inside = running[0], running[-1]
    before = fleet.now
    fleet.inject_attack("port-scan", "203.0.113.66", target)
    fleet.inject_attack("brute-force", "198.51.100.77", target)
    fleet.inject_attack("internal-sweep", inside)
    fleet.step(180.0)
    found = {f.kind for f in detect(fleet.flow_records(before), limits)}
    print(
        f"{args.hours:g} h of normal traffic on {len(fleet.hosts)} hosts / {len(running)} "
        f"running VMs: {records:,} flow records, {false_positives} false positives "
        f"(thresholds: {limits.ports} ports, {limits.attempts} attempts, "
        f"{limits.addresses} addresses per {limits.window_s:g} s); scanned in {took:.1f} s"
    )
    print(f"injected attacks detected: {len(found)} of 3 ({', '.join(sorted(found))})")


if __name__ == "__main__":
    main()
