"""Each running VM's uptime between process probes.

The process probe (`commands.process_probe`: each QEMU's start against the host's
uptime) is not a virsh command, so a poll on a kept-open virsh cannot run it. A VM's
QEMU start does not move while it runs: once probed, its uptime is what the probe said
plus the time since, on this machine's monotonic clock. The host is probed again when
that could be wrong or unknown:

- a running VM the last probe did not see (started, or migrated in, since);
- a VM whose `cpu.time` went down (its QEMU restarted between two polls);
- the host's own clock (`nodecpustats`: its CPUs' time over their count) moved more
  than `SKEW` apart from this machine's since the probe (an emulated fleet's clock,
  a host that was suspended);
- `REPROBE_S` since the last probe, whatever else.

A VM not running has no uptime (None), and one the probe did not find is unknown (None).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vdctui.drivers.ssh.clocks import NodeCpuTimes, ProcessTimes

REPROBE_S = 60.0
# the host's clock and ours may differ by this much since the probe (an emulated
# host's clock moves in steps of a second, later under load), plus a share of the time
SKEW_S = 5.0
SKEW = 0.05


@dataclass
class _Probed:
    at: float  # this machine's monotonic clock when the probe ran
    started: dict[str, float]  # VM -> when its QEMU started, on this machine's clock
    known: set[str]  # VMs running since the probe (found by it or not)
    cpu_ns: dict[str, int]  # VM -> its cpu.time at the last poll
    host_ns: int | None  # the host's CPUs' total time then (nodecpustats)
    cpus: int


@dataclass
class UptimeBook:
    """What the last probe of each host said, and whether a poll needs another."""

    _hosts: dict[str, _Probed] = field(default_factory=dict)

    def needs_probe(
        self,
        host: str,
        running: dict[str, int | None],
        times: NodeCpuTimes | None,
        cpus: int,
        now: float,
    ) -> bool:
        """`running`: each running VM's cpu.time (None where unknown) at this poll."""
        last = self._hosts.get(host)
        if last is None or now - last.at > REPROBE_S:
            return True
        for name, cpu_ns in running.items():
            if name not in last.known:
                return True
            before = last.cpu_ns.get(name)
            if cpu_ns is not None and before is not None and cpu_ns < before:
                return True
        if times is not None and last.host_ns is not None and cpus > 0:
            theirs = (times.total_ns - last.host_ns) / (cpus * 1e9)
            ours = now - last.at
            if abs(theirs - ours) > SKEW_S + SKEW * ours:
                return True
        return False

    def probed(
        self,
        host: str,
        processes: ProcessTimes | None,
        running: dict[str, int | None],
        times: NodeCpuTimes | None,
        cpus: int,
        at: float,
    ) -> None:
        """A probe ran at `at`, with the poll that saw `running` (`processes` None: it
        could not read the host's clock, every uptime is unknown until the next)."""
        started: dict[str, float] = {}
        if processes is not None:
            for name in processes.started_ticks:
                uptime = processes.uptime_of(name)
                if uptime is not None:
                    started[name] = at - uptime
        host_ns = times.total_ns if times is not None else None
        self._hosts[host] = _Probed(at, started, set(running), {}, host_ns, cpus)

    def seen(self, host: str, running: dict[str, int | None]) -> None:
        """This poll's cpu.time of each running VM (to tell a restart at the next one)."""
        last = self._hosts.get(host)
        if last is not None:  # a VM that stopped is probed again when it runs again
            last.known &= set(running)
            last.started = {n: t for n, t in last.started.items() if n in running}
            last.cpu_ns = {n: t for n, t in running.items() if t is not None}

    def uptime(self, host: str, vm: str, now: float) -> float | None:
        last = self._hosts.get(host)
        started = last.started.get(vm) if last is not None else None
        return None if started is None else max(now - started, 0.0)

    def forget(self, host: str) -> None:
        self._hosts.pop(host, None)
