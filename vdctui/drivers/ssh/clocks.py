"""Time on a host: how busy its CPUs are (`virsh nodecpustats`) and how long each VM's QEMU
has run (the process probe: /proc/PID/stat of each pidfile, against /proc/uptime).

Both are counters since the host booted; the host's CPU % is the change of its busy time
over the change of its total time between two polls (the first poll measures nothing:
unknown, never 0). A VM's uptime is the host's uptime less its QEMU's start.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from vdctui.drivers.ssh.parsers import VirshOutputError, _colon_fields, _float, _int

# --- nodecpustats -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodeCpuTimes:
    """The host's cumulative CPU time over all its CPUs, in ns (`virsh nodecpustats`)."""

    busy_ns: int
    total_ns: int


def parse_nodecpustats(text: str) -> NodeCpuTimes:
    """`user:  N` / `system:` / `idle:` / `iowait:` lines, in ns since boot."""
    fields = _colon_fields(text)
    for key in ("user", "system", "idle"):
        if key not in fields:
            raise VirshOutputError(f"nodecpustats printed no {key!r} line")
    times = {k: _int(v, f"nodecpustats {k}") for k, v in fields.items()}
    if any(v < 0 for v in times.values()):
        raise VirshOutputError("nodecpustats printed a negative time")
    idle = times["idle"] + times.get("iowait", 0)
    busy = sum(v for k, v in times.items() if k not in ("idle", "iowait"))
    return NodeCpuTimes(busy, busy + idle)


# --- the process probe (QEMU's /proc/PID/stat per pidfile) ------------------------------

PROCESS_NAMES = ("qemu", "kvm")  # a pidfile whose process is none of these is not a guest's


@dataclass(frozen=True, slots=True)
class ProcessTimes:
    """The host's uptime and each domain's QEMU start, from the process probe."""

    uptime_s: float
    ticks_per_s: int
    started_ticks: dict[str, int]  # domain name -> its QEMU's start, clock ticks since boot

    def uptime_of(self, name: str) -> float | None:
        ticks = self.started_ticks.get(name)
        if ticks is None or self.ticks_per_s <= 0:
            return None
        return max(self.uptime_s - ticks / self.ticks_per_s, 0.0)


def _stat_start(stat: str) -> tuple[str, int] | None:
    """(command name, start time in ticks) of a /proc/PID/stat line; None if unreadable."""
    head, paren, rest = stat.rpartition(")")
    if not paren or " (" not in head:
        return None
    fields = rest.split()
    if len(fields) < 20:  # state is field 3; starttime field 22
        return None
    try:
        return head.partition(" (")[2], int(fields[19])
    except ValueError:
        return None


def parse_processes(text: str) -> ProcessTimes | None:
    """The probe's lines: `uptime U IDLE`, `ticks T`, then `PIDFILE<TAB>STAT` each;
    None when the host's uptime or clock ticks could not be read."""
    uptime: float | None = None
    ticks: int | None = None
    started: dict[str, int] = {}
    for line in text.split("\n"):
        if line.startswith("uptime "):
            with contextlib.suppress(ValueError, IndexError):
                uptime = _float(line.split()[1], "uptime")
        elif line.startswith("ticks "):
            with contextlib.suppress(ValueError):
                ticks = _int(line[len("ticks ") :], "clock ticks")
        else:
            path, sep, stat = line.partition(".pid\t")
            found = _stat_start(stat) if sep else None
            if found is None or not any(n in found[0] for n in PROCESS_NAMES):
                continue
            started[path.rpartition("/")[2]] = found[1]
    if uptime is None or ticks is None or ticks <= 0:
        return None
    return ProcessTimes(uptime, ticks, started)


@dataclass
class HostCpuMeter:
    """Each host's CPU utilization (0..1 of all its CPUs) from nodecpustats deltas."""

    _last: dict[str, NodeCpuTimes] = field(default_factory=dict)

    def sample(self, host: str, times: NodeCpuTimes | None) -> float | None:
        if times is None:
            self._last.pop(host, None)
            return None
        last = self._last.get(host)
        self._last[host] = times
        if last is None or times.total_ns <= last.total_ns or times.busy_ns < last.busy_ns:
            return None  # a first sample, a host that rebooted, or no time passed
        util = (times.busy_ns - last.busy_ns) / (times.total_ns - last.total_ns)
        return max(0.0, min(1.0, util))
