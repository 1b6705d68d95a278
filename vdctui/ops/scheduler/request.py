"""What a placement asks for, and what it answers."""

from __future__ import annotations

from dataclasses import dataclass, field

from vdctui.model import CpuPolicy, NumaPolicy, ThreadPolicy
from vdctui.ops.placement import DEFAULT_CPU_OVERCOMMIT, DEFAULT_MEMORY_OVERCOMMIT


@dataclass(frozen=True, slots=True)
class PlacementRequest:
    """One VM to place.

        `avoid_hosts`/`avoid_racks` come from anti-affinity groups (the hosts and racks
        of the group's other VMs); `same_host` from an affinity group (the host its
        other VMs run on). `current_host` is excluded (the VM is there already).
        `expected_util` is the CPU load (0..1 of its vCPUs) used to estimate watts.
    A dedicated VM (`cpu_policy`) needs a logical CPU per vCPU in one NUMA node (over
    several only when `numa` is spread and no node holds it).
    """

    vm: str
    vcpus: int
    memory_mib: int
    datastore: str = ""
    network: str = ""
    cpu_overcommit: float = DEFAULT_CPU_OVERCOMMIT
    memory_overcommit: float = DEFAULT_MEMORY_OVERCOMMIT
    current_host: str = ""
    same_host: str = ""
    avoid_hosts: frozenset[str] = field(default_factory=frozenset)
    avoid_racks: frozenset[str] = field(default_factory=frozenset)
    expected_util: float = 0.5
    cpu_policy: CpuPolicy = CpuPolicy.SHARED
    threads: ThreadPolicy = ThreadPolicy.PREFER
    numa: NumaPolicy = NumaPolicy.ONE  # may a dedicated VM spread over NUMA nodes

    @property
    def dedicated(self) -> bool:
        return self.cpu_policy is CpuPolicy.DEDICATED


@dataclass(frozen=True, slots=True)
class Exclusion:
    """Why one host was left out: the filter's name and one clause for the operator."""

    host: str
    filter: str
    reason: str


@dataclass(frozen=True, slots=True)
class RankedHost:
    host: str
    weight: float  # combined, after normalization: higher is better
    watts_increase: float  # estimated


@dataclass(frozen=True, slots=True)
class Placement:
    """The scheduler's answer: candidates best first, and every excluded host with why."""

    request: PlacementRequest
    ranked: tuple[RankedHost, ...]
    excluded: tuple[Exclusion, ...]

    @property
    def best(self) -> str | None:
        return self.ranked[0].host if self.ranked else None

    def why_not(self, host: str) -> str | None:
        """The reason `host` was excluded, or None if it is a candidate."""
        for exclusion in self.excluded:
            if exclusion.host == host:
                return exclusion.reason
        return None

    def summary(self) -> str:
        """One sentence for a refusal: how many hosts were excluded, by which filter."""
        counts: dict[str, int] = {}
        for exclusion in self.excluded:
            counts[exclusion.filter] = counts.get(exclusion.filter, 0) + 1
        parts = ", ".join(
            f"{n} by {name}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1])
        )
        return f"no host passes the filters ({parts})" if parts else "there are no hosts"
