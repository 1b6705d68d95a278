"""Dedicated cores: each host's core map, where a dedicated VM's vCPUs go, and the
NUMA/pinning filter and weigher.

A dedicated VM has every vCPU on a logical CPU of its own, in one NUMA node with its
memory: never a CPU the host keeps for itself (its reserved CPUs) nor one another
dedicated VM holds. Shared VMs float over the rest (the shared CPUs), and their
overcommit counts only those. `choose_pins` is a pure function of a `CoreMap`;
`NumaView` holds the same figures for every host in arrays, for the filter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from vdctui.model import CpuPolicy, CpuTopology, NumaNode, NumaPolicy, ThreadPolicy, VmCpus
from vdctui.ops.scheduler.numa_spread import memory_by_node, spread_pins, why_not_spread
from vdctui.ops.scheduler.request import PlacementRequest

FILTER_NAME = "NUMATopologyFilter"
MAX_SHAPES = 64  # request shapes whose fits/leftover arrays a view keeps


@dataclass(frozen=True, slots=True)
class CpuLedger:
    """What the console knows of cores: each host's topology (absent: not read yet) and
    each VM's CPU policy and pins."""

    topologies: Mapping[str, CpuTopology] = field(default_factory=dict)
    vms: Mapping[str, VmCpus] = field(default_factory=dict)

    def dedicated(self, vm: str) -> bool:
        found = self.vms.get(vm)
        return found is not None and found.dedicated

    def on_host(self, host: str) -> list[VmCpus]:
        return [c for c in self.vms.values() if c.dedicated and c.host == host]


@dataclass(slots=True)
class CoreMap:
    """One host's logical CPUs: reserved, held by a dedicated VM, or free."""

    topology: CpuTopology
    owner: dict[int, str] = field(default_factory=dict)  # logical CPU -> dedicated VM
    node_memory_held: dict[int, int] = field(default_factory=dict)  # node -> MiB bound
    _capacity: dict[tuple[int, ThreadPolicy], int] = field(default_factory=dict)

    @classmethod
    def of(cls, topology: CpuTopology, held: Iterable[VmCpus]) -> CoreMap:
        cmap = cls(topology)
        for vm in held:
            cmap.hold(vm)
        return cmap

    def hold(self, vm: VmCpus) -> None:
        self._capacity.clear()
        for cpu in vm.taken or vm.vcpu_pins:
            self.owner[cpu] = vm.vm
        for node, mib in memory_by_node(self.topology, vm).items():
            self.node_memory_held[node] = self.node_memory_held.get(node, 0) + mib

    def release(self, vm: VmCpus) -> None:
        """Free what `vm` held: its CPUs and the memory bound beside them."""
        self._capacity.clear()
        for cpu in [c for c, who in self.owner.items() if who == vm.vm]:
            del self.owner[cpu]
        for node, mib in memory_by_node(self.topology, vm).items():
            self.node_memory_held[node] = self.node_memory_held.get(node, 0) - mib

    def is_free(self, cpu: int) -> bool:
        return cpu not in self.owner and cpu not in self.topology.reserved

    def free_cpus(self, node: int) -> list[int]:
        return [c for c in self.topology.nodes[node].cpus if self.is_free(c)]

    def free_cores(self, node: int) -> list[tuple[int, ...]]:
        """Physical cores of `node` all of whose threads are free."""
        return [core for core in self.topology.nodes[node].cores if all(map(self.is_free, core))]

    def capacity(self, node: int, threads: ThreadPolicy) -> int:
        """How many dedicated vCPUs `node` can still take."""
        known = self._capacity.get((node, threads))
        if known is None:
            if not self.owner:  # nothing held: the same for every host of this shape
                known = _empty_capacity(self.topology.nodes[node], self.topology.reserved)[
                    threads is ThreadPolicy.ISOLATE
                ]
            else:  # one pass for both policies
                cpus, cores = self._free_in(node)
                self._capacity[(node, ThreadPolicy.PREFER)] = cpus
                self._capacity[(node, ThreadPolicy.ISOLATE)] = cores
                known = cores if threads is ThreadPolicy.ISOLATE else cpus
            self._capacity[(node, threads)] = known
        return known

    def _free_in(self, node: int) -> tuple[int, int]:
        """(free CPUs, physical cores all of whose threads are free) in `node`."""
        held, reserved = self.owner, self.topology.reserved
        cpus = cores = 0
        for core in self.topology.nodes[node].cores:
            free = sum(1 for cpu in core if cpu not in held and cpu not in reserved)
            cpus += free
            cores += free == len(core)
        return cpus, cores

    def memory_free(self, node: int) -> float:
        total = self.topology.nodes[node].memory_mib
        return np.inf if total is None else total - self.node_memory_held.get(node, 0)

    @property
    def shared_cpus(self) -> list[int]:
        """The CPUs shared VMs (and nothing dedicated) may use."""
        return [c for c in self.topology.cpus if self.is_free(c)]


