"""Resource-pool admission control, vSphere-style.

A pool's *limit* caps what its VMs may hold (memory in MiB; CPU in MHz, counting
each vCPU at the clock of the host it runs on); its *reservation* is capacity
kept for it. Admission refuses a create, start or resize that would take a pool
over its limit, or eat into memory other pools have reserved and not yet used;
and refuses pool settings whose reservations the fleet cannot hold. Shares only
matter under contention (the balancer and HA restart order read them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from vdctui import checks
from vdctui.model import Host, HostState, Pool, Vm
from vdctui.ops.errors import Refused
from vdctui.ops.placement import holds_resources


@dataclass(frozen=True, slots=True)
class PoolDemand:
    """What a pool's VMs hold now (VMs that are not shut off)."""

    vcpus: int = 0
    cpu_mhz: float = 0.0
    memory_mib: int = 0


def vcpu_mhz(hosts: Iterable[Host]) -> float:
    """The clock a vCPU not yet placed is counted at: the fleet's median host clock."""
    clocks = [h.mhz for h in hosts]
    from statistics import median  # not imported before the console's first frame

    return float(median(clocks)) if clocks else 0.0


def demand_by_pool(vms: Iterable[Vm], hosts: Iterable[Host]) -> dict[str, PoolDemand]:
    host_list = list(hosts)
    mhz = {h.name: h.mhz for h in host_list}
    default = vcpu_mhz(host_list)
    found: dict[str, PoolDemand] = {}
    for vm in vms:
        if not holds_resources(vm):
            continue
        d = found.get(vm.pool, PoolDemand())
        found[vm.pool] = PoolDemand(
            d.vcpus + vm.vcpus,
            d.cpu_mhz + vm.vcpus * mhz.get(vm.host or "", default),
            d.memory_mib + vm.memory_mib,
        )
    return found


def fleet_capacity(hosts: Iterable[Host], maintenance: set[str]) -> tuple[float, int]:
    """(CPU MHz, memory MiB) of the hosts that can run VMs: up and not in maintenance."""
    cpu, memory = 0.0, 0
    for h in hosts:
        if h.state is HostState.UP and h.name not in maintenance:
            cpu += h.usable_cpus * h.mhz
            memory += h.usable_memory_mib
    return cpu, memory


def check_admission(
    pool: Pool,
    pools: Iterable[Pool],
    vms: Iterable[Vm],
    hosts: Iterable[Host],
    *,
    add_vcpus: int,
    add_memory_mib: int,
    what: str,
    maintenance: set[str] | None = None,
) -> None:
    """Refuse (with the reason) if `what` adding vCPUs/memory to `pool` breaks a pool's
    limit or another pool's reservation."""
    host_list = list(hosts)
    vm_list = list(vms)
    demand = demand_by_pool(vm_list, host_list)
    mine = demand.get(pool.name, PoolDemand())
    mhz = vcpu_mhz(host_list)
    if pool.memory_limit_mib and mine.memory_mib + add_memory_mib > pool.memory_limit_mib:
        raise Refused(
            f"{what} would give pool {pool.name} {mine.memory_mib + add_memory_mib} MiB of "
            f"memory, over its limit of {pool.memory_limit_mib} MiB."
        )
    if pool.cpu_limit_mhz and mine.cpu_mhz + add_vcpus * mhz > pool.cpu_limit_mhz:
        raise Refused(
            f"{what} would give pool {pool.name} {mine.cpu_mhz + add_vcpus * mhz:.0f} MHz of "
            f"CPU, over its limit of {pool.cpu_limit_mhz} MHz."
        )
    if add_memory_mib <= 0:
        return
    _, capacity = fleet_capacity(host_list, maintenance or set())
    held = sum(d.memory_mib for d in demand.values())
    owed = {
        p.name: p.memory_reservation_mib - demand.get(p.name, PoolDemand()).memory_mib
        for p in pools
        if p.name != pool.name and p.memory_reservation_mib
    }
    owed = {name: left for name, left in owed.items() if left > 0}
    free_now = capacity - held
    if owed and free_now - add_memory_mib < sum(owed.values()):
        names = ", ".join(sorted(owed))
        raise Refused(
            f"{what} would use memory reserved for pool {names} "
            f"({sum(owed.values())} MiB reserved and unused, {max(free_now, 0)} MiB "
            "free in the fleet)."
        )


