"""Many processes, one data center (issue 10): a console syncing a big embedded fleet
every 2 s, 8 processes issuing changes through the ops door, and CLI commands beside.

    python bench/concurrency.py                      # 10,000 hosts / 100,000 VMs
    python bench/concurrency.py --hosts 500 --vms 5000 --seconds 20   # a quick run
    python bench/concurrency.py --pace 2         # each changer at most 2 changes/s

Prints changes per second (all 8 changers together), the p95 latency of one change
through the door (in its process) and of a CLI change (`vm suspend` / `vm resume`, a
whole process), and the p95 latency of a CLI read (`vm list --host H`). Targets:
read < 300 ms, change < 1 s.

What the changes are: each changer suspends and resumes a VM of its own, back and
forth; the console holds the embedded fleet, so every change is handed to it through
the store and carried out there (vdctui.fleet_sharing), audited in the changer's
name. The CLI read follows the store (the console holds the fleet): it reads it in its
own process, without an event loop (vdctui.store_reads), so most of its time is its
interpreter's start-up; the floor under it, a bare interpreter's start, is timed beside
each read and printed with it.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import importlib.util
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._bigstore import big_db  # noqa: E402


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else float("nan")


async def run_console(db: Path, seconds: float) -> None:
    """The console: hold the embedded fleet (real time) and sync it every 2 s; after a
    sync that took longer, it leaves as much time again before the next one (as the TUI
    does: vdctui.ui.app.sync_fleet), so a big fleet's syncs do not take all its time."""
    from vdctui.backend import open_console

    console = await open_console(db, speed=1.0)
    print("ready", flush=True)
    took: list[float] = []
    whole = 0
    ends = time.monotonic() + seconds
    try:
        while time.monotonic() < ends:
            began = time.monotonic()
            await console.sync()
            took.append(time.monotonic() - began)
            whole += console.reconciler.whole  # it read every VM (else what changed)
            spent = time.monotonic() - began
            await asyncio.sleep(max(2.0 - spent, spent))
    finally:
        await console.close()
    detail = f"{whole} whole (every VM read), the first {took[0]:.1f} s"
    if whole < len(took):
        detail += f"; {len(took) - whole} read what changed"
    print(
        f"syncs {len(took)} median {statistics.median(took) * 1000:.0f} ms ({detail})", flush=True
    )


async def run_changer(db: Path, seconds: float, vm: str, pace: float) -> None:
    """One changer: suspend / resume its VM, handed to the console that holds the fleet,
    back and forth, timed; `pace` changes per second at most (0: as fast as it can)."""
    from vdctui.backend import open_console
    from vdctui.ops import Failed

    console = await open_console(db, shares=True)
    took: list[float] = []
    ends = time.monotonic() + seconds
    paused = False
    try:
        while time.monotonic() < ends:
            began = time.perf_counter()
            try:
                await (console.resume_vm(vm) if paused else console.suspend_vm(vm))
            except Failed:  # the store stayed busy past its bound: one sentence, counted
                took.append(-(time.perf_counter() - began))
                continue
            paused = not paused
            took.append(time.perf_counter() - began)
            if pace > 0:
                await asyncio.sleep(max(0.0, 1 / pace - (time.perf_counter() - began)))
    finally:
        await console.close()
    print(" ".join(f"{t:.6f}" for t in took), flush=True)


def cli(db: Path, *args: str) -> float:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "vdctui", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    if done.returncode not in (0, 3):
        raise SystemExit(f"vdctui {' '.join(args)} failed: {done.stderr.strip()}")
    return time.perf_counter() - began


def compile_modules() -> str:
    """Byte-compile vdctui and the emulator, as installing the package does (pip compiles
    what it installs): otherwise, where PYTHONDONTWRITEBYTECODE is set (this environment),
    every CLI process compiles each module it imports, every time. Says what it found."""
    cached = Path(importlib.util.cache_from_source(str(ROOT / "vdctui" / "cli" / "main.py")))
    found = "already" if cached.exists() else "now"
    for package in ("vdctui", "emulator"):
        compileall.compile_dir(ROOT / package, quiet=1)
    return f"{found} ({cached.parent})"


def bare_start() -> float:
    """A bare interpreter's start-up (`python -c pass`, site and its .pth files
    included), the floor under any CLI process: timed beside each CLI read, so under
    the same load."""
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - began


def read_in_process(db: Path, host: str) -> float:
    """What `vm list --host H` does once its interpreter has started and imported what
    it needs: the console holding the fleet, it reads the store without an event loop
    (vdctui.store_reads): the host, its VMs with when each was seen (the SEEN column)."""
    from vdctui.store_reads import open_reader

    began = time.perf_counter()
    reader = open_reader(db)
    if reader is None:
        raise SystemExit("the console no longer holds the fleet: a read would sync it itself")
    try:
        reader.host(host)
        reader.vm_sightings(reader.vms(host=host))
    finally:
        reader.close()
    return time.perf_counter() - began


def spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, __file__, *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--vms", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--changers", type=int, default=8)
    parser.add_argument("--part", choices=("console", "changer"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--pace", type=float, default=0.0, help="changes/s per changer at most (0: flat out)"
    )
    parser.add_argument("--vm", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part == "console":
        asyncio.run(run_console(args.db, args.seconds))
        return
    if args.part == "changer":
        asyncio.run(run_changer(args.db, args.seconds, args.vm, args.pace))
        return

    db = big_db(args.hosts, args.vms)
    compiled = compile_modules()
    from vdctui.model import VmState
    from vdctui.store import Store

    with Store(db) as store:
        host = store.hosts()[0].name
        running = sorted(v.name for v in store.vms(state=VmState.RUNNING))
    mine, cli_vm = running[: args.changers], running[args.changers]
    seconds = str(args.seconds)
    console = spawn("--part", "console", "--db", str(db), "--seconds", str(args.seconds + 10))
    assert console.stdout is not None
    if console.stdout.readline().strip() != "ready":
        raise SystemExit("the console did not start")
    changers: list[subprocess.Popen[str]] = []
    try:
        changers += [
            spawn(
                *("--part", "changer", "--db", str(db), "--seconds", seconds, "--vm", vm),
                *("--pace", str(args.pace)),
            )
            for vm in mine
        ]
        began = time.monotonic()
        reads: list[float] = []
        cli_changes: list[float] = []
        warm: list[float] = []
        bare: list[float] = []
        while time.monotonic() - began < args.seconds:
            warm.append(read_in_process(db, host))
            reads.append(cli(db, "--json", "vm", "list", "--host", host))
            bare.append(bare_start())
            verb = "resume" if len(cli_changes) % 2 else "suspend"
            cli_changes.append(cli(db, "vm", verb, cli_vm))
        door: list[float] = []
        busy = 0
        for proc in changers:
            out, _ = proc.communicate(timeout=args.seconds + 120)
            times = [float(t) for t in out.split()]
            door += [t for t in times if t >= 0]
            busy += sum(1 for t in times if t < 0)
        syncs, _ = console.communicate(timeout=args.seconds + 300)
    finally:
        for proc in [*changers, console]:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=60)

    load = os.getloadavg()[0]
    print(f"fleet: {args.hosts:,} hosts / {args.vms:,} VMs; console: {syncs.strip()}")
    print(
        f"changes: {len(door):,} by {args.changers} processes in {args.seconds:.0f} s = "
        f"{len(door) / args.seconds:.0f}/s; door p95 {p95(door) * 1000:.0f} ms "
        f"(median {statistics.median(door) * 1000:.0f} ms); {busy} refused as busy "
        "(the store's write lock held past its 5 s bound)"
    )
    print(
        f"CLI change (vm suspend/resume, handed over) p95 {p95(cli_changes) * 1000:.0f} ms "
        f"(median {statistics.median(cli_changes) * 1000:.0f} ms), "
        f"CLI read (vm list --host {host}) p95 {p95(reads) * 1000:.0f} ms "
        f"(median {statistics.median(reads) * 1000:.0f} ms; {len(reads)} reads; target "
        f"< 300 ms {'met' if p95(reads) < 0.3 else 'NOT met'})"
    )
    print(
        f"  of which the read itself (in this process, no interpreter start-up or imports) "
        f"p95 {p95(warm) * 1000:.0f} ms (median {statistics.median(warm) * 1000:.0f} ms); "
        f"modules byte-compiled: {compiled}"
    )
    print(
        f"  the floor, a bare interpreter's start (`python -c pass`, beside each read): "
        f"median {statistics.median(bare) * 1000:.0f} ms, p95 {p95(bare) * 1000:.0f} ms; "
        f"the whole read is {statistics.median(reads) / statistics.median(bare):.1f}x it "
        f"(medians), {p95(reads) / p95(bare):.1f}x (p95)"
    )
    beyond = [read - floor for read, floor in zip(reads, bare, strict=True)]
    print(
        f"  the read beyond the floor (each read less the bare start timed beside it): "
        f"median {statistics.median(beyond) * 1000:.0f} ms, p95 {p95(beyond) * 1000:.0f} ms"
    )
    print(
        f"machine: {os.cpu_count()} cores, load average {load:.1f} at the end "
        "(shared with other work: figures are under that load)"
    )


if __name__ == "__main__":
    main()
