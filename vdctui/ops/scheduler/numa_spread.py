"""A dedicated VM over several NUMA nodes, when its flavor allows it (`numa: spread`,
OpenStack's `hw:numa_nodes`): used only when no single node holds it.

Its vCPUs go over as few nodes as hold them (the roomiest first), as evenly as their room
allows, and its memory is bound to those nodes in proportion to the vCPUs each holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.model import CpuTopology, ThreadPolicy, VmCpus

if TYPE_CHECKING:
    from vdctui.ops.scheduler.numa import CoreMap


def split_memory(memory_mib: int, counts: dict[int, int]) -> dict[int, int]:
    """`memory_mib` shared between nodes in proportion to their vCPU counts (the
    remainder to the first node), e.g. 8192 MiB over {0: 3, 1: 1} -> {0: 6144, 1: 2048}."""
    total = sum(counts.values())
    if total <= 0:
        return {}
    shares = {node: memory_mib * n // total for node, n in counts.items()}
    first = min(shares)
    shares[first] += memory_mib - sum(shares.values())
    return shares


def memory_by_node(topology: CpuTopology, vm: VmCpus) -> dict[int, int]:
    """Where a dedicated VM's memory is bound: its node, or (spread) the nodes of its
    vCPUs in proportion."""
    if vm.node is not None:
        return {vm.node: vm.memory_mib}
    counts: dict[int, int] = {}
    for cpu in vm.vcpu_pins:
        node = topology.node_of(cpu)
        if node is not None:
            counts[node] = counts.get(node, 0) + 1
    return split_memory(vm.memory_mib, counts)


def memory_nodes(topology: CpuTopology | None, vm: VmCpus) -> tuple[int, ...]:
    """The NUMA nodes a dedicated VM's memory is bound to (`<numatune>`'s nodeset)."""
    if vm.node is not None:
        return (vm.node,)
    if topology is None:
        return ()
    return tuple(sorted(memory_by_node(topology, vm)))


def _even(caps: list[tuple[int, int]], vcpus: int) -> dict[int, int] | None:
    """`vcpus` shared as evenly as their room allows over (node, room) pairs."""
    counts: dict[int, int] = {}
    left = vcpus
    ordered = sorted(caps, key=lambda nc: (nc[1], nc[0]))  # the tightest node first
    for k, (node, room) in enumerate(ordered):
        take = min(room, -(-left // (len(ordered) - k)))
        if take > 0:
            counts[node] = take
            left -= take
    return None if left > 0 else counts


def spread_counts(
    cmap: CoreMap, vcpus: int, memory_mib: int, threads: ThreadPolicy
) -> tuple[dict[int, int] | None, str]:
    """How many vCPUs each node takes: over the fewest nodes (the roomiest first) whose
    CPUs and memory hold the VM, as evenly as they allow; else None and why not."""
    nodes = sorted(range(len(cmap.topology.nodes)), key=lambda n: (-cmap.capacity(n, threads), n))
    whole = " whole" if threads is ThreadPolicy.ISOLATE else ""
    free = sum(cmap.capacity(n, threads) for n in nodes)
    why = f"needs {vcpus} dedicated{whole} cores over its NUMA nodes; free in all: {free}"
    for k in range(2, len(nodes) + 1):
        counts = _even([(n, cmap.capacity(n, threads)) for n in nodes[:k]], vcpus)
        if counts is None:
            continue
        short = [
            (node, share)
            for node, share in sorted(split_memory(memory_mib, counts).items())
            if cmap.memory_free(node) < share
        ]
        if not short:
            return counts, ""
        node, share = short[0]
        why = (
            f"needs {share} MiB beside its cores in NUMA node {node} of host "
            f"{cmap.topology.host}, which has {cmap.memory_free(node):.0f} MiB free"
        )
    return None, why


def why_not_spread(cmap: CoreMap, vcpus: int, memory_mib: int, threads: ThreadPolicy) -> str:
    """Why even spreading over its nodes does not take the VM ("" when it does)."""
    return spread_counts(cmap, vcpus, memory_mib, threads)[1]


def spread_pins(
    cmap: CoreMap, vcpus: int, memory_mib: int, threads: ThreadPolicy
) -> tuple[list[int], list[int]] | str:
    """(pins, every CPU taken) over several nodes, or why not."""
    from vdctui.ops.scheduler.numa import pins_in_node

    counts, why = spread_counts(cmap, vcpus, memory_mib, threads)
    if counts is None:
        return why
    pins: list[int] = []
    taken: list[int] = []
    for node, count in sorted(counts.items()):
        got, held = pins_in_node(cmap, node, count, threads)
        pins += got
        taken += held
    return pins, taken
