"""The console's domain types, spoken by every layer.

Frozen dataclasses (made by vdctui.frozen, for less at import) and enums only: no
I/O, no imports of textual, rich, SQLite or a driver. Sizes are in MiB (memory) and
GiB (disks); rates in bytes/s; times in seconds (floats, UNIX time for wall-clock
stamps).
"""

from __future__ import annotations

import enum
from dataclasses import field
from typing import Any

from vdctui.frozen import frozen


class HostState(enum.StrEnum):
    """What the driver sees of a host right now."""

    UP = "up"
    OFF = "off"  # powered off (fenced)
    CRASHED = "crashed"  # down, known dead (fenced)
    UNREACHABLE = "unreachable"  # may still run its VMs: not fenced


class VmState(enum.StrEnum):
    """libvirt's domain states, in the words `virsh domstate` prints."""

    SHUTOFF = "shut off"
    RUNNING = "running"
    PAUSED = "paused"
    SHUTTING_DOWN = "in shutdown"
    CRASHED = "crashed"

    @classmethod
    def parse(cls, text: str) -> VmState:
        """Accept the virsh wording and short forms (`shutoff`, `shutdown`)."""
        key = text.strip().lower().replace("_", " ").replace("-", " ")
        aliases = {
            "shutoff": cls.SHUTOFF,
            "off": cls.SHUTOFF,
            "stopped": cls.SHUTOFF,
            "shutdown": cls.SHUTTING_DOWN,
            "shutting down": cls.SHUTTING_DOWN,
            "suspended": cls.PAUSED,
        }
        if key in aliases:
            return aliases[key]
        for state in cls:
            if state.value == key:
                return state
        choices = ", ".join(s.name.lower() for s in cls)
        raise ValueError(f"unknown VM state {text!r} (one of: {choices})")


class Role(enum.StrEnum):
    VIEWER = "viewer"  # read-only
    OPERATOR = "operator"  # lifecycle, resize, migrate
    ADMIN = "admin"  # inventory, pools, faults

    def allows(self, needed: Role) -> bool:
        order = [Role.VIEWER, Role.OPERATOR, Role.ADMIN]
        return order.index(self) >= order.index(needed)


@frozen
class Operator:
    """An OS user's role in one data center, as an admin set it."""

    name: str
    role: Role
    set_by: str
    set_at: float


class TaskState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED)


class MigrationKind(enum.StrEnum):
    LIVE = "live"
    COLD = "cold"


class MigrationOutcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class DatastoreKind(enum.StrEnum):
    SHARED = "shared"  # SAN/NAS reached by every rack of a room
    LOCAL = "local"  # one host's own disks


# --- physical inventory -------------------------------------------------------


@frozen
class Site:
    name: str


@frozen
class Room:
    name: str
    site: str


@frozen
class Rack:
    name: str
    room: str
    site: str
    power_budget_kw: float
    uplink_gbps: float


@frozen
class RackTotals:
    """What a rack's hosts add up to, as last seen: its line in the inventory tree."""

    hosts: int = 0
    watts: float = 0.0  # drawn by the hosts whose draw is known
    no_reading: int = 0  # hosts whose draw is not known
    not_up: int = 0


@frozen
class Datastore:
    name: str
    kind: DatastoreKind
    capacity_gib: float
    room: str | None = None  # shared datastores: the room whose racks reach it
    host: str | None = None  # local datastores: the one host that has it


@frozen
class Network:
    name: str
    vlan: int | None = None


@frozen
class Topology:
    """Where everything physical is: the driver's answer to `topology()`."""

    sites: tuple[Site, ...] = ()
    rooms: tuple[Room, ...] = ()
    racks: tuple[Rack, ...] = ()
    datastores: tuple[Datastore, ...] = ()
    networks: tuple[Network, ...] = ()


