"""Regular machines' topologies, numbered the way Linux numbers them (tests, benchmarks
and hosts whose model says only nodes, cores and threads)."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from vdctui.model import CpuTopology, NumaNode


@functools.lru_cache(maxsize=64)
def _regular_nodes(
    nodes: int, cores_per_node: int, threads: int, memory_mib: int | None
) -> tuple[NumaNode, ...]:
    cores = nodes * cores_per_node
    per_node = None if memory_mib is None else memory_mib // nodes
    return tuple(
        NumaNode(
            n,
            tuple(
                tuple(c + t * cores for t in range(threads))
                for c in range(n * cores_per_node, (n + 1) * cores_per_node)
            ),
            per_node,
        )
        for n in range(nodes)
    )


def regular_topology(
    host: str,
    *,
    nodes: int,
    cores_per_node: int,
    threads: int,
    memory_mib: int | None = None,
    reserved: Iterable[int] = (),
    source: str = "",
) -> CpuTopology:
    """Cores numbered the way Linux numbers a regular machine: the first thread of every
    core first (node by node), then the second threads, and so on; `memory_mib` is
    shared evenly between the nodes."""
    nodes_ = _regular_nodes(nodes, cores_per_node, threads, memory_mib)
    return CpuTopology(host, nodes_, tuple(sorted(reserved)), source)