@functools.lru_cache(maxsize=1024)
def _empty_capacity(node: NumaNode, reserved: tuple[int, ...]) -> tuple[int, int]:
    """(free CPUs, free whole cores) of a node where only the host's reserved CPUs are held."""
    kept = set(reserved)
    cpus = sum(1 for core in node.cores for cpu in core if cpu not in kept)
    cores = sum(1 for core in node.cores if not kept.intersection(core))
    return cpus, cores


def not_fitting(
    cmap: CoreMap,
    vcpus: int,
    memory_mib: int,
    threads: ThreadPolicy,
    numa: NumaPolicy = NumaPolicy.ONE,
) -> str:
    """Why no NUMA node of the host takes the VM (nor, when it may spread, all of them
    together), in one clause."""
    if numa is NumaPolicy.SPREAD:
        return why_not_spread(cmap, vcpus, memory_mib, threads) or "it does not fit"
    whole = " whole" if threads is ThreadPolicy.ISOLATE else ""
    nodes = range(len(cmap.topology.nodes))
    largest = max((cmap.capacity(n, threads) for n in nodes), default=0)
    roomy = [n for n in nodes if cmap.capacity(n, threads) >= vcpus]
    if roomy:  # enough cores, not enough memory beside them
        best = max(roomy, key=cmap.memory_free)
        return (
            f"needs {memory_mib} MiB beside its cores in one NUMA node; node {best} of host "
            f"{cmap.topology.host} has {cmap.memory_free(best):.0f} MiB free"
        )
    said = f"needs {vcpus} dedicated{whole} cores in one NUMA node; largest free: {largest}"
    if len(nodes) > 1 and not why_not_spread(cmap, vcpus, memory_mib, threads):
        said += " (its flavor does not allow spreading over nodes)"
    return said


def pins_in_node(
    cmap: CoreMap, node: int, count: int, threads: ThreadPolicy
) -> tuple[list[int], list[int]]:
    """`count` free CPUs of `node` for vCPUs, and every CPU they take (isolate: whole
    cores; prefer: cores whose siblings are held filled first, so whole cores stay free)."""
    pins: list[int] = []
    taken: list[int] = []
    if threads is ThreadPolicy.ISOLATE:
        for core in cmap.free_cores(node)[:count]:
            pins.append(core[0])
            taken.extend(core)
        return pins, taken
    cores = cmap.topology.nodes[node].cores
    ordered = sorted(cores, key=lambda core: sum(map(cmap.is_free, core)))
    for core in ordered:
        for cpu in core:
            if cmap.is_free(cpu) and len(pins) < count:
                pins.append(cpu)
    return pins, list(pins)


def choose_pins(
    cmap: CoreMap,
    vm: str,
    vcpus: int,
    memory_mib: int,
    threads: ThreadPolicy,
    numa: NumaPolicy = NumaPolicy.ONE,
) -> VmCpus | str:
    """The pins of a dedicated VM on this host (best-fitting node: the one left with the
    fewest free CPUs; spread over nodes only when no node holds it and `numa` allows it),
    or why it does not fit. Changes nothing."""
    fitting = [
        n
        for n in range(len(cmap.topology.nodes))
        if cmap.capacity(n, threads) >= vcpus and cmap.memory_free(n) >= memory_mib
    ]
    node: int | None = None
    if vcpus < 1:
        return not_fitting(cmap, vcpus, memory_mib, threads)
    if fitting:
        node = min(fitting, key=lambda n: (cmap.capacity(n, threads), n))
        pins, taken = pins_in_node(cmap, node, vcpus, threads)
    elif numa is NumaPolicy.SPREAD:
        spread = spread_pins(cmap, vcpus, memory_mib, threads)
        if isinstance(spread, str):
            return spread
        pins, taken = spread
    else:
        return not_fitting(cmap, vcpus, memory_mib, threads)
    reserved = cmap.topology.reserved
    return VmCpus(
        vm,
        CpuPolicy.DEDICATED,
        threads,
        cmap.topology.host,
        tuple(pins),
        tuple(reserved) if reserved else tuple(pins),
        node,
        memory_mib,
        tuple(sorted(taken)),
        numa,
    )