@frozen
class Host:
    """One hypervisor host: its facts (from `nodeinfo`) and what it does now."""

    name: str
    state: HostState
    rack: str
    room: str
    site: str
    model: str
    cpus: int  # logical CPUs (threads) the hypervisor sees
    cores: int
    mhz: int
    memory_mib: int
    nic_gbps: float
    reserved_cpus: int = 0  # kept for the hypervisor itself
    reserved_memory_mib: int = 0
    datastores: tuple[str, ...] = ()  # datastores this host reaches
    # current figures (0 when the host is not up; None: the driver cannot read it)
    cpu_util: float | None = 0.0  # 0..1 of the host's CPUs
    memory_used_mib: int = 0
    power_watts: float | None = 0.0  # None without a BMC that says
    vm_count: int = 0
    reason: str = ""  # why a host is unreachable/down, in one sentence
    # what the host's BMC reports (Redfish PowerState "On"/"Off"/..., Status.Health
    # "OK"/"Warning"/"Critical"); None: no BMC, or it does not say
    power_state: str | None = None
    health: str | None = None

    @property
    def usable_cpus(self) -> int:
        return max(self.cpus - self.reserved_cpus, 0)

    @property
    def usable_memory_mib(self) -> int:
        return max(self.memory_mib - self.reserved_memory_mib, 0)


# --- virtual inventory ---------------------------------------------------------


@frozen
class Nic:
    """A VM's network interface, as `virsh domiflist` shows it."""

    name: str  # the host-side device ("vnet3"), "-" while the VM is off
    kind: str  # bridge | network | direct | user | ...
    source: str  # the bridge or network it is plugged into
    model: str = ""
    mac: str = ""


@frozen
class Disk:
    """A VM's disk, from `domstats` `block.N.*`."""

    name: str  # the guest device ("vda")
    path: str = ""
    capacity_bytes: int | None = None


@frozen
class VmSpec:
    """What it takes to define a VM: the input of `HostDriver.define`."""

    name: str
    vcpus: int
    memory_mib: int
    max_vcpus: int
    max_memory_mib: int
    disk_gib: float
    datastore: str
    network: str
    pool: str = ""
    workload: str = "constant:0.2"  # constant:U | walk:U | trace:NAME (emulator only)


@frozen
class Vm:
    """One VM as the driver reports it now (or as the store last saw it)."""

    name: str
    state: VmState
    host: str | None
    vcpus: int
    memory_mib: int
    max_vcpus: int
    max_memory_mib: int
    disk_gib: float = 0.0
    datastore: str = ""
    network: str = ""
    pool: str = ""
    uuid: str = ""
    cpu_util: float | None = 0.0  # 0..1 of its vCPUs; None: not measured yet
    memory_dirty_rate: float = 0.0  # bytes/s
    uptime_s: float | None = 0.0  # None: the hypervisor does not say
    state_reason: str = ""  # libvirt's reason, in virsh's words: "migrating", "booted"
    memory_used_mib: int | None = None  # what the guest holds on its host (balloon.rss)
    nics: tuple[Nic, ...] = ()
    disks: tuple[Disk, ...] = ()
    persistent: bool | None = None  # defined beyond this run (None: not known)
    autostart: bool | None = None


@frozen
class Flavor:
    name: str
    vcpus: int
    memory_mib: int
    disk_gib: float
    max_vcpus: int
    max_memory_mib: int
    cpu_policy: str = "shared"  # a CpuPolicy value
    cpu_threads: str = "prefer"  # a ThreadPolicy value (dedicated VMs only)
    cpu_numa: str = "one"  # a NumaPolicy value: may a dedicated VM spread over nodes


@frozen
class Pool:
    """A resource pool, vSphere-style. Zero means "none" for reservations and limits."""

    name: str
    cpu_reservation_mhz: int = 0
    cpu_limit_mhz: int = 0
    cpu_shares: int = 1000
    memory_reservation_mib: int = 0
    memory_limit_mib: int = 0
    memory_shares: int = 1000
    cpu_overcommit: float = 4.0
    memory_overcommit: float = 1.0
    description: str = ""


@frozen
class PoolUsage:
    pool: Pool
    vm_count: int
    running: int
    vcpus: int
    memory_mib: int


# --- work and history ----------------------------------------------------------


@frozen
class MigrationProgress:
    """One sample of a migration, in `virsh domjobinfo --rawstats` field names."""

    time_elapsed: int = 0  # ms
    data_total: int = 0  # bytes
    data_processed: int = 0
    data_remaining: int = 0
    memory_bps: float = 0.0  # bytes/s
    memory_dirty_rate: float = 0.0  # pages/s, like libvirt
    memory_iteration: int = 0
    downtime: int = 0  # ms, expected until done then actual
    phase: str = "setup"  # setup | precopy | stop-and-copy | copy-storage | cold | done
    target_state: str = ""  # the copy on the target, as `virsh domstate --reason` says it

    @property
    def percent(self) -> float:
        """How far the current pass is, as virsh shows it: (total - remaining) / total
        (zero pages cost nothing to send, so bytes processed lag far behind)."""
        if self.data_total <= 0 or self.phase == "setup":
            return 0.0
        done = self.data_total - self.data_remaining
        return max(0.0, min(100.0, 100.0 * done / self.data_total))


