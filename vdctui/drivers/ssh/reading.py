"""Reading one host: the poll (one virsh script), details where needed, CPU from deltas.

The poll asks for `nodeinfo`, `nodememstats` (the machine's memory: `nodeinfo`'s
may be one NUMA node), `nodecpustats`, the domain names (all, persistent,
autostart), `domstats --raw` and the storage pools, then (on qemu:///system) runs
the process probe for each VM's uptime. The virsh commands are one line written to
a virsh kept open on the host (`polling`; an exec of a virsh script where none can
be had); the probe runs just before that virsh when it is opened, then only when an
uptime could be wrong (`uptimes`). A second ask asks, only where needed, for
`dominfo` (domstats without figures, as libvirt's test driver prints them) and
`domiflist` (a VM first seen, or whose interfaces changed).

CPU % is the change of `cpu.time` over wall time, measured between samples at
least `min_interval_s` apart (closer samples keep the last figure, as SSH
latency would swamp the interval); a VM's first sample, or its first after a
restart, is unknown (None), never 0. The host's CPU % is its own (nodecpustats
deltas, `clocks.HostCpuMeter`): unknown on the first poll, known from the second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

from vdctui.drivers.base import HostUnreachable
from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.clocks import (
    HostCpuMeter,
    NodeCpuTimes,
    parse_nodecpustats,
    parse_processes,
)
from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.parsers import (
    DomInfo,
    DomStats,
    VirshOutputError,
    parse_domiflist,
    parse_dominfo,
    parse_domstats,
    parse_names,
    parse_nodeinfo,
    parse_nodememstats,
)
from vdctui.drivers.ssh.polling import PollSessions
from vdctui.drivers.ssh.pool import ConnectionPool
from vdctui.drivers.ssh.snapshot import CpuSample, HostSnapshot, host_from_node, vm_from_stats
from vdctui.drivers.ssh.uptimes import UptimeBook
from vdctui.model import Nic, Vm, VmState

MIN_CPU_INTERVAL_S = 1.0


@dataclass
class CpuMeter:
    """Each VM's CPU utilization (0..1 of its vCPUs) from `cpu.time` deltas."""

    min_interval_s: float = MIN_CPU_INTERVAL_S
    _base: dict[str, CpuSample] = field(default_factory=dict)
    _last: dict[str, float | None] = field(default_factory=dict)

    def sample(self, key: str, cpu_ns: int | None, at: float, vcpus: int) -> float | None:
        if cpu_ns is None:
            self._base.pop(key, None)
            self._last.pop(key, None)
            return None
        base = self._base.get(key)
        if base is None or cpu_ns < base.cpu_ns or at < base.at:  # first sample, or restarted
            self._base[key] = CpuSample(cpu_ns, at)
            self._last[key] = None
            return None
        if at - base.at < self.min_interval_s:
            return self._last.get(key)
        util = (cpu_ns - base.cpu_ns) / ((at - base.at) * 1e9 * max(vcpus, 1))
        util = max(0.0, min(1.0, util))
        self._base[key] = CpuSample(cpu_ns, at)
        self._last[key] = util
        return util

    def forget(self, key: str) -> None:
        self._base.pop(key, None)
        self._last.pop(key, None)


def _nic_key(stats: DomStats) -> tuple[str, ...]:
    """What changes when a VM's interfaces change: its state and host-side devices."""
    count = stats.get_int("net.count") or 0
    names = tuple(stats.fields.get(f"net.{i}.name", "") for i in range(count))
    return (stats.fields.get("state.state", ""), str(count), *names)


