"""The fleet's state and bookkeeping: inventory, events, host figures, the clock.

`Fleet` (fleet.py) adds the operations on top of this base in mixins.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass
from typing import Any

from .errors import HostUnreachable, InvalidOperation, NoSuchHost, NoSuchVm
from .feed import ChangeFeed
from .migration import Migration
from .power import power_at
from .topology import HOST_UP, Datastore, Host, Network, Rack, Room, Site
from .vm import ACTIVE_STATES, RUNNING, Vm
from .workload import Trace

EVENT_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class Event:
    seq: int
    ts: float
    kind: str  # "vm.state", "host.state", "migration.start", "migration.done", "fault.*", ...
    host: str | None
    vm: str | None
    message: str


@dataclass(frozen=True, slots=True)
class HostStats:
    cpu_util: float  # 0..1 of the host's logical CPUs
    memory_used_mib: int
    power_watts: float
    energy_j: float
    vms: int
    running: int


class FleetState:
    """Inventory and bookkeeping shared by every part of the fleet."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.now = 0.0
        self.max_substep = 1.0  # seconds: step() slices while migrations/shutdowns run
        self.max_quiet_substep = 60.0  # seconds: slices otherwise (a walk moves once per slice)
        self.sites: dict[str, Site] = {}
        self.rooms: dict[str, Room] = {}
        self.racks: dict[str, Rack] = {}
        self.hosts: dict[str, Host] = {}
        self.datastores: dict[str, Datastore] = {}
        self.networks: dict[str, Network] = {}
        self.vms: dict[str, Vm] = {}
        self.traces: dict[str, Trace] = {}
        self.migrations: dict[str, Migration] = {}  # running, by VM name
        self.finished_migrations: deque[Migration] = deque(maxlen=1000)
        self.migrations_completed = 0
        self.migrations_failed = 0
        self.host_failures = 0
        self.fail_next: dict[str, str] = {}  # VM name ("" = any VM) -> reason
        # VM -> the fenced host it was defined again from (HA), until it starts: undefining
        # it before then leaves it there, as that host's own definition of it would
        self.rehomed_from: dict[str, str] = {}
        self.file: Any = None  # a FleetFile once the fleet is backed by one
        self._next_migration_id = 1
        self._events: deque[Event] = deque(maxlen=EVENT_LIMIT)
        self._event_seq = 0
        self._room_shared: dict[str, list[str]] = {}
        self._host_local: dict[str, str] = {}
        self._due: list[tuple[float, int, str, int]] = []  # workload updates
        self._due_seq = 0
        self._shutdowns: list[tuple[float, int, str, int]] = []
        self._total_power = 0.0
        self._energy_j = 0.0
        self._energy_since = 0.0
        self._quiet = False  # no events while building
        # persistence: what changed since the last save
        self._dirty: set[tuple[str, str]] = set()
        self._deleted: set[tuple[str, str]] = set()
        self._all_dirty = True
        self.feed = ChangeFeed()  # which objects changed since a version (emulator.feed)

    # --- lookups -------------------------------------------------------------

    def host(self, name: str) -> Host:
        try:
            return self.hosts[name]
        except KeyError:
            raise NoSuchHost(f"There is no host named {name!r}.") from None

    def vm(self, name: str) -> Vm:
        try:
            return self.vms[name]
        except KeyError:
            raise NoSuchVm(f"There is no VM named {name!r}.") from None

    def check_reachable(self, host: str) -> Host:
        """Return the host if management calls can reach it, else raise HostUnreachable."""
        h = self.host(host)
        if h.state != HOST_UP:
            word = "powered off" if h.state == "off" else "crashed"
            raise HostUnreachable(f"Host {host} is unreachable: it is {word}.")
        if h.partitioned:
            raise HostUnreachable(f"Host {host} is unreachable: a network partition cuts it off.")
        return h

    def host_datastores(self, host: str) -> list[str]:
        """Datastores the host reaches: the shared ones of its room and its local one."""
        h = self.host(host)
        found = list(self._room_shared.get(h.room, ()))
        local = self._host_local.get(host)
        if local:
            found.append(local)
        return found

    def vms_on(self, host: str) -> list[Vm]:
        h = self.host(host)
        return [self.vms[n] for n in h.vm_names]

    def memory_used_mib(self, host: str) -> int:
        """Memory held by the host's active VMs plus migrations coming in."""
        h = self.host(host)
        used = sum(self.vms[n].memory_mib for n in h.vm_names if self.vms[n].state in ACTIVE_STATES)
        for m in self.migrations.values():
            if m.target == host and m.live:
                used += self.vms[m.vm].memory_mib
        return used

    def memory_free_mib(self, host: str) -> int:
        h = self.host(host)
        return h.usable_memory_mib - self.memory_used_mib(host)

    def host_stats(self, host: str) -> HostStats:
        h = self.host(host)
        vms = [self.vms[n] for n in h.vm_names]
        used = sum(v.memory_mib for v in vms if v.state in ACTIVE_STATES)
        return HostStats(
            cpu_util=self._host_util(h),
            memory_used_mib=used if h.state == HOST_UP else 0,
            power_watts=h.power_watts,
            energy_j=h.energy_at(self.now),
            vms=len(vms),
            running=sum(1 for v in vms if v.state == RUNNING),
        )

    # --- hooks for what moves with a VM (emulator.cores: pins) -------------------

    def _arriving(self, vm: str, target: str, pins: Any) -> None:
        """Check (and remember) the definition a migration carries to `target`."""

    def _arrived(self, vm: str, moved: bool) -> None:
        """A migration ended: `moved` (on its target now) or not (on its source)."""

    # --- events --------------------------------------------------------------

    def emit(self, kind: str, message: str, host: str | None = None, vm: str | None = None) -> None:
        if self._quiet:
            return
        self._event_seq += 1
        self._events.append(Event(self._event_seq, self.now, kind, host, vm, message))

    def events_since(self, seq: int = 0) -> list[Event]:
        """Events newer than `seq` (the oldest are dropped past 10,000)."""
        if not self._events or seq >= self._event_seq:
            return []
        first = self._events[0].seq
        start = max(seq + 1 - first, 0)
        return [self._events[i] for i in range(start, len(self._events))]

    @property
    def last_event_seq(self) -> int:
        return self._event_seq

    # --- dirty tracking --------------------------------------------------------

    def touch(self, kind: str, name: str) -> None:
        self._dirty.add((kind, name))
        self._deleted.discard((kind, name))
        self.feed.record(kind, name)

    def forget(self, kind: str, name: str) -> None:
        self._dirty.discard((kind, name))
        self._deleted.add((kind, name))
        self.feed.record(kind, name, gone=True)

    # --- host figures ------------------------------------------------------------

    def _host_util(self, h: Host) -> float:
        if h.state != HOST_UP:
            return 0.0
        util = h.demand_mhz / h.capacity_mhz
        return 1.0 if util > 1.0 else max(util, 0.0)

    def refresh_host(self, h: Host) -> None:
        """Recompute a host's CPU demand and power from its VMs."""
        demand = 0.0
        if h.state == HOST_UP:
            vms = self.vms
            for n in h.vm_names:
                v = vms[n]
                if v.state == RUNNING:
                    if v.mips:  # its demand is its own: what its vCPUs see depends on h
                        v.cpu_util = self.util_of(v, v.level, h)
                    demand += v.vcpus * v.cpu_util
        h.demand_mhz = demand * h.mhz
        self._set_power(h)

    def _set_power(self, h: Host) -> None:
        p = power_at(h.power_curve, self._host_util(h)) if h.state == HOST_UP else 0.0
        old = h.power_watts
        if p == old:
            return
        now = self.now
        h.energy_j += old * (now - h.energy_since)
        h.energy_since = now
        h.power_watts = p
        self._energy_j += self._total_power * (now - self._energy_since)
        self._energy_since = now
        self._total_power += p - old

    @property
    def energy_j(self) -> float:
        return self._energy_j + self._total_power * (self.now - self._energy_since)

    @property
    def power_watts(self) -> float:
        return self._total_power

    def util_of(self, v: Vm, level: float, h: Host | None = None) -> float:
        """The share of its vCPUs a running VM keeps busy at its workload's `level`: the
        level itself, or for a VM with its own capacity (mips) its demand (level x mips)
        over its vCPUs on its host's cores, at most all of them."""
        if not v.mips:
            return level
        h = h or self.hosts[v.host]
        util = level * v.mips / (max(v.vcpus, 1) * h.mhz)
        return 1.0 if util > 1.0 else util

    def set_vm_level(self, v: Vm, level: float) -> None:
        """Set a running VM's workload level, and so its utilization."""
        v.level = level
        self.set_vm_util(v, self.util_of(v, level))

    def set_vm_util(self, v: Vm, util: float) -> None:
        """Change a running VM's utilization and its host's demand incrementally."""
        old = v.cpu_util
        if util == old:
            return
        v.cpu_util = util
        h = self.hosts[v.host]
        h.demand_mhz += v.vcpus * h.mhz * (util - old)
        self._set_power(h)

    # --- scheduling ----------------------------------------------------------------

    def schedule_update(self, v: Vm, at: float) -> None:
        self._due_seq += 1
        heapq.heappush(self._due, (at, self._due_seq, v.name, v.gen))

    def schedule_shutdown(self, v: Vm, at: float) -> None:
        self._due_seq += 1
        v.shutdown_at = at
        heapq.heappush(self._shutdowns, (at, self._due_seq, v.name, v.gen))

    def refuse(self, message: str) -> InvalidOperation:
        return InvalidOperation(message)
