"""A host's core map for people: which CPU holds which VM's vCPU, the host's reserved CPUs,
the free ones, node by node (`vdctui host cores NAME`, the TUI's host detail).

The grid has one row per thread of a core and one column per core: `R` reserved for the
host, `.` free (shared VMs float over these), a letter for a dedicated VM (the legend
says which), `x` a sibling an isolated VM leaves idle.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from vdctui.model import CpuTopology, VmCpus
from vdctui.store import Store

LETTERS = string.ascii_lowercase + string.ascii_uppercase.replace("R", "")


@dataclass(frozen=True, slots=True)
class CpuCell:
    cpu: int
    holder: str | None  # the dedicated VM on it, or None
    vcpu: int | None  # which of its vCPUs (None: reserved, free, or an idle sibling)
    reserved: bool


@dataclass(frozen=True, slots=True)
class NodeMap:
    id: int
    memory_mib: int | None
    cores: tuple[tuple[CpuCell, ...], ...]

    @property
    def free_cpus(self) -> int:
        return sum(1 for core in self.cores for c in core if not c.reserved and c.holder is None)

    @property
    def free_cores(self) -> int:
        return sum(1 for core in self.cores if all(not c.reserved and not c.holder for c in core))


@dataclass(frozen=True, slots=True)
class HostCores:
    host: str
    source: str
    reserved: tuple[int, ...]
    nodes: tuple[NodeMap, ...]
    dedicated: tuple[VmCpus, ...]

    @property
    def shared_cpus(self) -> int:
        return sum(n.free_cpus for n in self.nodes)


def host_cores(topology: CpuTopology, vms: list[VmCpus]) -> HostCores:
    held: dict[int, tuple[str, int | None]] = {}
    for vm in vms:
        for cpu in vm.taken:
            held[cpu] = (vm.vm, None)
        for i, cpu in enumerate(vm.vcpu_pins):
            held[cpu] = (vm.vm, i)
    reserved = set(topology.reserved)
    nodes = tuple(
        NodeMap(
            node.id,
            node.memory_mib,
            tuple(
                tuple(
                    CpuCell(
                        cpu,
                        held.get(cpu, (None, None))[0],
                        held.get(cpu, (None, None))[1],
                        cpu in reserved,
                    )
                    for cpu in core
                )
                for core in node.cores
            ),
        )
        for node in topology.nodes
    )
    dedicated = tuple(sorted(vms, key=lambda v: v.vm))
    return HostCores(topology.host, topology.source, topology.reserved, nodes, dedicated)


def of_store(store: Store, host: str) -> HostCores | None:
    """The host's core map as the console knows it; None while its topology is unknown."""
    topology = store.cpu_topology(host)
    if topology is None:
        return None
    vms = [c for c in store.all_vm_cpus().values() if c.dedicated and c.host == host]
    return host_cores(topology, vms)


def letters(cores: HostCores) -> dict[str, str]:
    return {vm.vm: LETTERS[i % len(LETTERS)] for i, vm in enumerate(cores.dedicated)}


def grid_lines(cores: HostCores) -> list[str]:
    """The map as text: a header per node, one row per thread, then the legend."""
    mark = letters(cores)
    lines: list[str] = []
    for node in cores.nodes:
        memory = "—" if node.memory_mib is None else f"{node.memory_mib // 1024} GiB"
        lines.append(
            f"node {node.id} ({len(node.cores)} cores, {memory}): "
            f"{node.free_cpus} CPUs free, {node.free_cores} whole cores"
        )
        threads = max((len(core) for core in node.cores), default=0)
        for t in range(threads):
            row = []
            for core in node.cores:
                cell = core[t] if t < len(core) else None
                if cell is None:
                    row.append(" ")
                elif cell.reserved:
                    row.append("R")
                elif cell.holder is None:
                    row.append(".")
                else:
                    row.append(mark[cell.holder] if cell.vcpu is not None else "x")
            first = core_label(node, t)
            lines.append(f"  {first:>9} {''.join(row)}")
    lines.append(f"R reserved for the host: CPUs {cpu_list(cores.reserved) or 'none'}")
    lines.append(f". free, shared VMs float over them: {cores.shared_cpus} CPUs")
    if any(c.holder and c.vcpu is None for n in cores.nodes for core in n.cores for c in core):
        lines.append("x idle sibling of an isolated VM's core")
    for vm in cores.dedicated:
        lines.append(
            f"{mark[vm.vm]} {vm.vm}: {len(vm.vcpu_pins)} vCPUs on CPUs {cpu_list(vm.vcpu_pins)}"
            f" (node {'—' if vm.node is None else vm.node}, threads {vm.threads}), "
            f"emulator on {cpu_list(vm.emulator_pins) or '—'}"
        )
    return lines


def core_label(node: NodeMap, thread: int) -> str:
    firsts = [core[thread].cpu for core in node.cores if thread < len(core)]
    return f"cpu {min(firsts)}-" if firsts else ""


def cpu_list(cpus: tuple[int, ...] | list[int]) -> str:
    """`0-3,8,10-11`: the way libvirt and Linux write CPU lists."""
    ordered = sorted(set(cpus))
    parts: list[str] = []
    start = prev = None
    for cpu in ordered:
        if start is None:
            start = prev = cpu
        elif cpu == (prev or 0) + 1:
            prev = cpu
        else:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = cpu
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ",".join(parts)
