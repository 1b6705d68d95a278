"""Hosts' CPU topology and pinned VMs, as libvirt shows them (`virsh capabilities`,
`vcpupin`, `emulatorpin`).

Topology from the host model: one NUMA node per socket, two sockets when a host has 16
cores or more (the demo's models are 2-socket servers), threads numbered as Linux does
(the first thread of every core, then the second ones). The host's reserved CPUs are
named: the first whole cores of node 0 covering `reserved_cpus` threads.

A pinned VM holds its CPUs: pinning a vCPU to a CPU another VM's vCPU is pinned to is
refused (libvirt itself would allow it; the emulator models dedicated cores, where
sharing never happens), as is pinning to a reserved CPU or one the host does not have.
Pins stay with a VM that migrates (as the domain XML's `<cputune>` does) until changed.
"""

from __future__ import annotations

from typing import Any

from .state import FleetState
from .topology import Host


def numa_nodes(h: Host) -> int:
    return 2 if h.cores >= 16 and h.cores % 2 == 0 else 1


def cpu_layout(h: Host) -> dict[str, Any]:
    """`{"nodes": [{"id", "cores": [[cpu, sibling...]...], "memory_mib"}], "reserved": [...]}`"""
    nodes = numa_nodes(h)
    per_node = h.cores // nodes
    threads = max(h.threads // h.cores, 1)

    def core(c: int) -> list[int]:
        return [c + t * h.cores for t in range(threads)]

    reserved_cores = -(-h.reserved_cpus // threads) if h.reserved_cpus > 0 else 0
    return {
        "nodes": [
            {
                "id": n,
                "cores": [core(c) for c in range(n * per_node, (n + 1) * per_node)],
                "memory_mib": h.memory_mib // nodes,
            }
            for n in range(nodes)
        ],
        "reserved": sorted(h.reserved_named)
        if h.reserved_named
        else sorted(cpu for c in range(reserved_cores) for cpu in core(c)),
    }


class CoreOps(FleetState):
    """Pins per VM: `pins[vm] = (vcpu_pins, emulator_pins)`; persisted with the fleet."""

    @property
    def pins(self) -> dict[str, tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]]:
        """vm -> (each vCPU's allowed CPUs, the emulator's CPUs), for VMs pinned so far."""
        found = self.__dict__.get("_pins")
        if found is None:
            found = self.__dict__["_pins"] = {}
        return found  # type: ignore[no-any-return]

    @property
    def memory_nodes(self) -> dict[str, tuple[int, ...]]:
        """vm -> the NUMA nodes its memory is bound to (`<numatune>` strict), when bound."""
        found = self.__dict__.get("_memory_nodes")
        if found is None:
            found = self.__dict__["_memory_nodes"] = {}
        return found  # type: ignore[no-any-return]

    def cpu_layout(self, host: str) -> dict[str, Any]:
        return cpu_layout(self.check_reachable(host))

    def pin_vcpus(self, name: str, per_vcpu: list[list[int]], emulator: list[int]) -> None:
        """Pin vCPU i of `name` to the CPUs per_vcpu[i] (one CPU each: dedicated) and QEMU's
        own threads to `emulator`."""
        v = self.vm(name)
        h = self.check_reachable(v.host)
        self._check_pins(name, h, per_vcpu, emulator)
        self.pins[name] = (tuple(tuple(cpus) for cpus in per_vcpu), tuple(emulator))
        self.emit("vm.pinned", f"VM {name}: vCPUs pinned to {per_vcpu}.", h.name, name)

    def _check_pins(
        self, name: str, h: Host, per_vcpu: list[list[int]], emulator: list[int]
    ) -> None:
        """Refuse pins `h` cannot give `name`: CPUs it lacks, reserved or dedicated ones."""
        v = self.vm(name)
        reserved = set(cpu_layout(h)["reserved"])
        if not per_vcpu or len(per_vcpu) > v.max_vcpus or not all(per_vcpu):
            raise self.refuse(f"VM {name} has 1 to {v.max_vcpus} vCPUs to pin, each to a CPU.")
        for cpu in [*(c for cpus in per_vcpu for c in cpus), *emulator]:
            if not 0 <= cpu < h.threads:
                raise self.refuse(f"Host {h.name} has no CPU {cpu} (0-{h.threads - 1}).")
        dedicated = all(len(cpus) == 1 for cpus in per_vcpu)
        mine = {c for cpus in per_vcpu for c in cpus}
        if dedicated and len(mine) != len(per_vcpu):
            raise self.refuse(f"VM {name}: two vCPUs pinned to one CPU.")
        if dedicated and mine & reserved:
            raise self.refuse(f"CPU {min(mine & reserved)} of host {h.name} is reserved for it.")
        for other, (cpus, _) in self.pins.items():
            found = self.vms.get(other)
            if other == name or found is None or found.host != h.name:
                continue
            theirs = {c for group in cpus for c in group}
            other_dedicated = all(len(group) == 1 for group in cpus)
            clash = mine & theirs if (dedicated or other_dedicated) else set()
            if clash:
                holder = other if other_dedicated else name
                raise self.refuse(
                    f"CPU {min(clash)} of host {h.name} is dedicated to VM {holder}; "
                    f"VM {other if holder == name else name} cannot use it."
                )

    def _arriving(self, vm: str, target: str, pins: Any) -> None:
        """A migration carries new pins (and a memory binding) for `target`: checked there
        now, in force from its arrival (until then the VM keeps its source's)."""
        per_vcpu, emulator, nodes = pins
        h = self.check_reachable(target)
        self._check_pins(vm, h, per_vcpu, emulator)
        if nodes and any(not 0 <= n < numa_nodes(h) for n in nodes):
            raise self.refuse(f"Host {h.name} has NUMA nodes 0-{numa_nodes(h) - 1}, not {nodes}.")
        self.__dict__.setdefault("_arrival_pins", {})[vm] = (per_vcpu, emulator, nodes)

    def _arrived(self, vm: str, moved: bool) -> None:
        carried = self.__dict__.get("_arrival_pins", {}).pop(vm, None)
        if carried is None or not moved:
            return
        per_vcpu, emulator, nodes = carried
        self.pins[vm] = (tuple(tuple(cpus) for cpus in per_vcpu), tuple(emulator))
        if nodes:
            self.memory_nodes[vm] = tuple(sorted(set(nodes)))

    def vcpu_affinity(self, name: str) -> tuple[list[list[int]], list[int]]:
        """Each vCPU's allowed CPUs and the emulator's, as `virsh vcpupin`/`emulatorpin` list
        them (all the host's CPUs when not pinned)."""
        v = self.vm(name)
        h = self.check_reachable(v.host)
        every = list(range(h.threads))
        per_vcpu, emulator = self.pins.get(name, ((), ()))
        listed = [list(per_vcpu[i]) if i < len(per_vcpu) else every for i in range(v.max_vcpus)]
        return listed, list(emulator) or every

    def bind_memory(self, name: str, nodes: list[int]) -> None:
        """Bind `name`'s memory to NUMA `nodes` of its host (`virsh numatune --mode strict`)."""
        v = self.vm(name)
        h = self.check_reachable(v.host)
        count = numa_nodes(h)
        if not nodes or any(not 0 <= n < count for n in nodes):
            raise self.refuse(f"Host {h.name} has NUMA nodes 0-{count - 1}, not {nodes}.")
        self.memory_nodes[name] = tuple(sorted(set(nodes)))
        self.emit("vm.numatune", f"VM {name}: memory bound to nodes {nodes}.", h.name, name)

    def memory_binding(self, name: str) -> list[int]:
        """The nodes `name`'s memory is bound to (empty: not bound)."""
        v = self.vm(name)
        self.check_reachable(v.host)
        return list(self.memory_nodes.get(name, ()))

    def set_reserved_cpus(self, host: str, cpus: list[int]) -> None:
        """The CPUs `host` keeps for itself, named (its usable CPUs follow); none pinned."""
        h = self.check_reachable(host)
        for cpu in cpus:
            if not 0 <= cpu < h.threads:
                raise self.refuse(f"Host {h.name} has no CPU {cpu} (0-{h.threads - 1}).")
        if len(set(cpus)) >= h.threads:
            raise self.refuse(f"Host {h.name} would keep all its CPUs for itself.")
        for vm, (per_vcpu, _) in self.pins.items():
            found = self.vms.get(vm)
            if found is None or found.host != h.name or any(len(g) != 1 for g in per_vcpu):
                continue  # not here, or shared (floating: moved off them afterwards)
            clash = {c for group in per_vcpu for c in group} & set(cpus)
            if clash:
                raise self.refuse(f"CPU {min(clash)} of host {h.name} is dedicated to VM {vm}.")
        h.reserved_named = tuple(sorted(set(cpus)))
        h.reserved_cpus = len(h.reserved_named)
        self.refresh_host(h)
        self.touch("host", h.name)
        self.emit(
            "host.reserved", f"Host {h.name} keeps CPUs {sorted(set(cpus))} for itself.", h.name
        )