@frozen
class MigrationResult:
    vm: str
    source: str
    target: str
    kind: MigrationKind
    outcome: MigrationOutcome
    started: float
    ended: float
    data_processed: int = 0
    rounds: int = 0
    downtime_ms: int = 0
    reason: str = ""


@frozen
class MigrationRecord:
    """A row of the migration history."""

    id: int
    vm: str
    source: str
    target: str
    kind: MigrationKind
    started: float
    ended: float | None
    data_bytes: int
    rounds: int
    downtime_ms: int
    outcome: MigrationOutcome | None
    reason: str
    actor: str
    task_id: int | None = None


@frozen
class Task:
    id: int
    kind: str  # "migrate", "create", "start", ...
    target: str
    state: TaskState
    progress: float  # 0..100
    actor: str
    created: float
    started: float | None = None
    ended: float | None = None
    error: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@frozen
class AuditRecord:
    id: int
    ts: float
    actor: str
    role: Role
    action: str
    target: str
    params: dict[str, Any]
    result: str  # "ok" | "refused" | "failed"
    error: str
    prev_hash: str
    hash: str


@frozen
class AuditProblem:
    """One place where the audit chain does not hold."""

    record_id: int
    problem: str  # one sentence: "row 17 was edited", "row 18 is missing", ...


@frozen
class AuditSeal:
    """The audit log's active seal, as `audit seal status` shows it (no key material)."""

    seal_id: str
    started: float
    epoch_s: float
    epoch: int  # the current epoch: records of earlier ones can no longer be re-sealed
    first_id: int | None  # the first record it seals (None if its history row is gone)


@frozen
class AuditCheck:
    """What `audit verify` found: where the log does not hold, and what was checked."""

    records: int
    head_hash: str  # the last record's hash: an auditor can note it and compare later
    problems: list[AuditProblem]
    notes: list[str]  # what was and was not checked, one sentence each
    seal_checked: bool  # whether every seal was checked with the auditor's key


@frozen
class FleetEvent:
    """Something that happened in the fleet or that reconcile noticed."""

    ts: float
    kind: str  # e.g. "vm.state", "host.state", "drift.vm-appeared", "migration.done"
    host: str | None = None
    vm: str | None = None
    message: str = ""
    part_of: int | None = None  # the task (a balance, an evacuation) it is a step of


@frozen
class Sighting:
    """When a host or VM was last seen answering, and whether the last refresh missed it
    (its figures and state are then as last seen: stale, not current)."""

    seen_at: float | None  # wall clock; None: never seen
    stale: bool


# --- application delivery (services behind a load balancer: the ADC) ------------------


class MemberState(enum.StrEnum):
    """A member as the operator sees it: taking traffic, draining (no new sessions),
    in maintenance (no traffic at all), or down (its health check fails)."""

    UP = "up"
    DRAIN = "drain"
    MAINT = "maint"
    DOWN = "down"


BALANCING_METHODS = ("roundrobin", "leastconn")
HEALTH_CHECKS = ("tcp", "http", "agent", "none")


@frozen
class ServiceMember:
    vm: str
    port: int
    weight: int = 100  # 0..256, as HAProxy counts it


@frozen
class Service:
    """A virtual IP and port, a balancing method, a health check, and members."""

    name: str
    vip: str
    port: int
    method: str = "roundrobin"
    check: str = "tcp"
    members: tuple[ServiceMember, ...] = ()


@frozen
class MemberStatus:
    """What the ADC says of one member now (None: it does not say)."""

    vm: str
    port: int
    weight: int
    state: MemberState
    healthy: bool | None
    sessions: int | None
    req_s: float | None


@frozen
class ServiceStatus:
    service: Service
    members: tuple[MemberStatus, ...]
    req_s: float | None
    error_rate: float | None  # failed requests as a share of requests, recently
    failed: int | None  # failed requests since the ADC started counting


