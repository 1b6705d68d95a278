"""A full inventory refresh over SSH: 500 emulated hosts, connections included.

Starts `vdctui emulate --serve-ssh` (500 hosts on 127.0.0.1, in its own
process) and times, in this process:
1. the console's refresh of all 500 hosts (list_hosts + list_vms, as a sync
   does), from a cold start: every SSH connection is made inside the timing;
2. the same refresh of the first 50 hosts, cold again;
3. the way a shell script would do those 50: one OpenSSH `ssh HOST virsh ...`
   per host, one after another (the same virsh script per host).
Targets: (1) under 3 s; (2) at least 20x faster than (3). Prints the figures.

Steps 2 and 3 run --repeat times each (3 by default) and their medians are
compared: on a shared machine one 0.2 s figure is at the mercy of a neighbour.

    python bench/ssh_fanout.py [--hosts 500] [--vms 2000] [--script-hosts 50] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from vdctui.drivers.ssh import HostKeyBook, SshDriver, commands, load_inventory
from vdctui.drivers.ssh.inventory import Inventory

QUIET_S = 1.0  # between the phases, for the emulator to finish closing connections


async def refresh(inventory: Inventory) -> tuple[float, int, int, int]:
    driver = SshDriver(inventory, HostKeyBook(inventory.known_hosts))
    try:
        began = time.perf_counter()
        hosts = await driver.list_hosts()
        vms = await driver.list_vms()
        took = time.perf_counter() - began
        up = sum(1 for h in hosts if h.state == "up")
        return took, up, len(vms), driver.pool.execs_done
    finally:
        await driver.close()


def script_refresh(inventory: Inventory) -> float:
    """One `ssh host virsh <poll script>` per host, sequentially, like a shell loop."""
    began = time.perf_counter()
    for host in inventory.hosts:
        sections = commands.Sections()
        line = commands.virsh_script(host.uri, commands.poll_commands(sections))
        address = host.address
        subprocess.run(
            [
                "ssh",
                "-F",
                "/dev/null",
                "-i",
                str(inventory.identity),
                "-p",
                str(address.port),
                "-o",
                f"UserKnownHostsFile={inventory.known_hosts}",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
                f"{address.user}@{address.host}",
                line,
            ],
            check=True,
            capture_output=True,
            env={**os.environ, "SSH_AUTH_SOCK": ""},
        )
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--vms", type=int, default=2000)
    parser.add_argument("--script-hosts", type=int, default=50)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each side of the 50-host comparison; medians are compared",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vdctui-fanout-") as tmp:
        path = Path(tmp) / "inv.toml"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vdctui",
                "--db",
                f"{tmp}/emu.db",
                "emulate",
                "--hosts",
                str(args.hosts),
                "--vms",
                str(args.vms),
                "--serve-ssh",
                "127.0.0.1:0",
                "--write-inventory",
                str(path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 300
            while not path.exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(server.stderr.read().decode() if server.stderr else "no server")
                time.sleep(0.2)
            time.sleep(0.5)
            inventory = load_inventory(path)
            took, up, vms, execs = asyncio.run(refresh(inventory))
            print(
                f"console refresh, {len(inventory.hosts)} hosts (cold, connections included): "
                f"{took:.2f} s  ({up} up, {vms} VMs, {execs} execs)  target < 3 s"
            )
            few = replace(inventory, hosts=inventory.hosts[: args.script_hosts])
            # The emulator is still closing the 500 connections above (~0.1 s of its CPU):
            # let it finish so that neither of the timings below pays for that teardown.
            time.sleep(QUIET_S)
            runs = []
            for _ in range(args.repeat):  # each run cold: a new driver, new connections
                runs.append(asyncio.run(refresh(few)))
                time.sleep(QUIET_S / 4)
            took_few = statistics.median(r[0] for r in runs)
            print(
                f"console refresh, first {len(few.hosts)} hosts (cold): {took_few:.3f} s "
                f"median of {len(runs)} ({', '.join(f'{r[0]:.3f}' for r in runs)}; "
                f"{runs[-1][1]} up)"
            )
            time.sleep(QUIET_S)
            shells = [script_refresh(few) for _ in range(args.repeat)]
            shell = statistics.median(shells)
            print(
                f"shell script, first {len(few.hosts)} hosts (ssh + virsh per host, "
                f"sequential): {shell:.2f} s median of {len(shells)} "
                f"({', '.join(f'{t:.2f}' for t in shells)})"
            )
            print(f"ratio: console is {shell / took_few:.1f}x faster (target >= 20x)")
        finally:
            os.kill(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
