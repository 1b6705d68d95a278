"""The console's first paint against a bare Textual app, and its first full sync against
reading the fleet file: ratios measured in one run, so they hold on any machine.

1. First paint (target: console <= 2x the bare app). Each run is a new `python` process
   (imports included), timed by the parent from just before the spawn to the first frame
   drawn with the inventory tree filled (Textual's call back after the screen's refresh,
   which the console takes as its cue to load the fleet): the console over a store of
   10,000 hosts and 100,000 VMs, and a bare Textual app (Header, a Tree, Footer) started
   the same way.
   The two alternate, run after run; modules are imported from bytecode (as installed),
   cached in a temporary folder after one warm-up run each.
2. First full sync at 100,000 VMs (target: <= 3x reading the fleet file): in this
   process, reading the emulated fleet's file, then a console's first `sync()` over a
   copy of the same data center (it reads what the store last saw, the fleet, and writes
   what changed); alternated, median of each; and how long the syncs held the store's
   write lock at a time (what another process's change waits for).
3. The console once the fleet is loaded and synced: when that was, and its peak memory
   (target < 500 MB).

    python bench/ui_startup.py [--runs 5] [--syncs 3] [--hosts 10000 --vms 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PYCACHE = Path(tempfile.gettempdir()) / "vdctui-bench-pycache"


async def painted_console(db: Path, began: float, wait_for_sync: bool) -> None:
    from vdctui.ui.launch import console_app
    from vdctui.ui.screens.inventory import InventoryScreen

    app = console_app(db)
    async with app.run_test(size=(160, 48)) as pilot:
        while app.first_painted_at is None:  # set once the inventory is drawn
            await pilot.pause(0.005)
        assert isinstance(app.screen, InventoryScreen) and app.screen.fleet_tree.root.children
        painted = app.first_painted_at - began
        if not wait_for_sync:  # done: not waiting for the fleet the app now loads
            print(json.dumps({"painted": painted}), flush=True)
            os._exit(0)
        synced = None
        if wait_for_sync:
            while not (app.connected and app.ops.reconciler._seen and not app._syncing):
                await pilot.pause(0.05)
            synced = time.time() - began
            await pilot.pause(1.0)
        await app.ops.close()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"painted": painted, "synced": synced, "peak_mib": peak_mib}))


async def painted_bare(began: float) -> None:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Tree

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Tree("fleet")
            yield Footer()

        def on_mount(self) -> None:
            tree = self.query_one(Tree)
            tree.show_root = False
            site = tree.root.add("site-1", expand=True)
            for room in range(4):
                site.add(f"room-{room}", allow_expand=True)
            self.screen.call_after_refresh(self.painted)  # as the console says it

        def painted(self) -> None:
            self.first_painted_at = time.time()

    app = Bare()
    app.first_painted_at = None
    async with app.run_test(size=(160, 48)) as pilot:
        while app.first_painted_at is None:
            await pilot.pause(0.005)
        painted = app.first_painted_at - began
    print(json.dumps({"painted": painted}))


def child_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(PYCACHE))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_child(*args: str) -> dict[str, float]:
    began = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args, str(began)],
        check=True,
        capture_output=True,
        text=True,
        env=child_env(),
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def first_paint(db: Path, runs: int) -> None:
    run_child("bare")  # warm-up: bytecode cached for both
    run_child("console", str(db))
    bare: list[float] = []
    console: list[float] = []
    for run in range(runs):
        order = ("bare", "console") if run % 2 == 0 else ("console", "bare")
        for kind in order:
            if kind == "bare":
                bare.append(run_child("bare")["painted"])
            else:
                console.append(run_child("console", str(db))["painted"])
    pairs = sorted(c / b for c, b in zip(console, bare, strict=True))
    ratio = statistics.median(console) / statistics.median(bare)
    print(
        f"first paint, median of {runs} runs each (alternated): console "
        f"{statistics.median(console):.2f} s (min {min(console):.2f}, max {max(console):.2f}), "
        f"bare Textual app {statistics.median(bare):.2f} s (min {min(bare):.2f}, "
        f"max {max(bare):.2f})"
    )
    print(
        f"  ratio console/bare: {ratio:.2f}x (run by run: median {statistics.median(pairs):.2f}x, "
        f"{pairs[0]:.2f}x to {pairs[-1]:.2f}x) (target <= 2x)"
    )


@contextlib.contextmanager
def write_transactions_timed(held: list[float]) -> Iterator[None]:
    """Time every outer write transaction of the store (how long the write lock is held)."""
    from vdctui.store.connection import SharedDatabase

    atomic = SharedDatabase.atomic

    @contextlib.contextmanager
    def timed(self: SharedDatabase) -> Iterator[SharedDatabase]:
        outer = not self.conn.in_transaction
        began = time.perf_counter()
        with atomic(self) as db:
            yield db
        if outer:
            held.append(time.perf_counter() - began)

    SharedDatabase.atomic = timed  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        SharedDatabase.atomic = atomic  # type: ignore[method-assign]


def first_sync(db: Path, syncs: int) -> None:
    import emulator
    from vdctui.backend import fleet_path, open_console

    held: list[float] = []

    async def one_sync(copy: Path) -> float:
        console = await open_console(copy, speed=None)
        try:
            began = time.perf_counter()
            with write_transactions_timed(held):
                await console.sync()
            return time.perf_counter() - began
        finally:
            await console.close()

    def read_fleet() -> float:
        began = time.perf_counter()
        fleet_file = emulator.FleetFile(fleet_path(db), read_only=True)
        try:
            fleet_file.load()
        finally:
            fleet_file.close()
        return time.perf_counter() - began

    reads: list[float] = []
    took: list[float] = []
    with tempfile.TemporaryDirectory(prefix="vdctui-bench-sync-") as scratch:
        for _ in range(syncs):
            reads.append(read_fleet())
            copy = Path(scratch) / "vdctui.db"
            shutil.copyfile(db, copy)
            shutil.copyfile(fleet_path(db), fleet_path(copy))
            took.append(asyncio.run(one_sync(copy)))
            for path in Path(scratch).iterdir():
                path.unlink()
    ratio = statistics.median(took) / statistics.median(reads)
    print(
        f"first full sync: {statistics.median(took):.2f} s (min {min(took):.2f}); reading the "
        f"fleet file {statistics.median(reads):.2f} s (min {min(reads):.2f}); medians of "
        f"{syncs}, alternated: ratio {ratio:.2f}x (target <= 3x)"
    )
    held.sort()
    print(
        f"  write lock held by the syncs: {len(held)} transactions, median "
        f"{statistics.median(held) * 1000:.0f} ms, longest {held[-1] * 1000:.0f} ms "
        "(another process's change waits at most about that long)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--syncs", type=int, default=3)
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--vms", type=int, default=100_000)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "bare":
            asyncio.run(painted_bare(float(rest[0])))
        else:
            sync = kind == "console-sync"
            asyncio.run(painted_console(Path(rest[0]), float(rest[1]), sync))
        return
    from _bigstore import big_db

    db = big_db(args.hosts, args.vms)
    print(f"{args.hosts:,} hosts, {args.vms:,} VMs; load average before: {load_average()}")
    first_paint(db, args.runs)
    first_sync(db, args.syncs)
    full = run_child("console-sync", str(db))
    print(
        f"console: fleet loaded and first sync done {full['synced']:.1f} s after start; "
        f"peak RSS {full['peak_mib']:.0f} MiB (target < 500 MB)"
    )
    print(f"load average after: {load_average()} ({os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
