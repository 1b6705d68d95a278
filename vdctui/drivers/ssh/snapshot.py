"""One host's poll turned into the console's types: `Host` and its `Vm`s."""

from __future__ import annotations

from dataclasses import dataclass, field

from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.parsers import DomInfo, DomStats, NodeInfo
from vdctui.model import Host, HostState, Vm, VmState

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
    """An unreachable host keeps the facts last seen (0 when never seen)."""
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
        reason=reason,
    )


def datastore_of(path: str, pools: tuple[str, ...]) -> str:
    """The storage pool a disk lives in, when its directory is named after one."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[-2] in pools:
        return parts[-2]
    return ""


def vm_from_stats(
    stats: DomStats, host: str, pools: tuple[str, ...], info: DomInfo | None, cpu_util: float
) -> Vm:
    """A Vm from domstats, filled in from dominfo where domstats lacks figures."""
    state = stats.state
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
        cpu_util=cpu_util if state is VmState.RUNNING else 0.0,
    )


def host_from_node(
    inv: InventoryHost, node: NodeInfo, vms: dict[str, Vm], pools: tuple[str, ...]
) -> Host:
    active = [vm for vm in vms.values() if vm.state in ACTIVE]
    busy = sum(vm.cpu_util * vm.vcpus for vm in active)
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
        memory_mib=node.memory_mib,
        nic_gbps=inv.nic_gbps,
        reserved_cpus=inv.reserved_cpus,
        reserved_memory_mib=inv.reserved_memory_mib,
        datastores=pools,
        cpu_util=min(1.0, busy / node.cpus) if node.cpus else 0.0,
        memory_used_mib=sum(vm.memory_mib for vm in active),
        vm_count=len(vms),
    )
