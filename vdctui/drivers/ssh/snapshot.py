"""One host's poll turned into the console's types: `Host` and its `Vm`s."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from vdctui.drivers.bmc import BmcReading
from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.parsers import DomInfo, DomStats, NodeInfo, state_reason
from vdctui.model import Disk, Host, HostState, Nic, Vm, VmState

GIB = 1 << 30
ACTIVE = (VmState.RUNNING, VmState.PAUSED, VmState.SHUTTING_DOWN)


@dataclass
class CpuSample:
    """A domain's cumulative CPU time at a wall-clock moment (for utilization)."""

    cpu_ns: int
    at: float


@dataclass
class HostSnapshot:
    """What one poll of one host found (or why it could not)."""

    host: Host
    vms: dict[str, Vm] = field(default_factory=dict)
    pools: tuple[str, ...] = ()
    taken_at: float = 0.0

    @property
    def answered(self) -> bool:
        return self.host.state is HostState.UP


def unreachable_host(inv: InventoryHost, reason: str, last: Host | None = None) -> Host:
    """An unreachable host keeps the facts last seen (0 when never seen); what it does
    now (CPU, power) is unknown."""
    return Host(
        name=inv.name,
        state=HostState.UNREACHABLE,
        rack=inv.rack,
        room=inv.room,
        site=inv.site,
        model=last.model if last else inv.model,
        cpus=last.cpus if last else 0,
        cores=last.cores if last else 0,
        mhz=last.mhz if last else 0,
        memory_mib=last.memory_mib if last else 0,
        nic_gbps=inv.nic_gbps,
        reserved_cpus=inv.reserved_cpus,
        reserved_memory_mib=inv.reserved_memory_mib,
        datastores=last.datastores if last else (),
        cpu_util=None,
        power_watts=None,
        reason=reason,
    )


def datastore_of(path: str, pools: tuple[str, ...]) -> str:
    """The storage pool a disk lives in, when its directory is named after one."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[-2] in pools:
        return parts[-2]
    return ""


def disks_of(stats: DomStats) -> tuple[Disk, ...]:
    """`block.N.name`, `.path` and `.capacity` (capacity None when not reported)."""
    count = stats.get_int("block.count") or 0
    return tuple(
        Disk(
            stats.fields.get(f"block.{i}.name", ""),
            stats.fields.get(f"block.{i}.path", ""),
            stats.get_int(f"block.{i}.capacity"),
        )
        for i in range(count)
    )


def vm_from_stats(
    stats: DomStats,
    host: str,
    pools: tuple[str, ...],
    info: DomInfo | None,
    cpu_util: float | None,
    *,
    nics: tuple[Nic, ...] = (),
    persistent: bool | None = None,
    autostart: bool | None = None,
    uptime_s: float | None = None,
) -> Vm:
    """A Vm from domstats, filled in from dominfo where domstats lacks figures.

    What virsh does not report stays unknown: CPU % before two samples, memory
    used without `balloon.rss`, and uptime where the host's QEMU processes could not be
    read (libvirt does not tell it).
    """
    state = stats.state
    rss_kib = stats.get_int("balloon.rss")
    vcpus = stats.get_int("vcpu.current")
    max_vcpus = stats.get_int("vcpu.maximum")
    memory_kib = stats.get_int("balloon.current")
    max_memory_kib = stats.get_int("balloon.maximum")
    if info is not None:
        vcpus = vcpus if vcpus is not None else info.vcpus
        max_vcpus = max_vcpus if max_vcpus is not None else info.vcpus
        memory_kib = memory_kib if memory_kib is not None else info.memory_mib * 1024
        max_memory_kib = (
            max_memory_kib if max_memory_kib is not None else info.max_memory_mib * 1024
        )
    capacity = stats.get_int("block.0.capacity") or 0
    running = state is VmState.RUNNING
    return Vm(
        name=stats.name,
        state=state,
        host=host,
        vcpus=vcpus or 0,
        memory_mib=(memory_kib or 0) // 1024,
        max_vcpus=max(max_vcpus or 0, vcpus or 0),
        max_memory_mib=max((max_memory_kib or 0), (memory_kib or 0)) // 1024,
        disk_gib=capacity / GIB,
        datastore=datastore_of(stats.fields.get("block.0.path", ""), pools),
        uuid=info.uuid if info is not None else "",
        cpu_util=cpu_util if running else 0.0,
        uptime_s=uptime_s if state in ACTIVE else None,
        state_reason=state_reason(stats.get_int("state.state"), stats.get_int("state.reason")),
        memory_used_mib=rss_kib // 1024 if rss_kib is not None and state in ACTIVE else None,
        nics=nics,
        disks=disks_of(stats),
        persistent=persistent,
        autostart=autostart,
        network=next((n.source for n in nics if n.kind == "network"), ""),
    )


def host_from_node(
    inv: InventoryHost,
    node: NodeInfo,
    vms: dict[str, Vm],
    pools: tuple[str, ...],
    *,
    memory_mib: int | None = None,
) -> Host:
    """The host's facts (memory: `nodememstats` when given, else nodeinfo's), and its
    CPU % from its VMs' (unknown while any running VM's is; the reader replaces it with
    the host's own where the host gives nodecpustats). Power needs a BMC: None."""
    active = [vm for vm in vms.values() if vm.state in ACTIVE]
    utils = [vm.cpu_util for vm in active if vm.state is VmState.RUNNING]
    busy = None
    if all(u is not None for u in utils):
        busy = sum((vm.cpu_util or 0.0) * vm.vcpus for vm in active)
    return Host(
        name=inv.name,
        state=HostState.UP,
        rack=inv.rack,
        room=inv.room,
        site=inv.site,
        model=inv.model or node.model,
        cpus=node.cpus,
        cores=node.cores,
        mhz=node.mhz,
        memory_mib=memory_mib if memory_mib is not None else node.memory_mib,
        nic_gbps=inv.nic_gbps,
        reserved_cpus=inv.reserved_cpus,
        reserved_memory_mib=inv.reserved_memory_mib,
        datastores=pools,
        cpu_util=None if busy is None else min(1.0, busy / node.cpus) if node.cpus else 0.0,
        power_watts=None,
        memory_used_mib=sum(vm.memory_mib for vm in active),
        vm_count=len(vms),
    )


def with_bmc_reading(snapshot: HostSnapshot, reading: BmcReading | None) -> HostSnapshot:
    """The poll with what the host's BMC says: the watts it draws (None = not reported), and
    OFF for a host SSH cannot reach whose BMC reports its power Off (known down, as fenced)."""
    if reading is None:
        return snapshot
    host = replace(
        snapshot.host,
        power_watts=reading.watts,
        power_state=reading.power_state,
        health=reading.health,
    )
    if not snapshot.answered and reading.power_state == "Off":
        host = replace(
            host, state=HostState.OFF, reason=f"{host.reason} Its BMC reports the power Off."
        )
    return HostSnapshot(host, snapshot.vms, snapshot.pools, snapshot.taken_at)
