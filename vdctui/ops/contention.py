"""CPU contention as the fleet measures it: steal (CPU ready) per VM, and each host's
shared pool against the CPUs dedicated VMs hold. Emulated hosts only for now: real
hosts' `domstats` vCPU delay is not read yet, so there it is unknown (None)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.model import CpuContention

if TYPE_CHECKING:
    from vdctui.ops.console import Console


def cpu_contention(console: Console, host: str) -> CpuContention | None:
    """The host's contention now, or None where it is not measured or the host is down."""
    return console.driver.cpu_contention(host)


def vm_steal(console: Console, vm: str, host: str | None) -> float | None:
    """The share of the VM's vCPUs' time spent waiting for a CPU, or None (not known)."""
    if host is None:
        return None
    found = cpu_contention(console, host)
    return None if found is None else found.steal.get(vm)


def pool_line(c: CpuContention) -> str:
    """The host's CPUs as its VMs compete for them, in one line."""
    if c.shared_cpus <= 0:
        pool = f"no shared CPU left, wanted {c.wanted_cpus:.1f}"
    else:
        ratio = c.wanted_cpus / c.shared_cpus
        waiting = 1.0 - 1.0 / ratio if ratio > 1.0 else 0.0
        said = f"shared VMs wait {100 * waiting:.0f}% of the time they want" if waiting else ""
        pool = f"shared {c.shared_cpus} CPUs, wanted {c.wanted_cpus:.1f} ({ratio:.1f}x)"
        pool += f": {said}" if said else ": no VM waits"
    return f"{pool}; dedicated {c.dedicated_cpus}, reserved {c.reserved_cpus}"