@frozen
class Snapshot:
    """One snapshot of a VM, as `virsh snapshot-dumpxml` describes it (vdctui.ops.snapshots)."""

    name: str
    vm: str
    parent: str | None  # None: a root of the VM's snapshot tree
    created: float | None  # wall clock (UNIX time); None: the hypervisor does not say
    vm_state: str  # the VM's state when taken: "running", "shutoff", "paused", "disk-snapshot"
    memory: bool  # holds the VM's memory: reverting brings a running VM back running
    current: bool = False  # the VM's current snapshot (what its disk diverges from)
    description: str = ""
    size_bytes: int | None = None  # space it holds on the datastore; None: not known
    datastore: str = ""


# --- dedicated cores -------------------------------------------------------------


class CpuPolicy(enum.StrEnum):
    """How a VM's vCPUs use the host's cores (OpenStack's `hw:cpu_policy`)."""

    SHARED = "shared"  # floating over the host's shared cores, overcommitted
    DEDICATED = "dedicated"  # each vCPU pinned to a logical CPU of its own


class ThreadPolicy(enum.StrEnum):
    """What a dedicated VM does with the sibling threads of its cores."""

    PREFER = "prefer"  # vCPUs may sit on sibling threads of one core
    ISOLATE = "isolate"  # one vCPU per physical core, its siblings left to no one


class NumaPolicy(enum.StrEnum):
    """Whether a dedicated VM may spread over NUMA nodes (OpenStack's `hw:numa_nodes`)."""

    ONE = "one"  # its vCPUs and memory in one NUMA node, else refused
    SPREAD = "spread"  # in one node when it fits, else over several (memory bound to them)


@frozen
class NumaNode:
    """One NUMA node: its physical cores (each the logical CPUs of its threads)."""

    id: int
    cores: tuple[tuple[int, ...], ...]
    memory_mib: int | None = None  # None: the host does not say

    @property
    def cpus(self) -> tuple[int, ...]:
        return tuple(cpu for core in self.cores for cpu in core)


@frozen
class CpuTopology:
    """A host's NUMA nodes, cores and threads, and the logical CPUs it keeps for itself
    (its partition: named CPUs, not a count)."""

    host: str
    nodes: tuple[NumaNode, ...]
    reserved: tuple[int, ...] = ()
    source: str = ""  # where it was read: "emulator host model", "virsh capabilities"

    @property
    def cpus(self) -> tuple[int, ...]:
        return tuple(cpu for node in self.nodes for cpu in node.cpus)

    def node_of(self, cpu: int) -> int | None:
        """The NUMA node (its index) holding logical CPU `cpu`; None if none does."""
        for i, node in enumerate(self.nodes):
            if any(cpu in core for core in node.cores):
                return i
        return None


@frozen
class CpuContention:
    """A host's CPUs as its VMs compete for them: reserved for the host, dedicated to
    pinned VMs (never waited for), and the shared pool the other VMs want `wanted_cpus`
    of; each running VM's steal (CPU ready): the share of its vCPUs' time it waits."""

    host: str
    reserved_cpus: int
    dedicated_cpus: int
    shared_cpus: int
    wanted_cpus: float
    steal: dict[str, float]


@frozen
class VmCpus:
    """A VM's CPU policy and, when dedicated, where its vCPUs are pinned on its host."""

    vm: str
    policy: CpuPolicy
    threads: ThreadPolicy = ThreadPolicy.PREFER
    host: str | None = None
    vcpu_pins: tuple[int, ...] = ()  # vCPU i runs on logical CPU vcpu_pins[i]
    emulator_pins: tuple[int, ...] = ()  # QEMU's own threads (the host's reserved CPUs)
    node: int | None = None  # the NUMA node holding its vCPUs and memory (None: spread)
    memory_mib: int = 0  # bound to `node` (numatune strict)
    taken: tuple[int, ...] = ()  # every logical CPU it holds (isolate: idle siblings too)
    numa: NumaPolicy = NumaPolicy.ONE  # spread over NUMA nodes only when allowed

    @property
    def dedicated(self) -> bool:
        return self.policy is CpuPolicy.DEDICATED


@frozen
class CpuPins:
    """What a VM's definition says of its CPUs and memory on a host: each vCPU's allowed
    CPUs, QEMU's own threads' and the NUMA nodes its memory is bound to (libvirt's
    `<cputune>` and `<numatune>`; empty: not said)."""

    vcpus: tuple[tuple[int, ...], ...]
    emulator: tuple[int, ...] = ()
    memory_nodes: tuple[int, ...] = ()


