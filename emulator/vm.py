"""A VM as the emulator keeps it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .workload import Workload

SHUT_OFF = "shut off"
RUNNING = "running"
PAUSED = "paused"
IN_SHUTDOWN = "in shutdown"
CRASHED = "crashed"
VM_STATES = (SHUT_OFF, RUNNING, PAUSED, IN_SHUTDOWN, CRASHED)
ACTIVE_STATES = frozenset((RUNNING, PAUSED, IN_SHUTDOWN))  # hold memory on their host


@dataclass(slots=True)
class Vm:
    name: str
    uuid: str
    host: str
    vcpus: int
    memory_mib: int
    max_vcpus: int
    max_memory_mib: int
    disk_gib: float
    datastore: str
    network: str
    pool: str = ""
    workload: str = "constant:0.2"
    dirty_rate: float = 0.0  # bytes/s of memory written (at 100 % CPU if it scales)
    dirty_scales_with_cpu: bool = False
    state: str = SHUT_OFF
    started_at: float | None = None
    shutdown_at: float | None = None  # when an "in shutdown" VM reaches "shut off"
    # Its own capacity in MHz (MIPS), when set: its workload's level is a share of it, so
    # its demand (level x mips) stays whatever host it runs on, and the guest's CPU
    # utilization is that demand over its vCPUs on its host's cores. 0: the level is the
    # share of its vCPUs it keeps busy (its demand scales with its host's MHz).
    mips: float = 0.0
    # runtime, not persisted
    cpu_util: float = 0.0  # share of its vCPUs busy on its host's cores
    level: float = 0.0  # its workload's level (cpu_util, unless it has its own mips)
    wl: Workload = field(default_factory=lambda: Workload("constant", 0.2))
    rng: int = 0
    gen: int = 0  # bumps on every start/stop so stale workload updates are dropped
    trace_offset: float = 0.0
    # its QEMU's migration max downtime (`migrate-setmaxdowntime`), None: the default; a
    # setting of the running process, gone when the VM stops or leaves for another host
    max_downtime_ms: int | None = None

    PERSIST = (
        "name",
        "uuid",
        "host",
        "vcpus",
        "memory_mib",
        "max_vcpus",
        "max_memory_mib",
        "disk_gib",
        "datastore",
        "network",
        "pool",
        "workload",
        "dirty_rate",
        "dirty_scales_with_cpu",
        "state",
        "started_at",
        "shutdown_at",
        "mips",
    )

    @property
    def effective_dirty_rate(self) -> float:
        """Bytes/s the guest dirties right now (0 unless running)."""
        if self.state != RUNNING:
            return 0.0
        if self.dirty_scales_with_cpu:
            return self.dirty_rate * self.cpu_util
        return self.dirty_rate
