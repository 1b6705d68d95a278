"""CPU contention on a host: what shared VMs wait for, and what dedicated VMs hold.

A host's CPUs are its reserved ones (its own system), the ones dedicated VMs are pinned
to (one vCPU per CPU: theirs alone, never waited for), and the shared pool: every other
CPU. The running shared VMs want `vcpus x cpu_util` CPUs of that pool between them;
when they want more than the pool has (an overcommitted host), each gets the same share
of what it wants, pool / wanted, and waits the rest of the time: its steal (CPU ready
in vSphere's words, `steal` inside a Linux guest), as a share of its vCPUs' time, like
its utilization. A dedicated VM's steal is 0, whatever its neighbours do.

Worked out when asked (never per step): the emulator's clock pays nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .cores import CoreOps, cpu_layout
from .vm import RUNNING


@dataclass(frozen=True, slots=True)
class Contention:
    host: str
    reserved_cpus: int  # the host's own
    dedicated_cpus: int  # held by dedicated (pinned) VMs
    shared_cpus: int  # the pool every other VM shares
    wanted_cpus: float  # what the running shared VMs want of it
    steal: dict[str, float]  # running VM -> share of its vCPUs' time spent waiting

    @property
    def overcommit(self) -> float:
        """Wanted over the pool (above 1: shared VMs wait); inf for an empty pool."""
        if self.shared_cpus <= 0:
            return float("inf") if self.wanted_cpus > 0 else 0.0
        return self.wanted_cpus / self.shared_cpus


class ContentionOps(CoreOps):
    def dedicated_vms(self, host: str) -> dict[str, set[int]]:
        """Dedicated VMs on `host` (every vCPU pinned to one CPU of its own) -> CPUs."""
        found: dict[str, set[int]] = {}
        for name, (per_vcpu, _) in self.pins.items():
            v = self.vms.get(name)
            if v is not None and v.host == host and per_vcpu and all(len(c) == 1 for c in per_vcpu):
                found[name] = {c for cpus in per_vcpu for c in cpus}
        return found

    def cpu_contention(self, host: str) -> Contention:
        h = self.check_reachable(host)
        reserved = set(cpu_layout(h)["reserved"])
        dedicated = self.dedicated_vms(host)
        held = set().union(*dedicated.values()) - reserved if dedicated else set()
        pool = max(h.threads - len(reserved) - len(held), 0)
        running = [self.vms[n] for n in h.vm_names if self.vms[n].state == RUNNING]
        shared = [v for v in running if v.name not in dedicated]
        wanted = sum(v.vcpus * v.cpu_util for v in shared)
        waiting = 0.0
        if wanted > pool:
            waiting = 1.0 - pool / wanted
        steal = {v.name: 0.0 for v in running}
        for v in shared:
            steal[v.name] = v.cpu_util * waiting
        return Contention(host, len(reserved), len(held), pool, wanted, steal)