# --- the fleet in arrays -----------------------------------------------------------------


class NumaView:
    """Per host and NUMA node: dedicated vCPUs it can still take (threads preferred and
    isolated) and memory free beside them; hosts whose topology is unknown take none."""

    def __init__(self, names: list[str], ledger: CpuLedger | None) -> None:
        ledger = ledger or CpuLedger()
        self.vms: dict[str, VmCpus] = dict(ledger.vms)
        topologies = ledger.topologies
        width = max((len(t.nodes) for t in topologies.values()), default=1) or 1
        n = len(names)
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}
        self.known = np.array([name in topologies for name in names], dtype=bool)
        self.held_cpus = np.zeros(n)  # logical CPUs dedicated VMs hold (not shared)
        self.maps: dict[str, CoreMap] = {}
        self.holding = False  # whether any host has a dedicated VM (else shared = usable)
        self.changed: Callable[[int], None] | None = None  # told of a host whose CPUs changed
        # per request shape (vCPUs, memory, threads, numa): `fits` and `leftover` arrays
        self._fits: dict[tuple[int, int, ThreadPolicy, NumaPolicy], np.ndarray] = {}
        self._left: dict[tuple[int, int, ThreadPolicy, NumaPolicy], np.ndarray] = {}
        self._shapes: dict[tuple[int, int, ThreadPolicy, NumaPolicy], PlacementRequest] = {}
        held: dict[str, list[VmCpus]] = {}
        for vm in self.vms.values():
            if vm.dedicated and vm.host in self.index:
                held.setdefault(vm.host, []).append(vm)
        columns: list[list[list[float]]] = [[[0.0] * n for _ in range(width)] for _ in range(3)]
        for host, topology in topologies.items():
            i = self.index.get(host)
            if i is None:
                continue
            cmap = self.maps[host] = CoreMap.of(topology, held.get(host, ()))
            for k in range(len(topology.nodes)):
                columns[0][k][i] = cmap.capacity(k, ThreadPolicy.PREFER)
                columns[1][k][i] = cmap.capacity(k, ThreadPolicy.ISOLATE)
                columns[2][k][i] = cmap.memory_free(k)
            self.held_cpus[i] = len(cmap.owner)
        self.holding = bool(self.held_cpus.any())
        self.free_cpus, self.free_cores, self.free_memory = (
            [np.array(column) for column in kind] for kind in columns
        )

    def dedicated(self, vm: str) -> bool:
        found = self.vms.get(vm)
        return found is not None and found.dedicated

    def _fill(self, host: str) -> None:
        i, cmap = self.index[host], self.maps[host]
        for k in range(len(cmap.topology.nodes)):
            self.free_cpus[k][i] = cmap.capacity(k, ThreadPolicy.PREFER)
            self.free_cores[k][i] = cmap.capacity(k, ThreadPolicy.ISOLATE)
            self.free_memory[k][i] = cmap.memory_free(k)
        self.held_cpus[i] = len(cmap.owner)
        self.holding = bool(self.held_cpus.any())
        for key, fitting in self._fits.items():
            fitting[i] = self._fits_one(self._shapes[key], i)
        for key, left in self._left.items():
            left[i] = self._left_one(self._shapes[key], i)
        if self.changed is not None:
            self.changed(i)

    def fits(self, req: PlacementRequest) -> np.ndarray:
        """Which hosts have a NUMA node with room for the dedicated request (cached per
        request shape and kept up to date host by host: read it, never change it)."""
        key = (req.vcpus, req.memory_mib, req.threads, req.numa)
        found = self._fits.get(key)
        if found is None:
            if len(self._fits) >= MAX_SHAPES:
                self._fits.clear()
            found = self._fits[key] = self._fitting(req)
            self._shapes[key] = req
        return found

    def _fitting(self, req: PlacementRequest) -> np.ndarray:
        free = self.free_cores if req.threads is ThreadPolicy.ISOLATE else self.free_cpus
        room = np.zeros(len(self.known), dtype=bool)
        for cpus, memory in zip(free, self.free_memory, strict=True):
            room |= (cpus >= req.vcpus) & (memory >= req.memory_mib)
        if req.numa is NumaPolicy.SPREAD and len(free) > 1:  # over nodes: checked exactly
            maybe = (sum(free) >= req.vcpus) & (sum(self.free_memory) >= req.memory_mib)
            for i in np.flatnonzero(maybe & ~room & self.known):
                room[i] = self._spreads(req, int(i))
        result: np.ndarray = self.known & room
        return result

    def _spreads(self, req: PlacementRequest, i: int) -> bool:
        cmap = self.maps[self.names[i]]
        return not why_not_spread(cmap, req.vcpus, req.memory_mib, req.threads)

    def _fits_one(self, req: PlacementRequest, i: int) -> bool:
        """`_fitting` of host `i` alone, in plain numbers (a claim updates every shape)."""
        free = self.free_cores if req.threads is ThreadPolicy.ISOLATE else self.free_cpus
        cpus = [float(column[i]) for column in free]
        memory = [float(column[i]) for column in self.free_memory]
        if not self.known[i]:
            return False
        if any(c >= req.vcpus and m >= req.memory_mib for c, m in zip(cpus, memory, strict=True)):
            return True
        spread = req.numa is NumaPolicy.SPREAD and len(cpus) > 1
        return spread and self._spreads(req, i)

    def _left_one(self, req: PlacementRequest, i: int) -> float:
        """`_leftover` of host `i` alone, in plain numbers."""
        free = self.free_cores if req.threads is ThreadPolicy.ISOLATE else self.free_cpus
        cpus = [float(column[i]) for column in free]
        left = [c - req.vcpus for c in cpus if c >= req.vcpus]
        if left:
            return min(left)
        if req.numa is NumaPolicy.SPREAD and len(cpus) > 1:
            return sum(cpus) - req.vcpus
        return 0.0

    def leftover(self, req: PlacementRequest, idx: np.ndarray) -> np.ndarray:
        """Free CPUs left in the best-fitting node of each candidate (smaller packs better;
        cached per request shape like `fits`)."""
        key = (req.vcpus, 0, req.threads, req.numa)
        found = self._left.get(key)
        if found is None:
            if len(self._left) >= MAX_SHAPES:
                self._left.clear()
            found = self._left[key] = self._leftover(req)
            self._shapes[key] = req
        result: np.ndarray = found[idx]
        return result

    def _leftover(self, req: PlacementRequest) -> np.ndarray:
        free = self.free_cores if req.threads is ThreadPolicy.ISOLATE else self.free_cpus
        left = np.full(len(self.known), np.inf)
        for cpus in free:
            column = cpus - req.vcpus
            np.minimum(left, np.where(column >= 0, column, np.inf), out=left)
        if req.numa is NumaPolicy.SPREAD and len(free) > 1:  # spread: what all nodes keep
            spread = sum(free) - req.vcpus
            left = np.where(np.isfinite(left), left, spread)
        result: np.ndarray = np.where(np.isfinite(left), left, 0.0)
        return result

    def reason(self, host: str, req: PlacementRequest) -> str:
        cmap = self.maps.get(host)
        if cmap is None:
            return f"the CPU topology of host {host} is not known yet"
        return not_fitting(cmap, req.vcpus, req.memory_mib, req.threads, req.numa)

    def claim(self, host: str, req: PlacementRequest) -> VmCpus | str:
        """Choose the pins of a dedicated request on `host` and count them; a reason when
        they do not fit."""
        cmap = self.maps.get(host)
        if cmap is None:
            return self.reason(host, req)
        chosen = choose_pins(cmap, req.vm, req.vcpus, req.memory_mib, req.threads, req.numa)
        if isinstance(chosen, VmCpus):
            cmap.hold(chosen)
            self.vms[req.vm] = chosen
            self._fill(host)
        return chosen

    def release(self, vm: str) -> None:
        """Free what a dedicated VM held (it left its host, or a claim is undone)."""
        gone = self.vms.pop(vm, None)
        if gone is None or not gone.dedicated or gone.host not in self.maps:
            return
        self.maps[gone.host].release(gone)
        self._fill(gone.host)
