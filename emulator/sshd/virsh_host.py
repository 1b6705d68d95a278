"""More of an emulated host's `virsh`: host memory and VM interfaces, in libvirt 9.x formats.

A mixin of `Virsh` (kept apart so that each module stays small).
"""

from __future__ import annotations

import hashlib
import weakref
from typing import TYPE_CHECKING

from ..fleet import Fleet
from ..vm import SHUT_OFF, Vm
from .words import ShellInjection, Unbalanced, shell_words

if TYPE_CHECKING:
    from .virsh import Output

# A shut-off VM defined on a second host (the first step of a cold move: define on the
# target, then undefine on the source). The fleet holds one VM per name, so the second
# definition waits here until the source lets go: VM name -> the host that also has it.
_STAGED: weakref.WeakKeyDictionary[Fleet, dict[str, str]] = weakref.WeakKeyDictionary()
PAGE_CACHE_SHARE = 0.02  # of a host's memory, in `cached`, for something to show
PIDFILES = "/run/libvirt/qemu/*.pid"
TICKS = 100  # clock ticks a second (getconf CLK_TCK on Linux)
BOOTED_BEFORE_S = 600.0  # a host booted this long before the first VM it knew started
LIBVIRTD_PID = 900


def probe_mark(words: list[str]) -> str | None:
    """The mark of the console's process probe (`awk -v mark=M PROGRAM PIDFILES`), or None
    for any other command: an emulated host runs no awk program but that one."""
    if len(words) == 5 and words[0] == "awk" and words[1] == "-v" and words[4] == PIDFILES:
        name, eq, mark = words[2].partition("=")
        if name == "mark" and eq:
            return mark
    return None


def probe_words(part: str) -> list[str] | None:
    try:
        return shell_words(part)
    except (ShellInjection, Unbalanced):
        return None


def stat_line(pid: int, command: str, start_ticks: int, threads: int = 6) -> str:
    """A /proc/PID/stat line as Linux writes it (starttime is its 22nd field)."""
    fields = [pid, f"({command})", "S", 1, pid, pid, 0, -1, 138412416, 0, 0, 0, 0, 0, 0, 0, 0]
    fields += [20, 0, threads, 0, start_ticks, 462680064, 10712, 18446744073709551615, 0]
    return " ".join(str(f) for f in fields)


def mac_of(vm: Vm, index: int = 0) -> str:
    """A stable locally administered MAC in QEMU's 52:54:00 range, from the VM's UUID."""
    digest = hashlib.sha256(f"{vm.uuid}/{index}".encode()).digest()
    return "52:54:00:" + ":".join(f"{b:02x}" for b in digest[:3])


def interfaces(vm: Vm, ids: dict[str, int]) -> list[tuple[str, str, str, str, str]]:
    """(interface, type, source, model, mac): the host-side device exists while it runs."""
    if not vm.network:
        return []
    device = "-" if vm.state == SHUT_OFF else f"vnet{ids.get(vm.name, 0)}"
    return [(device, "network", vm.network, "virtio", mac_of(vm))]


