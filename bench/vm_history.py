"""What the VMs' CPU and memory trends cost at 100,000 VMs: the memory the last 30 syncs
hold, each sync's recording against the reconciler's own per-VM loop (`material()`,
which every sync runs anyway), and reading one page's trends.

    python bench/vm_history.py [--vms 100000] [--runs 7]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import tracemalloc

from vdctui.model import Vm, VmState
from vdctui.ops.reconcile import material
from vdctui.ops.vm_history import SAMPLES, VmHistory


def fleet(count: int) -> list[Vm]:
    """VMs as a sync lists them: nine in ten running, at varied CPU."""
    return [
        Vm(
            name=f"vm-{i:06d}",
            state=VmState.RUNNING if i % 10 else VmState.SHUTOFF,
            host=f"h{i % 1000}",
            vcpus=2,
            memory_mib=4096,
            max_vcpus=4,
            max_memory_mib=8192,
            cpu_util=(i % 100) / 100,
            memory_used_mib=2048,
        )
        for i in range(count)
    ]


async def measure(count: int, runs: int) -> None:
    vms = fleet(count)
    history = VmHistory()
    tracemalloc.start()
    for _ in range(SAMPLES + 2):
        await history.record(vms)
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{count:,} VMs; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"held for {SAMPLES} syncs: {held / 2**20:.1f} MiB (peak {peak / 2**20:.1f} MiB)")
    loop, recording = [], []
    for _ in range(runs):  # alternated
        began = time.perf_counter()
        for vm in vms:
            material(vm)
        loop.append(time.perf_counter() - began)
        began = time.perf_counter()
        await history.record(vms)
        recording.append(time.perf_counter() - began)
    ml, mr = statistics.median(loop), statistics.median(recording)
    print(
        f"a sync's recording: median {mr * 1000:.0f} ms = {mr / ml:.2f}x the reconciler's "
        f"material() loop over the same VMs ({ml * 1000:.0f} ms), medians of {runs}"
    )
    began = time.perf_counter()
    for vm in vms[:48]:
        history.trend(vm.name)
    print(f"one page's trends (48 VMs): {(time.perf_counter() - began) * 1000:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vms", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(measure(args.vms, args.runs))


if __name__ == "__main__":
    main()
