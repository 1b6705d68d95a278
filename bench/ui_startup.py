"""From process start to the first painted inventory, with a store of 10,000 hosts and
100,000 VMs (target < 1.5 s), and the console's peak memory once the fleet is loaded and
synced (target < 500 MB).

Each run is a new `python` process (imports included) that opens the console headless
and stops when the inventory tree shows the fleet; the parent times it from just before
the spawn. The app paints from its store first and loads the fleet in the background.

    python bench/ui_startup.py [--runs 5] [--hosts 10000 --vms 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


async def child(db: Path, began: float, wait_for_sync: bool) -> None:
    from vdctui.ui.launch import console_app
    from vdctui.ui.screens.inventory import InventoryScreen

    app = console_app(db)
    async with app.run_test(size=(160, 48)) as pilot:
        while True:
            screen = app.screen
            if isinstance(screen, InventoryScreen) and screen.fleet_tree.root.children:
                break
            await pilot.pause(0.005)
        painted = time.time() - began
        synced = None
        if wait_for_sync:
            while not (app.connected and app.ops.reconciler._seen and not app._syncing):
                await pilot.pause(0.05)
            await pilot.pause(1.0)
            synced = time.time() - began
        await app.ops.close()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"painted": painted, "synced": synced, "peak_mib": peak_mib}))


def run_once(db: Path, wait_for_sync: bool) -> dict[str, float]:
    began = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(db), str(began)]
        + (["--sync"] if wait_for_sync else []),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--vms", type=int, default=100_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--sync", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(Path(args.child[0]), float(args.child[1]), args.sync))
        return
    from _bigstore import big_db

    db = big_db(args.hosts, args.vms)
    paints = [run_once(db, False)["painted"] for _ in range(args.runs)]
    print(
        f"first painted inventory ({args.hosts:,} hosts, {args.vms:,} VMs): median "
        f"{statistics.median(paints):.2f} s, min {min(paints):.2f} s, max {max(paints):.2f} s "
        f"over {args.runs} runs (target < 1.5 s)"
    )
    full = run_once(db, True)
    print(
        f"fleet loaded and first sync done: {full['synced']:.1f} s after start; "
        f"peak RSS {full['peak_mib']:.0f} MiB (target < 500 MB)"
    )


if __name__ == "__main__":
    main()
