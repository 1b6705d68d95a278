"""Refreshing the fleet over SSH: the console against a shell loop, measured in one run.

The emulated hosts run in their own process (`vdctui emulate --serve-ssh`, one SSH
server per host on 127.0.0.1), as real hosts are other machines; the console refreshes
them from this process (list_hosts + list_vms, as a sync does: one exec per host).

1. 500 hosts, cold: a new driver, every SSH connection made inside the timing, and on
   each host one exec: the process probe, then a virsh kept open and asked the poll
   (and the interfaces of the VMs it sees first); the second refresh; then warm: the
   same driver refreshing again over its pooled connections and kept-open virsh (one
   line written and its answer read per host), what a console does every few seconds
   (target: warm < 0.5 s; median of --repeat).
2. Against the shell loop: the first 50 hosts refreshed cold by the console, and by one
   OpenSSH `ssh HOST virsh ...` per host one after another (the same virsh script per
   host), each --repeat times in turn (a refresh, a loop, ...: both meet the machine's
   load over the same seconds; medians); the whole comparison --rounds times (target: the
   console >= 20x faster in every round). Each console refresh, and each shell loop,
   start once the emulated hosts have done what the last refresh left them (closing its
   connections; their process under 10% of a CPU for 0.25 s), as real hosts would be idle,
   and once this process has freed the last driver's closed connections (a cycle
   collection, counted in the refresh's CPU): a new console process has none of them.
3. 2,000 hosts, cold and warm (how it scales; printed, no target). --big-hosts 0 skips.

    python bench/ssh_fanout.py [--hosts 500] [--vms 2000] [--script-hosts 50]
        [--repeat 3] [--rounds 3] [--big-hosts 2000 --big-vms 8000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from vdctui.drivers.ssh import HostKeyBook, SshDriver, commands, load_inventory
from vdctui.drivers.ssh.inventory import Inventory

QUIET_S = 1.0  # between the phases, for the emulator to finish closing connections
SETTLED_CPU = 0.1  # ... and at most this share of a CPU over SETTLE_S: it has
SETTLE_S = 0.25


@dataclass(frozen=True)
class Emulated:
    inventory: Inventory
    pid: int  # the emulated hosts' process

    def quiet(self, wait_s: float) -> None:
        """Before a timed part: the last one's garbage freed here (a new console process
        would have none; left to the thresholds, a full collection of this process, 50-80
        ms, landed inside a later refresh), and the emulated hosts settled."""
        time.sleep(wait_s)
        gc.collect()
        self.settle()

    def settle(self, at_most_s: float = 10.0) -> None:
        """Wait until the emulated hosts have done what the last refresh left them (closing
        its connections: 500 of them after the first phase), as real hosts would be idle:
        their process under SETTLED_CPU of a CPU over SETTLE_S, for at most `at_most_s`."""
        deadline = time.monotonic() + at_most_s
        while time.monotonic() < deadline:
            before = self.cpu_s()
            time.sleep(SETTLE_S)
            if self.cpu_s() - before <= SETTLED_CPU * SETTLE_S:
                return

    def cpu_s(self) -> float:
        """The CPU time the emulated hosts' process has used so far (user + system)."""
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def emulated_hosts(hosts: int, vms: int) -> Iterator[Emulated]:
    """`vdctui emulate --serve-ssh` in its own process and session, until the block ends."""
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
                str(hosts),
                "--vms",
                str(vms),
                "--serve-ssh",
                "127.0.0.1:0",
                "--write-inventory",
                str(path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # a session of its own: where the scheduler groups processes by session
            # (Linux autogroup), the hosts then take no CPU from the console's share,
            # nor from the shell loop's, as other machines would not
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 600
            while not path.exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(server.stderr.read().decode() if server.stderr else "no server")
                time.sleep(0.2)
            inventory = load_inventory(path)
            asyncio.run(answering(inventory, deadline))
            yield Emulated(inventory, server.pid)
        finally:
            os.kill(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


async def answering(inventory: Inventory, deadline: float) -> None:
    """Wait until the last host of the inventory answers (the server opens them in order)."""
    last = replace(inventory, hosts=inventory.hosts[-1:])
    while True:
        driver = SshDriver(last, HostKeyBook(last.known_hosts))
        try:
            hosts = await driver.list_hosts()
        finally:
            await driver.close()
        if hosts[0].state == "up":
            return
        if time.monotonic() > deadline:
            sys.exit(f"the emulated hosts do not answer: {hosts[0].reason}")
        await asyncio.sleep(1.0)


async def refreshed(driver: SshDriver) -> tuple[float, int, int]:
    """One refresh as a sync does it: its time, hosts up, VMs."""
    began = time.perf_counter()
    hosts = await driver.list_hosts()
    vms = await driver.list_vms()
    took = time.perf_counter() - began
    down = [h.reason for h in hosts if h.state != "up"]
    if down:  # a figure over hosts that did not answer would mean nothing
        print(f"  {len(down)} of {len(hosts)} hosts did not answer, e.g.: {down[0]}")
    return took, len(hosts) - len(down), len(vms)


async def cold_and_warm(
    inventory: Inventory, warm_runs: int
) -> tuple[float, float, list[float], str]:
    """A cold refresh with a new driver (connecting, opening a virsh kept on each host),
    the second, then `warm_runs` over its pooled connections and kept-open virsh."""
    driver = SshDriver(inventory, HostKeyBook(inventory.known_hosts))
    asked = driver.reader.sessions
    try:
        cold, up, vms = await refreshed(driver)
        if not warm_runs:
            return cold, 0.0, [], ""
        second = (await refreshed(driver))[0]
        execs, asks = driver.pool.execs_done, asked.asks
        warm = [(await refreshed(driver))[0] for _ in range(warm_runs)]
        per_exec = (driver.pool.execs_done - execs) / warm_runs
        per_ask = (asked.asks - asks) / warm_runs
        return (
            cold,
            second,
            warm,
            f"{up} up, {vms} VMs; a warm refresh {per_exec:.0f} execs "
            f"and {per_ask:.0f} lines asked of kept-open virsh",
        )
    finally:
        await driver.close()


async def cold(inventory: Inventory) -> float:
    return (await cold_and_warm(inventory, 0))[0]


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


def children_cpu_s() -> float:
    """The CPU time this process's ended children (the ssh processes) have used so far."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def figures(values: list[float]) -> str:
    return ", ".join(f"{v:.3f}" for v in values)


def fleet_refresh(inventory: Inventory, repeat: int, target: str) -> None:
    took, second, warm, said = asyncio.run(cold_and_warm(inventory, repeat))
    n = len(inventory.hosts)
    print(
        f"console refresh, {n} hosts: cold (connections included) {took:.2f} s; second "
        f"{second:.2f} s; warm {statistics.median(warm):.3f} s "
        f"median of {len(warm)} ({figures(warm)}){target}; {said}"
    )


def against_the_shell(emulated: Emulated, hosts: int, repeat: int, rounds: int) -> None:
    """Each round: `repeat` times a cold refresh by the console, then a shell loop (taken
    in turn, so that both meet the machine's load over the same seconds); their medians,
    the ratio, and the CPU each used (console or ssh processes, and the emulated hosts'),
    which unlike the times does not move with the machine's load."""
    few = replace(emulated.inventory, hosts=emulated.inventory.hosts[:hosts])
    ratios = []
    for number in range(1, rounds + 1):
        emulated.quiet(QUIET_S)  # the emulator closes the connections of the last phase
        console: list[float] = []
        shells: list[float] = []
        cpu = served = ssh_cpu = shell_served = 0.0
        for _ in range(repeat):  # each cold: a new driver, new connections
            began, serving = time.process_time(), emulated.cpu_s()
            console.append(asyncio.run(cold(few)))
            emulated.quiet(QUIET_S / 4)
            cpu += time.process_time() - began
            served += emulated.cpu_s() - serving
            began, serving = children_cpu_s(), emulated.cpu_s()
            shells.append(script_refresh(few))
            emulated.quiet(QUIET_S / 4)
            ssh_cpu += children_cpu_s() - began
            shell_served += emulated.cpu_s() - serving
        ratio = statistics.median(shells) / statistics.median(console)
        ratios.append(ratio)
        print(
            f"round {number} (load {os.getloadavg()[0]:.1f}): {hosts} hosts cold, console "
            f"{statistics.median(console):.3f} s ({figures(console)}), shell loop (ssh + virsh "
            f"per host) {statistics.median(shells):.2f} s ({figures(shells)}): {ratio:.1f}x; "
            f"CPU a refresh (connections opened and closed): console {cpu / repeat:.3f} s + "
            f"emulated hosts {served / repeat:.3f} s, shell loop: ssh {ssh_cpu / repeat:.3f} s + "
            f"emulated hosts {shell_served / repeat:.3f} s"
        )
    held = sum(1 for r in ratios if r >= 20)
    print(
        f"console vs shell loop: {', '.join(f'{r:.1f}x' for r in ratios)} "
        f"(target >= 20x: held in {held} of {rounds} rounds)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--vms", type=int, default=2000)
    parser.add_argument("--script-hosts", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the shell comparison")
    parser.add_argument("--big-hosts", type=int, default=2000)
    parser.add_argument("--big-vms", type=int, default=8000)
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average before: {load} ({os.cpu_count()} CPUs)")
    with emulated_hosts(args.hosts, args.vms) as emulated:
        fleet_refresh(emulated.inventory, args.repeat, " target < 0.5 s")
        against_the_shell(emulated, args.script_hosts, args.repeat, args.rounds)
    if args.big_hosts:
        with emulated_hosts(args.big_hosts, args.big_vms) as emulated:
            fleet_refresh(emulated.inventory, args.repeat, "")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average after: {load}")


if __name__ == "__main__":
    main()