class HostReader:
    """Polls hosts over a connection pool into `HostSnapshot`s."""

    def __init__(self, pool: ConnectionPool, cpu: CpuMeter | None = None) -> None:
        self.pool = pool
        self.cpu = cpu or CpuMeter()
        self.host_cpu = HostCpuMeter()
        self.sessions = PollSessions(pool)  # a virsh kept open on each host polled before
        self.uptimes = UptimeBook()
        # each host's VMs' interfaces, with what they were read for (`_nic_key`)
        self._nics: dict[str, dict[str, tuple[tuple[str, ...], tuple[Nic, ...]]]] = {}

    async def read(self, inv: InventoryHost) -> HostSnapshot:
        """One host's facts and VMs; raises HostUnreachable or VirshOutputError."""
        sections = commands.Sections()
        # timed from when the host is connected: a cold refresh of a big fleet waits for
        # its handshakes in waves, which is not when the figures were taken
        await self.pool.connection(inv)
        sent = time.monotonic()
        text, error = await self._poll(inv, sections)
        at = (sent + time.monotonic()) / 2  # when domstats most likely ran
        parts = sections.split(text)
        if "end" not in parts:
            raise HostUnreachable(f"Host {inv.name} could not run virsh: {error}.")
        if not parts.get("nodeinfo", "").strip():
            raise HostUnreachable(f"Host {inv.name} answers but libvirt does not: {error}.")
        node = parse_nodeinfo(parts["nodeinfo"])
        memory_text = parts.get("nodememstats", "")
        memory_mib = parse_nodememstats(memory_text) if memory_text.strip() else None
        names = parse_names(parts.get("list", ""))
        persistent = set(parse_names(parts.get("persistent", "")))
        autostart = set(parse_names(parts.get("autostart", "")))
        stats = {s.name: s for s in parse_domstats(parts.get("domstats", ""))}
        pools = tuple(parse_names(parts.get("pools", "")))
        knows_persistence = "persistent" in parts and "autostart" in parts
        times = _node_cpu(parts.get("nodecpustats", ""))
        infos, nics = await self._details(inv, names, stats)
        live = {n: s.get_int("cpu.time") for n, s in stats.items() if s.state is VmState.RUNNING}
        timed = await self._uptimes(inv, parts.get("processes"), live, times, node.cpus, at)
        vms: dict[str, Vm] = {}
        for name in names:
            s = stats.get(name)
            info = infos.get(name)
            if s is None:
                if info is None:
                    continue  # vanished between list and domstats
                s = DomStats(name, {"state.state": str(_state_code(info.state))})
            cpu_ns = s.get_int("cpu.time")
            if cpu_ns is None and info is not None and info.cpu_time_s is not None:
                cpu_ns = int(info.cpu_time_s * 1e9)
            vcpus = s.get_int("vcpu.current") or (info.vcpus if info else 1)
            running = s.state is VmState.RUNNING
            key = f"{inv.name}/{name}"
            util = self.cpu.sample(key, cpu_ns if running else None, at, vcpus)
            vms[name] = vm_from_stats(
                s,
                inv.name,
                pools,
                info,
                util,
                nics=nics.get(name, ()),
                persistent=(name in persistent) if knows_persistence else None,
                autostart=(name in autostart) if knows_persistence else None,
                uptime_s=self.uptimes.uptime(inv.name, name, at) if timed else None,
            )
        known = self._nics.get(inv.name, {})
        for name in [n for n in known if n not in vms]:
            del known[name]
        host = host_from_node(inv, node, vms, pools, memory_mib=memory_mib)
        busy = self.host_cpu.sample(inv.name, times)
        if times is not None:  # the host's own figure (unknown on its first sample)
            host = replace(host, cpu_util=busy)
        return HostSnapshot(host, vms, pools, time.monotonic())

    async def _poll(self, inv: InventoryHost, sections: commands.Sections) -> tuple[str, str]:
        """The poll's output and the last error it printed: on the host's kept-open virsh
        (with the process probe before it when it opens), else as one exec."""
        line = commands.script_line(commands.poll_commands(sections))
        probe = commands.process_probe(sections) if commands.probes_processes(inv.uri) else ""
        answer = await self.sessions.ask(inv, line, first=probe)
        if answer is not None:
            return answer, self.sessions.last_error(inv)
        out = await self.pool.run(inv, commands.poll(inv.uri, sections))
        return out.stdout, out.error

    async def _uptimes(
        self,
        inv: InventoryHost,
        probe: str | None,
        running: dict[str, int | None],
        times: NodeCpuTimes | None,
        cpus: int,
        at: float,
    ) -> bool:
        """Whether the VMs' uptimes can be known here (the book has them, up to date)."""
        if not commands.probes_processes(inv.uri):
            return False
        book = self.uptimes
        if probe is None and book.needs_probe(inv.name, running, times, cpus, at):
            sections = commands.Sections()
            try:
                out = await self.pool.run(inv, commands.process_probe(sections))
            except HostUnreachable:
                book.forget(inv.name)  # unknown until a probe answers
                return False
            probe = sections.split(out.stdout).get("processes", "")
        if probe is not None:
            book.probed(inv.name, parse_processes(probe), running, times, cpus, at)
        book.seen(inv.name, running)
        return True

    async def close(self) -> None:
        await self.sessions.close()

    async def _details(
        self, inv: InventoryHost, names: list[str], stats: dict[str, DomStats]
    ) -> tuple[dict[str, DomInfo], dict[str, tuple[Nic, ...]]]:
        """dominfo where domstats lacks figures; domiflist where interfaces are new."""
        need_info = [n for n in names if n not in stats or not stats[n].complete]
        nics: dict[str, tuple[Nic, ...]] = {}
        need_nics = []
        known = self._nics.setdefault(inv.name, {})
        for name in names:
            key = _nic_key(stats[name]) if name in stats else ("?",)
            cached = known.get(name)
            if cached is not None and cached[0] == key:
                nics[name] = cached[1]
            else:
                need_nics.append(name)
        if not need_info and not need_nics:
            return {}, nics
        sections = commands.Sections()
        script = commands.detail_commands(sections, need_info, need_nics)
        text = await self.sessions.ask(inv, commands.script_line(script))
        if text is None:
            text = (await self.pool.run(inv, commands.virsh_script(inv.uri, script))).stdout
        parts = sections.split(text)
        infos: dict[str, DomInfo] = {}
        for i, name in enumerate(need_info):
            text = parts.get(f"dominfo-{i}", "")
            if text.strip():
                infos[name] = parse_dominfo(text)
        for i, name in enumerate(need_nics):
            listed = parts.get(f"domiflist-{i}")
            if listed is None:
                continue  # the script ended early
            try:
                found = parse_domiflist(listed)
            except VirshOutputError:
                continue
            nics[name] = found
            key = _nic_key(stats[name]) if name in stats else ("?",)
            known[name] = (key, found)
        return infos, nics


def _node_cpu(text: str) -> NodeCpuTimes | None:
    """nodecpustats' figures; None where the host's libvirt does not give them."""
    if not text.strip():
        return None
    try:
        return parse_nodecpustats(text)
    except VirshOutputError:
        return None


def _state_code(state: VmState) -> int:
    return {
        VmState.RUNNING: 1,
        VmState.PAUSED: 3,
        VmState.SHUTTING_DOWN: 4,
        VmState.SHUTOFF: 5,
        VmState.CRASHED: 6,
    }[state]