@frozen
class PinDrift:
    """A VM whose pins on its host are not what the console holds for it: a dedicated
    VM's vCPU, emulator or memory elsewhere, or a shared VM that may run on a dedicated or
    reserved CPU. `repaired`: pinned again as held."""

    vm: str
    host: str
    what: str  # one clause, e.g. "vCPU 1 may run on CPUs 0-31, not 5 alone"
    repaired: bool = False


# --- isolation: security groups ------------------------------------------------------


@frozen
class SecurityRule:
    """One allow rule of a security group: traffic in a direction, protocol and port range,
    from/to a CIDR or the members of a group (everything else is dropped)."""

    id: int
    group: str
    direction: str  # "ingress" | "egress"
    protocol: str  # "tcp" | "udp" | "icmp" | "any"
    port_min: int | None = None  # None: every port
    port_max: int | None = None
    remote_cidr: str | None = None  # e.g. "0.0.0.0/0"
    remote_group: str | None = None

    def describe(self) -> str:
        ports = "" if self.port_min is None else f" port {self.port_min}"
        if self.port_max is not None and self.port_max != self.port_min:
            ports = f" ports {self.port_min}-{self.port_max}"
        remote = self.remote_cidr or f"group {self.remote_group}"
        way = "from" if self.direction == "ingress" else "to"
        return f"{self.direction} {self.protocol}{ports} {way} {remote}"


@frozen
class SecurityGroup:
    name: str
    description: str = ""
    rules: tuple[SecurityRule, ...] = ()
    members: tuple[str, ...] = ()


@frozen
class FirewallRule:
    """A security rule as a hypervisor applies it: remote groups expanded to their VMs."""

    rule_id: int
    group: str
    direction: str
    protocol: str
    port_min: int | None
    port_max: int | None
    remote_cidr: str | None
    remote_vms: tuple[str, ...] = ()


@frozen
class VmFirewall:
    """What a VM's interface lets through: nothing is filtered without groups; with
    groups, only what a rule allows (a group without rules: nothing)."""

    vm: str
    groups: tuple[str, ...]
    rules: tuple[FirewallRule, ...]


@frozen
class FlowCounts:
    """Flows the hypervisor let through or dropped, per VM and per rule."""

    allowed: dict[str, int]
    dropped: dict[str, int]
    by_rule: dict[int, int]  # flows each rule let through


@frozen
class FlowRecord:
    ts: float
    src: str  # an address
    dst: str
    protocol: str
    port: int
    count: int  # connection attempts in this record
    allowed: bool
    src_vm: str | None = None
    dst_vm: str | None = None
    state: str = "new"  # "established": replies within a connection let open before


@frozen
class Alert:
    id: int
    ts: float
    kind: str  # "port-scan" | "brute-force" | "internal-sweep"
    source: str  # the address the attack came from
    vm: str | None  # the VM attacked, or the VM the attack came from (a sweep)
    detail: str
    state: str  # "open" | "quarantined"


@frozen
class MigrationOptions:
    """How a live migration moves a VM, in libvirt's terms (vdctui.ops.preflight says
    what each one does, and which ones a driver refuses)."""

    copy_storage: str = ""  # "" (shared storage) | "full" | "incremental"
    compressed: bool = False
    auto_converge: bool = False
    postcopy: bool = False  # switch to post-copy when pre-copy does not converge
    bandwidth_mib_s: int | None = None  # None: as fast as the link goes
    max_downtime_ms: int | None = None  # None: the hypervisor's default (300 ms)
    tunnelled: bool = False  # through libvirtd's own connection instead of a direct one


@frozen
class HostNetworks:
    """What a VM's NICs can plug into on a host: libvirt's active networks and its
    interfaces (bridges among them); None where the host cannot say."""

    networks: frozenset[str]
    interfaces: frozenset[str] | None = None


@frozen
class CpuComparison:
    """Whether a target's hypervisor can run a VM's CPU, as libvirt compared them."""

    compatible: bool
    detail: str  # "identical" | "superset" | libvirt's reason it is not


@frozen
class DuplicateDefinition:
    """A VM defined on more than one host (another tool's migration can leave a shut-off
    copy behind): every host that has it, with the state of its copy there."""

    vm: str
    copies: tuple[tuple[str, VmState], ...]  # (host, state of the copy on it)