# Each number a pool holds: (what it is called, lowest, highest, whole number?)
_SETTINGS: dict[str, tuple[str, float, float, bool]] = {
    "cpu_reservation_mhz": ("The CPU reservation", 0, checks.MAX_MHZ, True),
    "cpu_limit_mhz": ("The CPU limit", 0, checks.MAX_MHZ, True),
    "cpu_shares": ("CPU shares", 1, checks.MAX_SHARES, True),
    "memory_reservation_mib": ("The memory reservation", 0, checks.MAX_MEMORY_MIB, True),
    "memory_limit_mib": ("The memory limit", 0, checks.MAX_MEMORY_MIB, True),
    "memory_shares": ("Memory shares", 1, checks.MAX_SHARES, True),
    "cpu_overcommit": ("The CPU overcommit ratio", 1, checks.MAX_OVERCOMMIT, False),
    "memory_overcommit": ("The memory overcommit ratio", 1, checks.MAX_OVERCOMMIT, False),
}


def check_numbers(pool: Pool) -> Pool:
    """The pool with every number checked finite and in range (ints kept ints), or Refused:
    nan or inf here would make every later comparison false and every sum infinite."""
    try:
        checks.name(pool.name, "pool")
        found: dict[str, float] = {}
        for field, (what, low, high, whole) in _SETTINGS.items():
            value = getattr(pool, field)
            if whole:
                found[field] = checks.whole_number(value, what, low=int(low), high=int(high))
            else:
                found[field] = checks.finite_number(value, what, low=low, high=high)
    except checks.BadInput as exc:
        raise Refused(str(exc)) from None
    return replace(pool, **found)  # type: ignore[arg-type]


def check_pool_settings(
    pool: Pool, pools: Iterable[Pool], hosts: Iterable[Host], maintenance: set[str] | None = None
) -> None:
    """Refuse pool settings that contradict themselves or that the fleet cannot reserve."""
    check_numbers(pool)
    if pool.cpu_limit_mhz and pool.cpu_reservation_mhz > pool.cpu_limit_mhz:
        raise Refused(
            f"Pool {pool.name}'s CPU reservation ({pool.cpu_reservation_mhz} MHz) "
            f"is above its limit ({pool.cpu_limit_mhz} MHz)."
        )
    if pool.memory_limit_mib and pool.memory_reservation_mib > pool.memory_limit_mib:
        raise Refused(
            f"Pool {pool.name}'s memory reservation ({pool.memory_reservation_mib} "
            f"MiB) is above its limit ({pool.memory_limit_mib} MiB)."
        )
    if (
        min(
            pool.cpu_reservation_mhz,
            pool.cpu_limit_mhz,
            pool.memory_reservation_mib,
            pool.memory_limit_mib,
        )
        < 0
        or pool.cpu_shares < 1
        or pool.memory_shares < 1
    ):
        raise Refused("Reservations and limits cannot be negative; shares are at least 1.")
    if pool.cpu_overcommit < 1 or pool.memory_overcommit < 1:
        raise Refused("Overcommit ratios are at least 1.")
    others = [p for p in pools if p.name != pool.name] + [pool]
    cpu, memory = fleet_capacity(hosts, maintenance or set())
    cpu_reserved = sum(p.cpu_reservation_mhz for p in others)
    memory_reserved = sum(p.memory_reservation_mib for p in others)
    if cpu_reserved > cpu:
        raise Refused(
            f"Pools would reserve {cpu_reserved} MHz of CPU; the fleet has {cpu:.0f} MHz."
        )
    if memory_reserved > memory:
        raise Refused(
            f"Pools would reserve {memory_reserved} MiB of memory; the fleet has {memory} MiB."
        )
