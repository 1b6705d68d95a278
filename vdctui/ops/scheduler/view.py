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
from vdctui.ops.placement import holds_resources
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
        self._datastore_masks: dict[str, BoolArray] = {}
        self._available: BoolArray | None = None
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
        self.rack_free_watts[self.rack_of[i]] -= watts

    def release(self, host: str, vcpus: int, memory_mib: int, watts: float = 0.0) -> None:
        """Undo a claim, or count a VM that left `host`."""
        self.claim(host, -vcpus, -memory_mib, -watts)

    def set_maintenance(self, host: str, on: bool) -> None:
        self.maintenance[self.index[host]] = on
        self._available = None

    def available(self) -> BoolArray:
        """Hosts that are up and not in maintenance (cached)."""
        if self._available is None:
            self._available = self.up & ~self.maintenance
        return self._available


def _watts_per_cpu(host: Host) -> float:
    """Estimated watts one logical CPU adds at full load: from what the host draws now
    at its load, with the idle share of peak assumed (the driver gives no curve)."""
    if not host.power_watts or host.power_watts <= 0 or host.cpus <= 0:
        return 0.0
    util = min(max(host.cpu_util or 0.0, 0.0), 1.0)
    peak = host.power_watts / (IDLE_SHARE_OF_PEAK + (1 - IDLE_SHARE_OF_PEAK) * util)
    return peak * (1 - IDLE_SHARE_OF_PEAK) / host.cpus
