"""The fleet: inventory building, the virtual clock and the summary."""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from typing import Any

from .contention import ContentionOps
from .flows import FlowOps
from .power import check_curve
from .services import ServiceOps
from .snapshots import SnapshotOps
from .topology import HOST_UP, LOCAL, SHARED, Datastore, Host, Network, Rack, Room, Site
from .vm import IN_SHUTDOWN, RUNNING, SHUT_OFF
from .workload import WALK_PERIOD_S, Trace, make_trace, next_random, walk_next


class Fleet(SnapshotOps, ServiceOps, ContentionOps, FlowOps):
    """A simulated data center advanced by a virtual clock (`step`)."""

    # --- inventory ---------------------------------------------------------------

    def _new(self, table: dict[str, Any], name: str, what: str) -> None:
        if not name:
            raise self.refuse(f"A {what} needs a name.")
        if name in table:
            raise self.refuse(f"A {what} named {name} already exists.")

    def _need(self, table: dict[str, Any], name: str, what: str) -> None:
        if name not in table:
            raise self.refuse(f"There is no {what} named {name!r}.")

    def add_site(self, name: str) -> Site:
        self._new(self.sites, name, "site")
        self.sites[name] = s = Site(name)
        self.touch("site", name)
        return s

    def add_room(self, name: str, site: str) -> Room:
        self._new(self.rooms, name, "room")
        self._need(self.sites, site, "site")
        self.rooms[name] = r = Room(name, site)
        self.touch("room", name)
        return r

    def add_rack(
        self, name: str, room: str, *, power_budget_kw: float = 15.0, uplink_gbps: float = 100.0
    ) -> Rack:
        self._new(self.racks, name, "rack")
        self._need(self.rooms, room, "room")
        r = Rack(name, room, self.rooms[room].site, float(power_budget_kw), float(uplink_gbps))
        self.racks[name] = r
        self.touch("rack", name)
        return r

    def add_host(
        self,
        name: str,
        rack: str,
        *,
        model: str = "generic",
        cores: int = 32,
        threads: int = 64,
        mhz: int = 2900,
        memory_mib: int = 262144,
        nic_gbps: float = 25.0,
        power_curve: Sequence[float] = (120, 170, 196, 220, 246, 272, 300, 331, 365, 405, 452),
        reserved_cpus: int = 2,
        reserved_memory_mib: int = 8192,
        local_datastore_gib: float = 0.0,
    ) -> Host:
        """Add a host (up, idle) to a rack, with an optional local datastore `local-<name>`."""
        self._new(self.hosts, name, "host")
        self._need(self.racks, rack, "rack")
        if min(cores, threads, mhz, memory_mib) <= 0 or nic_gbps <= 0:
            raise self.refuse(f"Host {name} needs positive cores, threads, MHz, memory and NIC.")
        r = self.racks[rack]
        h = Host(
            name,
            rack,
            r.room,
            r.site,
            model,
            cores,
            threads,
            mhz,
            memory_mib,
            float(nic_gbps),
            check_curve(power_curve),
            reserved_cpus,
            reserved_memory_mib,
        )
        self._attach_host(h)
        if local_datastore_gib > 0:
            self.add_datastore(f"local-{name}", LOCAL, local_datastore_gib, host=name)
        return h

    def _attach_host(self, h: Host) -> None:
        h.energy_since = self.now
        self.hosts[h.name] = h
        self.refresh_host(h)
        self.touch("host", h.name)

    def add_datastore(
        self,
        name: str,
        kind: str,
        capacity_gib: float,
        *,
        room: str | None = None,
        host: str | None = None,
    ) -> Datastore:
        """A shared datastore belongs to a room (all its racks reach it); a local one to a host."""
        self._new(self.datastores, name, "datastore")
        if kind == SHARED:
            self._need(self.rooms, room or "", "room")
            host = None
        elif kind == LOCAL:
            self._need(self.hosts, host or "", "host")
            room = None
        else:
            raise self.refuse(f"Datastore kind must be 'shared' or 'local', not {kind!r}.")
        ds = Datastore(name, kind, float(capacity_gib), room, host)
        self._attach_datastore(ds)
        return ds

    def _attach_datastore(self, ds: Datastore) -> None:
        self.datastores[ds.name] = ds
        if ds.kind == SHARED and ds.room:
            self._room_shared.setdefault(ds.room, []).append(ds.name)
        elif ds.host:
            self._host_local[ds.host] = ds.name
        self.touch("datastore", ds.name)

    def add_network(self, name: str, vlan: int | None = None) -> Network:
        self._new(self.networks, name, "network")
        self.networks[name] = n = Network(name, vlan)
        self.touch("network", name)
        return n

    def add_trace(
        self, name: str, values: Sequence[float], interval_s: float, *, aligned: bool = False
    ) -> Trace:
        """Register a utilization trace (values 0..1, one every `interval_s` seconds;
        `aligned`: played at the clock's time of day on every VM, see `Trace`)."""
        t = make_trace(name, tuple(values), interval_s, aligned)
        self.traces[name] = t
        self.touch("trace", name)
        return t

    # --- the clock -------------------------------------------------------------------

    def step(self, dt: float = 1.0) -> None:
        """Advance everything by `dt` virtual seconds, in slices of at most `max_substep`."""
        if dt < 0 or math.isnan(dt):
            raise self.refuse(f"Time only moves forward; cannot step by {dt}.")
        end = self.now + dt
        while self.now < end:
            chunk = end - self.now
            limit = self._slice_limit()
            if chunk > limit:
                chunk = limit
                self.now += chunk
            else:
                self.now = end
            if self.migrations:
                self.advance_migrations(chunk)
            if self._current_snapshot:
                self.advance_snapshots(chunk)
            self._run_due()
            if self._shutdowns and self._shutdowns[0][0] <= self.now:
                self._run_shutdowns()
            if self.services:
                self.advance_services(chunk)

    def _slice_limit(self) -> float:
        """Fine slices while migrations or shutdowns are pending, coarse ones when quiet."""
        if self.migrations:
            return self.max_substep
        limit = self.max_quiet_substep
        if self._shutdowns:
            limit = min(limit, max(self._shutdowns[0][0] - self.now, self.max_substep))
        return limit

    def _run_due(self) -> None:
        due = self._due
        now = self.now
        vms = self.vms
        traces = self.traces
        pop = heapq.heappop
        push = heapq.heappush
        while due and due[0][0] <= now:
            at, _, name, gen = pop(due)
            v = vms.get(name)
            if v is None or v.gen != gen or v.state != RUNNING:
                continue
            wl = v.wl
            if wl.kind == "walk":
                v.rng, u = next_random(v.rng)
                level = walk_next(v.level if v.mips else v.cpu_util, wl.level, wl.step, u)
                nxt = at + WALK_PERIOD_S
                if nxt <= now:
                    nxt = now + WALK_PERIOD_S
            else:
                t = traces[wl.trace]
                pos = (now + v.trace_offset) / t.interval_s
                level = t.values[int(pos) % len(t.values)]
                nxt = (math.floor(pos) + 1) * t.interval_s - v.trace_offset
            if v.mips:
                self.set_vm_level(v, level)
            elif level != v.cpu_util:
                self.set_vm_util(v, level)
            self._due_seq += 1
            push(due, (nxt, self._due_seq, name, gen))

    def _run_shutdowns(self) -> None:
        while self._shutdowns and self._shutdowns[0][0] <= self.now:
            _, _, name, gen = heapq.heappop(self._shutdowns)
            v = self.vms.get(name)
            if v is None or v.gen != gen or v.state != IN_SHUTDOWN:
                continue
            self._power_down(v, SHUT_OFF, "guest shut down")

    def restore_runtime(self) -> None:
        """After loading: rebuild workloads, pending shutdowns and host figures."""
        for v in self.vms.values():
            if v.state == RUNNING:
                self._start_workload(v)
            elif v.state == IN_SHUTDOWN:
                v.gen += 1
                self.schedule_shutdown(v, v.shutdown_at if v.shutdown_at is not None else self.now)
        for h in self.hosts.values():
            self.refresh_host(h)
        self.restore_services()

    # --- summary ---------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        running = sum(1 for v in self.vms.values() if v.state == RUNNING)
        return {
            "hosts": len(self.hosts),
            "hosts_up": sum(1 for h in self.hosts.values() if h.state == HOST_UP),
            "vms": len(self.vms),
            "running": running,
            "migrations_running": len(self.migrations),
            "migrations_completed": self.migrations_completed,
            "migrations_failed": self.migrations_failed,
            "host_failures": self.host_failures,
            "power_watts": round(self.power_watts, 3),
            "energy_kwh": self.energy_j / 3.6e6,
            "virtual_seconds": self.now,
        }

    def snapshot(self) -> dict[str, Any]:
        """Everything observable, for comparing two fleets (determinism tests)."""
        return {
            "now": self.now,
            "hosts": {
                n: (h.state, h.partitioned, h.power_watts, h.energy_at(self.now))
                for n, h in self.hosts.items()
            },
            "vms": {
                n: (v.host, v.state, v.vcpus, v.memory_mib, v.datastore, v.cpu_util)
                for n, v in self.vms.items()
            },
            "migrations": {n: m.jobinfo() for n, m in self.migrations.items()},
            "summary": self.summary(),
        }

    def save(self, *, full: bool = False) -> None:
        """Write what changed to the fleet's file (see `open_fleet`)."""
        if self.file is None:
            raise self.refuse("This fleet has no file; open it with open_fleet(path).")
        self.file.save(self, full=full)