class HostCommands:
    fleet: Fleet
    host: str
    _booted_at: float | None = None
    _cpu_counters: tuple[float, float, float] | None = None  # at, busy ns, total ns
    _vm_cpu: dict[str, tuple[float, float, float]] | None = None  # started, at, cpu.time ns

    def _domain(self, opts: dict[str, str]) -> Vm:
        raise NotImplementedError  # Virsh's

    def _ids(self) -> dict[str, int]:
        raise NotImplementedError  # Virsh's

    def cmd_nodememstats(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        host = self.fleet.hosts[self.host]
        total = host.memory_mib * 1024
        used = self.fleet.memory_used_mib(self.host) * 1024
        cached = int(total * PAGE_CACHE_SHARE)
        rows = [("total", total), ("free", max(total - used - cached, 0)), ("buffers", 0)]
        rows.append(("cached", cached))
        out.out.extend(f"{k:<7}: {v:>20} KiB\n" for k, v in rows)

    def staged(self) -> dict[str, str]:
        found = _STAGED.get(self.fleet)
        if found is None:
            found = _STAGED[self.fleet] = {}
        return found

    def stage_define(self, name: str) -> bool:
        """`define` here of a shut-off VM another host has: the first half of a cold move.
        Not when that host is down (off, crashed): HA restarting a fenced host's VM defines
        it anew, and the fleet moves it (one VM per name)."""
        vm = self.fleet.vms.get(name)
        if vm is None or vm.host == self.host or vm.state != SHUT_OFF:
            return False
        if self.fleet.hosts[vm.host].state != "up":
            return False
        self.staged()[name] = self.host
        return True

    def undefine_staged(self, vm: Vm) -> bool:
        """`undefine` of a VM defined on two hosts: the other one keeps it."""
        elsewhere = self.staged().get(vm.name)
        if elsewhere is None:
            return False
        self.fleet.move_stopped_vm(vm.name, elsewhere)
        self.staged().pop(vm.name, None)
        return True

    def cmd_domiflist(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        vm = self._domain(opts)
        for row in interfaces(vm, self._ids()):
            out.out.append(" " + "   ".join(row) + "\n")

    # --- time on the host: nodecpustats, /proc/uptime and QEMU's start ---------------------

    def booted_at(self) -> float:
        """When this emulated host booted, on the fleet's clock (before any VM it runs)."""
        if self._booted_at is None:
            starts = [v.started_at for v in self.fleet.vms.values() if v.started_at is not None]
            self._booted_at = min([self.fleet.now, *starts]) - BOOTED_BEFORE_S
        return self._booted_at

    def _cpu_time_ns(self, v: Vm) -> int:
        """A counter, as libvirt's: it grows by the VM's utilization as the clock moves
        and starts over only when its QEMU does (at first read: its uptime at today's
        utilization)."""
        if self._vm_cpu is None:
            self._vm_cpu = {}
        if v.started_at is None:
            self._vm_cpu.pop(v.name, None)
            return 0
        now = self.fleet.now
        rate = v.vcpus * v.cpu_util * 1e9
        kept = self._vm_cpu.get(v.name)
        if kept is None or kept[0] != v.started_at:
            ns = max(now - v.started_at, 0.0) * rate
        else:
            ns = kept[2] + max(now - kept[1], 0.0) * rate
        self._vm_cpu[v.name] = (v.started_at, now, ns)
        return int(ns)

    def cmd_nodecpustats(
        self, opts: dict[str, str], flags: set[str], rest: list[str], stdin: str, out: Output
    ) -> None:
        """Counters since boot, growing by the host's CPU utilization as the clock moves."""
        host = self.fleet.hosts[self.host]
        now = self.fleet.now
        util = self.fleet.host_stats(self.host).cpu_util
        cpus_ns = host.threads * 1e9
        if self._cpu_counters is None:
            up = now - self.booted_at()
            busy, total = util * up * cpus_ns, up * cpus_ns
        else:
            at, busy, total = self._cpu_counters
            busy += util * max(now - at, 0.0) * cpus_ns
            total += max(now - at, 0.0) * cpus_ns
        self._cpu_counters = (now, busy, total)
        user, system = int(busy * 0.8), int(busy) - int(busy * 0.8)
        idle = max(int(total) - user - system, 0)
        rows = [("user", user), ("system", system), ("idle", idle), ("iowait", 0)]
        out.out.extend(f"{k + ':':<7}{v:>24}\n" for k, v in rows)

    def process_probe(self, mark: str) -> str:
        """What the console's process probe prints on a real host: its mark, the host's
        uptime and clock ticks, then libvirtd's and each active VM's pidfile and stat line."""
        booted = self.booted_at()
        up = max(self.fleet.now - booted, 0.0)
        lines = [mark, f"uptime {up:.2f} {up * 0.9:.2f}", f"ticks {TICKS}"]
        lines.append(f"/run/libvirt/qemu/driver.pid\t{stat_line(LIBVIRTD_PID, 'libvirtd', 0)}")
        for pid, vm in enumerate(self.fleet.vms_on(self.host), start=LIBVIRTD_PID + 1):
            if vm.state == SHUT_OFF or vm.started_at is None:
                continue
            start = int((vm.started_at - booted) * TICKS)
            line = stat_line(pid, "qemu-system-x86", max(start, 0))
            lines.append(f"/run/libvirt/qemu/{vm.name}.pid\t{line}")
        return "\n".join(lines) + "\n"
