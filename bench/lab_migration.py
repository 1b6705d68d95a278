"""Live migration on real hypervisors (the lab): the console against plain `virsh migrate`.

    python bench/lab_migration.py [--runs 5] [--dirty-mib 256]

Needs root and the lab's packages (see README, "Try it on real libvirt"); brings up a
lab of two hosts unless one is up, and takes down only one it brought up. A VM with
DIRTY MiB of random memory moves labh1 <-> labh2, RUNS times with the console
(`Console.migrate_vm` over SSH, progress and history included) and RUNS times with
plain `virsh migrate` run on the source host, alternating. Prints both medians and
their ratio (target: the console within 10 %), the median interval between the
console's progress updates (target <= 1 s), and the median time from `virsh destroy`
on a host to the console's store saying "shut off" (target <= 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lab.guests import dirty_image, domain_xml, write_halt_image  # noqa: E402
from tests.lab.hosts import host_ip  # noqa: E402
from tests.lab.inventory import write_inventory  # noqa: E402
from tests.lab.lab import Lab  # noqa: E402
from vdctui.backend_ssh import ssh_console  # noqa: E402
from vdctui.model import MigrationOutcome, MigrationProgress, VmState  # noqa: E402
from vdctui.ops import Console  # noqa: E402
from vdctui.ops.migration import MigrationRun  # noqa: E402

VM = "bench-mig"


def where(lab: Lab) -> int:
    for n in (1, 2):
        if lab.virsh(n, "domstate", VM, check=False).returncode == 0:
            return n
    raise SystemExit(f"{VM} is on no lab host")


def plain_virsh(lab: Lab, source: int) -> float:
    target = 3 - source
    began = time.monotonic()
    lab.virsh(source, "migrate", "--live", "--persistent", "--undefinesource", "--p2p",
              VM, f"qemu+ssh://root@{host_ip(target)}/system", timeout=600)  # fmt: skip
    return time.monotonic() - began


async def with_console(console: Console, source: int, gaps: list[float]) -> float:
    stamps: list[float] = []

    def progress(_run: MigrationRun, sample: MigrationProgress) -> None:
        if sample.phase == "precopy" and sample.percent < 100:
            stamps.append(time.monotonic())

    await console.sync()
    began = time.monotonic()
    run = await console.migrate_vm(VM, f"labh{3 - source}", on_progress=progress)
    result = await run.wait()
    took = time.monotonic() - began
    if result.outcome is not MigrationOutcome.SUCCEEDED:
        raise SystemExit(f"console migration {result.outcome}: {result.reason}")
    gaps.extend(b - a for a, b in zip(stamps, stamps[1:], strict=False))
    return took


async def destroy_to_shown(
    lab: Lab, console: Console, runs: int
) -> tuple[list[float], list[float]]:
    """(from `virsh destroy` issued to the store saying so, of which virsh itself took)"""
    follower = asyncio.get_running_loop().create_task(console.follow_events())
    times, own = [], []
    try:
        await asyncio.sleep(2.0)  # the event channels open
        for _ in range(runs):
            host = where(lab)
            while (vm := console.store.vm(VM)) is None or vm.state is not VmState.RUNNING:
                await console.sync()  # it runs again, and the console knows
            began = time.monotonic()
            destroy = asyncio.create_task(asyncio.to_thread(lab.virsh, host, "destroy", VM))
            while (vm := console.store.vm(VM)) is None or vm.state is not VmState.SHUTOFF:
                await asyncio.sleep(0.01)
            times.append(time.monotonic() - began)
            await destroy
            own.append(time.monotonic() - began)
            lab.virsh(host, "start", VM)
    finally:
        follower.cancel()
        with contextlib.suppress(BaseException):
            await follower
    return times, own


async def bench(lab: Lab, runs: int, dirty_mib: int) -> None:
    image = write_halt_image(lab.images)
    xml = domain_xml(VM, image, accel=lab.accel, memory_mib=dirty_mib + 64,
                     dirty=dirty_image(lab.images, dirty_mib))  # fmt: skip
    for n in (1, 2):
        lab.virsh(n, "destroy", VM, check=False)
        lab.virsh(n, "undefine", VM, check=False)
    lab.virsh(1, "define", "/dev/stdin", input=xml)
    lab.virsh(1, "start", VM)
    with tempfile.TemporaryDirectory() as tmp:
        inventory = write_inventory(lab, Path(tmp) / "lab.toml")
        console = ssh_console(Path(tmp) / "bench.db", inventory)
        try:
            plain, ours, gaps = [], [], []
            for _ in range(runs):
                plain.append(plain_virsh(lab, where(lab)))
                ours.append(await with_console(console, where(lab), gaps))
            shown, own = await destroy_to_shown(lab, console, runs)
        finally:
            await console.close()
            for n in (1, 2):
                lab.virsh(n, "destroy", VM, check=False)
                lab.virsh(n, "undefine", VM, check=False)
    p, c = statistics.median(plain), statistics.median(ours)
    say = print
    say(f"guests use {lab.accel.upper()}; a VM with {dirty_mib} MiB of random memory; {runs} runs")
    say(f"plain virsh migrate: median {p:.2f} s  ({', '.join(f'{t:.2f}' for t in plain)})")
    say(f"console migrate:     median {c:.2f} s  ({', '.join(f'{t:.2f}' for t in ours)})")
    say(f"ratio console/plain: {c / p:.3f}  (target <= 1.10)")
    if gaps:
        say(f"progress interval:   median {statistics.median(gaps):.2f} s, max {max(gaps):.2f} s")
    say(
        f"virsh destroy -> console shows it: median {statistics.median(shown):.2f} s "
        f"({', '.join(f'{t:.2f}' for t in shown)}); virsh destroy itself returned after "
        f"{statistics.median(own):.2f} s, the console's delay after it "
        f"{statistics.median(a - b for a, b in zip(shown, own, strict=True)):+.2f} s"
        "  (target <= 2 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dirty-mib", type=int, default=256)
    args = parser.parse_args()
    lab = Lab()
    if lab.owner() is not None:
        raise SystemExit(f"A test session (process {lab.owner()}) holds the lab; run this later.")
    brought_up = not lab.is_up()
    if brought_up:
        lab.up(2, hold=True)
    try:
        asyncio.run(bench(lab, args.runs, args.dirty_mib))
    finally:
        if brought_up:
            lab.down()


if __name__ == "__main__":
    main()
