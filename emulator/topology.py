"""The physical side: sites, rooms, racks, hosts, datastores and networks."""

from __future__ import annotations

from dataclasses import dataclass, field

HOST_UP = "up"
HOST_OFF = "off"
HOST_CRASHED = "crashed"
SHARED = "shared"
LOCAL = "local"


@dataclass(slots=True)
class Site:
    name: str

    PERSIST = ("name",)


@dataclass(slots=True)
class Room:
    name: str
    site: str

    PERSIST = ("name", "site")


@dataclass(slots=True)
class Rack:
    name: str
    room: str
    site: str
    power_budget_kw: float
    uplink_gbps: float
    uplink_factor: float = 1.0  # slow-link fault: the uplink runs at uplink_gbps × factor
    units: int = 42  # rack units (U) for hosts

    PERSIST = ("name", "room", "site", "power_budget_kw", "uplink_gbps", "uplink_factor", "units")


@dataclass(slots=True)
class Datastore:
    name: str
    kind: str  # "shared" | "local"
    capacity_gib: float
    room: str | None = None  # shared: the room whose racks reach it
    host: str | None = None  # local: the host that has it
    used_gib: float = 0.0  # derived from the VMs' disks

    PERSIST = ("name", "kind", "capacity_gib", "room", "host")

    @property
    def free_gib(self) -> float:
        return self.capacity_gib - self.used_gib


@dataclass(slots=True)
class Network:
    name: str
    vlan: int | None = None

    PERSIST = ("name", "vlan")


@dataclass(slots=True)
class Host:
    name: str
    rack: str
    room: str
    site: str
    model: str
    cores: int
    threads: int
    mhz: int
    memory_mib: int
    nic_gbps: float
    power_curve: tuple[float, ...]
    reserved_cpus: int = 0
    reserved_memory_mib: int = 0
    state: str = HOST_UP  # "up" | "off" | "crashed"
    partitioned: bool = False
    nic_factor: float = 1.0  # slow-link fault on the host's NIC
    # runtime figures, kept up to date by the fleet
    demand_mhz: float = 0.0
    power_watts: float = 0.0
    energy_j: float = 0.0  # energy up to `energy_since`
    energy_since: float = 0.0
    vm_names: dict[str, None] = field(default_factory=dict)  # ordered set of its VMs
    # the CPUs the host keeps for itself, as an operator named them (empty: the first whole
    # cores of node 0 covering reserved_cpus)
    reserved_named: tuple[int, ...] = ()

    PERSIST = (
        "name",
        "rack",
        "room",
        "site",
        "model",
        "cores",
        "threads",
        "mhz",
        "memory_mib",
        "nic_gbps",
        "power_curve",
        "reserved_cpus",
        "reserved_memory_mib",
        "state",
        "partitioned",
        "nic_factor",
        "reserved_named",
    )

    @property
    def cpus(self) -> int:
        """Logical CPUs the hypervisor sees."""
        return self.threads

    @property
    def usable_cpus(self) -> int:
        return max(self.threads - self.reserved_cpus, 0)

    @property
    def usable_memory_mib(self) -> int:
        return max(self.memory_mib - self.reserved_memory_mib, 0)

    @property
    def capacity_mhz(self) -> float:
        return float(self.threads * self.mhz)

    def energy_at(self, now: float) -> float:
        """Cumulative joules drawn up to `now`."""
        return self.energy_j + self.power_watts * (now - self.energy_since)
