"""The fleet as the scheduler sees it: one row per host, in arrays, kept across a batch.

Built once from what the store last saw (hosts, VMs, maintenance flags), then
updated by `claim`/`release` as placements are made, so a batch of thousands of
placements never rescans the fleet.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from vdctui.model import Host, HostState, Vm
from vdctui.ops.placement import holds_resources, vcpus_free
from vdctui.ops.scheduler.numa import CpuLedger, NumaView
from vdctui.ops.scheduler.weights import IDLE_SHARE_OF_PEAK

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]


class FleetView:
    """Hosts in name order with their capacity, what they hold, racks and datastores."""

    def __init__(
        self,
        hosts: Iterable[Host],
        vms: Iterable[Vm] = (),
        *,
        maintenance: Iterable[str] = (),
        rack_budgets_kw: dict[str, float] | None = None,
        networks: Iterable[str] | None = None,
        cpus: CpuLedger | None = None,
    ) -> None:
        self.hosts: list[Host] = sorted(hosts, key=lambda h: h.name)
        self.names: list[str] = [h.name for h in self.hosts]
        self.index: dict[str, int] = {n: i for i, n in enumerate(self.names)}
        n = len(self.hosts)
        self.up: BoolArray = np.array([h.state is HostState.UP for h in self.hosts], dtype=bool)
        in_maintenance = set(maintenance)
        self.maintenance: BoolArray = np.array(
            [h.name in in_maintenance for h in self.hosts], dtype=bool
        )
        self.usable_cpus: FloatArray = np.array([h.usable_cpus for h in self.hosts], dtype=float)
        self.usable_memory: FloatArray = np.array(
            [h.usable_memory_mib for h in self.hosts], dtype=float
        )
        self.inverse_cpus: FloatArray = 1.0 / np.maximum(self.usable_cpus, 1.0)
        self.inverse_memory: FloatArray = 1.0 / np.maximum(self.usable_memory, 1.0)
        self.held_vcpus: FloatArray = np.zeros(n)
        self.held_memory: FloatArray = np.zeros(n)
        self.numa = NumaView(self.names, cpus)  # dedicated cores: not in held_vcpus
        for vm in vms:
            i = self.index.get(vm.host or "")
            if i is not None and holds_resources(vm):
                self.held_vcpus[i] += 0 if self.numa.dedicated(vm.name) else vm.vcpus
                self.held_memory[i] += vm.memory_mib
        self.watts_per_cpu: FloatArray = np.array([_watts_per_cpu(h) for h in self.hosts])
        # what the RAM, CPU and power weighers rank by, one row each (higher is better):
        # minus the share of the host's memory and of its CPUs held, minus the watts a
        # CPU adds; `claim` keeps the first two up to date one host at a time
        self.ranks: tuple[FloatArray, FloatArray, FloatArray] = (
            -self.held_memory * self.inverse_memory,
            -self.held_vcpus * self.inverse_cpus,
            -self.watts_per_cpu,
        )
        self.rack_names: list[str] = sorted({h.rack for h in self.hosts})
        rack_index = {r: i for i, r in enumerate(self.rack_names)}
        self.rack_of = np.array([rack_index[h.rack] for h in self.hosts], dtype=np.int64)
        budgets = rack_budgets_kw or {}
        self.rack_free_watts: FloatArray = np.array(
            [1000.0 * budgets[r] if r in budgets else np.inf for r in self.rack_names]
        )
        for h in self.hosts:
            self.rack_free_watts[rack_index[h.rack]] -= h.power_watts or 0.0
        self.networks: frozenset[str] | None = None if networks is None else frozenset(networks)
        # each host's rack's power left (the rack power filter), kept by `claim` per rack
        self.host_rack_free: FloatArray = self.rack_free_watts[self.rack_of]
        order = np.argsort(self.rack_of, kind="stable")
        bounds = np.searchsorted(self.rack_of[order], np.arange(len(self.rack_names) + 1))
        self._rack_hosts = [order[bounds[r] : bounds[r + 1]] for r in range(len(self.rack_names))]
        self._worst_watts: dict[int, FloatArray] = {}
        # free vCPUs (over the shared CPUs) and memory per host, per overcommit ratio,
        # kept up to date one host at a time by `claim` and the NUMA view
        self._free_vcpus: dict[float, FloatArray] = {}
        self._free_memory: dict[float, FloatArray] = {}
        self.numa.changed = self._host_changed
        self._datastore_masks: dict[str, BoolArray] = {}
        self._available: BoolArray | None = None
        self._available_reaching: dict[str, BoolArray] = {}
        self.budgeted = bool(np.isfinite(self.rack_free_watts).any())

    def __len__(self) -> int:
        return len(self.hosts)

    def reaches(self, datastore: str) -> BoolArray:
        """Which hosts reach `datastore` (cached)."""
        mask = self._datastore_masks.get(datastore)
        if mask is None:
            mask = np.array([datastore in h.datastores for h in self.hosts], dtype=bool)
            self._datastore_masks[datastore] = mask
        return mask

    def claim(self, host: str, vcpus: int, memory_mib: int, watts: float = 0.0) -> None:
        """Count a VM placed on `host` (a batch's next placement sees it)."""
        i = self.index[host]
        self.held_vcpus[i] += vcpus
        self.held_memory[i] += memory_mib
        self._host_changed(i)
        if watts:
            rack = self.rack_of[i]
            self.rack_free_watts[rack] -= watts
            self.host_rack_free[self._rack_hosts[rack]] = self.rack_free_watts[rack]

    def release(self, host: str, vcpus: int, memory_mib: int, watts: float = 0.0) -> None:
        """Undo a claim, or count a VM that left `host`."""
        self.claim(host, -vcpus, -memory_mib, -watts)

    def _host_changed(self, i: int) -> None:
        """Host `i` holds more or less: its figures in every cached array follow."""
        self.ranks[0][i] = -self.held_memory[i] * self.inverse_memory[i]
        self.ranks[1][i] = -self.held_vcpus[i] * self.inverse_cpus[i]
        shared = self.usable_cpus[i] - self.numa.held_cpus[i]
        for ratio, free in self._free_vcpus.items():
            free[i] = vcpus_free(shared, self.held_vcpus[i], ratio)
        for ratio, free in self._free_memory.items():
            free[i] = self.usable_memory[i] * ratio - self.held_memory[i]

    def shared_cpus(self) -> FloatArray:
        """Usable logical CPUs less those dedicated VMs hold: what shared vCPUs float over."""
        if not self.numa.holding:
            return self.usable_cpus
        result: FloatArray = self.usable_cpus - self.numa.held_cpus
        return result

    def free_vcpus(self, overcommit: float) -> FloatArray:
        """vCPUs each host can still take at this overcommit of its shared CPUs (cached:
        read, never change it)."""
        found = self._free_vcpus.get(overcommit)
        if found is None:
            found = vcpus_free(self.shared_cpus(), self.held_vcpus, overcommit)
            self._free_vcpus[overcommit] = found
        return found

    def free_memory(self, overcommit: float) -> FloatArray:
        """Memory (MiB) each host can still take at this overcommit (cached: read only)."""
        found = self._free_memory.get(overcommit)
        if found is None:
            found = self.usable_memory * overcommit - self.held_memory
            self._free_memory[overcommit] = found
        return found

    def avoiding_racks(self, racks: frozenset[str]) -> BoolArray:
        """Hosts in none of `racks`."""
        mask = np.ones(len(self.hosts), dtype=bool)
        for r, name in enumerate(self.rack_names):
            if name in racks:
                mask[self._rack_hosts[r]] = False
        return mask

    def worst_watts(self, vcpus: int) -> FloatArray:
        """What `vcpus` at full load add on each host, in watts (cached per size)."""
        found = self._worst_watts.get(vcpus)
        if found is None:
            found = self._worst_watts[vcpus] = self.watts_per_cpu * vcpus
        return found

    def set_maintenance(self, host: str, on: bool) -> None:
        self.maintenance[self.index[host]] = on
        self._available = None
        self._available_reaching.clear()

    def available(self) -> BoolArray:
        """Hosts that are up and not in maintenance (cached)."""
        if self._available is None:
            self._available = self.up & ~self.maintenance
        return self._available

    def available_reaching(self, datastore: str) -> BoolArray:
        """Hosts available that reach `datastore` (cached; every one when none is named)."""
        found = self._available_reaching.get(datastore)
        if found is None:
            found = self.available()
            if datastore:
                found = found & self.reaches(datastore)
            self._available_reaching[datastore] = found
        return found


def _watts_per_cpu(host: Host) -> float:
    """Estimated watts one logical CPU adds at full load: from what the host draws now
    at its load, with the idle share of peak assumed (the driver gives no curve)."""
    if not host.power_watts or host.power_watts <= 0 or host.cpus <= 0:
        return 0.0
    util = min(max(host.cpu_util or 0.0, 0.0), 1.0)
    peak = host.power_watts / (IDLE_SHARE_OF_PEAK + (1 - IDLE_SHARE_OF_PEAK) * util)
    return peak * (1 - IDLE_SHARE_OF_PEAK) / host.cpus
