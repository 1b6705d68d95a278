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
from vdctui.wrapping import phrase_lines

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


def grid_lines(cores: HostCores, width: int | None = None) -> list[str]:
    """The map as text: a header per node, one row per thread, then the legend. Each row
    is labelled with every CPU on it (`cpus 0-31`), the labels right-aligned in one column;
    with a `width`, a row that does not fit goes on below with the label of its own CPUs,
    and the other lines break between phrases."""
    mark = letters(cores)
    rows: list[tuple[str, str] | str] = []  # (label, cells) of a row, or a line of words
    for node in cores.nodes:
        memory = "—" if node.memory_mib is None else f"{node.memory_mib // 1024} GiB"
        rows.append(
            f"node {node.id} ({len(node.cores)} cores, {memory}): "
            f"{node.free_cpus} CPUs free, {node.free_cores} whole cores"
        )
        threads = max((len(core) for core in node.cores), default=0)
        for t in range(threads):
            cells = [core[t] if t < len(core) else None for core in node.cores]
            rows.extend(_row_pieces(cells, mark, width))
    rows.append(f"R reserved for the host: CPUs {cpu_list(cores.reserved) or 'none'}")
    rows.append(f". free, shared VMs float over them: {cores.shared_cpus} CPUs")
    if any(c.holder and c.vcpu is None for n in cores.nodes for core in n.cores for c in core):
        rows.append("x idle sibling of an isolated VM's core")
    for vm in cores.dedicated:
        rows.append(
            f"{mark[vm.vm]} {vm.vm}: {len(vm.vcpu_pins)} vCPUs on CPUs {cpu_list(vm.vcpu_pins)}"
            f" (node {'—' if vm.node is None else vm.node}, threads {vm.threads}), "
            f"emulator on {cpu_list(vm.emulator_pins) or '—'}"
        )
    column = max((len(row[0]) for row in rows if isinstance(row, tuple)), default=0)
    lines: list[str] = []
    for row in rows:
        if isinstance(row, tuple):
            lines.append(f"  {row[0]:>{column}} {row[1]}")
        elif width is None:
            lines.append(row)
        else:  # continued two columns in
            first, *rest = phrase_lines(row, width - 2)
            lines += [first, *(f"  {line}" for line in rest)]
    return lines


LABEL_ROOM = len("  cpus 100,102,…,254 ")  # what a row's label may take, at most


def _row_pieces(
    cells: list[CpuCell | None], mark: dict[str, str], width: int | None
) -> list[tuple[str, str]]:
    """A row of the grid as (label, cells), in pieces that fit `width` beside a label."""
    room = len(cells) if width is None else max(width - LABEL_ROOM, 8)
    pieces = []
    for start in range(0, len(cells), room):
        chunk = cells[start : start + room]
        cpus = [cell.cpu for cell in chunk if cell is not None]
        label = f"cpus {cpu_row(cpus)}" if cpus else ""
        pieces.append((label, "".join(_cell_mark(cell, mark) for cell in chunk)))
    return pieces


def _cell_mark(cell: CpuCell | None, mark: dict[str, str]) -> str:
    if cell is None:
        return " "
    if cell.reserved:
        return "R"
    if cell.holder is None:
        return "."
    return mark[cell.holder] if cell.vcpu is not None else "x"


def cpu_row(cpus: list[int]) -> str:
    """The CPUs of a row, left to right: `0-31` when they follow each other, `0,2,…,62`
    when they go by a step, else the first and the last (`0…95`)."""
    if len(cpus) <= 2:
        return ",".join(str(cpu) for cpu in cpus)
    steps = {b - a for a, b in zip(cpus, cpus[1:], strict=False)}
    if steps == {1}:
        return f"{cpus[0]}-{cpus[-1]}"
    if len(steps) == 1:
        return f"{cpus[0]},{cpus[1]},…,{cpus[-1]}"
    return f"{cpus[0]}…{cpus[-1]}"


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
