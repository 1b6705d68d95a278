"""The emulated driver: `HostDriver` over an in-process `emulator.Fleet`.

The fleet's virtual clock moves in one of two ways:
- real time (`speed` set): a background task steps it every `tick` wall
  seconds by `tick * speed` virtual seconds, as the TUI and `vdctui emulate` do;
- on demand (`speed=None`): it moves only when someone waits for it, as fast as
  possible: a migration handle being awaited, or `advance(seconds)`.
Every change is saved to the fleet's file (when it has one) before returning; each
host's energy counter only every SAVE_EVERY_S and on close (writing 10,000 of them took
most of a change's time at 10,000 hosts; see emulator.persist).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import AsyncIterator, Callable, Collection
from typing import Any, ParamSpec, TypeVar

import emulator
from vdctui.drivers.adc.base import AdcDriver
from vdctui.drivers.base import (
    DriverError,
    FleetChanges,
    HostDriver,
    HostUnreachable,
    InvalidOperation,
    MigrationHandle,
    NoSuchHost,
    NoSuchVm,
)
from vdctui.drivers.emulated_config import EmulatedConfig, fleet_migrate_options
from vdctui.drivers.emulated_snapshots import EmulatedSnapshots
from vdctui.drivers.serial import EmulatedSerial
from vdctui.drivers.simulation import Simulation
from vdctui.model import (
    CpuContention,
    CpuPins,
    CpuTopology,
    Datastore,
    DatastoreKind,
    FleetEvent,
    FlowCounts,
    FlowRecord,
    Host,
    HostState,
    MigrationKind,
    MigrationOptions,
    MigrationOutcome,
    MigrationProgress,
    MigrationResult,
    Network,
    NumaNode,
    Rack,
    Room,
    Site,
    Topology,
    Vm,
    VmFirewall,
    VmSpec,
    VmState,
)
from wire.stopping import cancelled

P = ParamSpec("P")
T = TypeVar("T")

ERRORS: dict[type[emulator.FleetError], type[DriverError]] = {
    emulator.HostUnreachable: HostUnreachable,
    emulator.NoSuchVm: NoSuchVm,
    emulator.NoSuchHost: NoSuchHost,
    emulator.InvalidOperation: InvalidOperation,
}
LIST_CHUNK = 2000  # VMs or hosts converted between two yields to the event loop
SAVE_EVERY_S = 30.0  # wall seconds between whole saves of a running fleet (with energy)
ADVANCE_CHUNK_S = 60.0  # virtual seconds per step when advancing as fast as possible


async def breathe(index: int) -> None:
    """A fleet of 100,000 VMs is listed in chunks, so a UI keeps answering meanwhile."""
    if index % LIST_CHUNK == LIST_CHUNK - 1:
        await asyncio.sleep(0)


def translated(call: Callable[P, T]) -> Callable[P, T]:
    """Turn the emulator's errors into the driver contract's errors."""

    @functools.wraps(call)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return call(*args, **kwargs)
        except emulator.FleetError as exc:
            raise ERRORS.get(type(exc), DriverError)(str(exc)) from exc

    return wrapper


_VM_STATES = {state.value: state for state in VmState}  # 100,000 VMs listed per sync
# changes of the feed that a sync of hosts and VMs alone does not cover: read everything
TOPOLOGY_KINDS = frozenset({"site", "room", "rack", "datastore", "network"})


class EmulatedDriver(EmulatedSnapshots, EmulatedConfig, EmulatedSerial, HostDriver):
    backend = "emulated"

    def __init__(
        self,
        fleet: emulator.Fleet,
        *,
        fleet_file: emulator.FleetFile | None = None,
        speed: float | None = None,
        tick: float = 0.25,
    ) -> None:
        self.fleet = fleet
        self.fleet_file = fleet_file
        self.speed = speed
        self.tick = tick
        self._stepped = asyncio.Event()
        self._clock: asyncio.Task[None] | None = None
        self._last_save = time.monotonic()
        # flows are counted from when a driver first runs the fleet; the minutes a saved
        # fleet was closed are made when flows are next asked for, not here (at 100,000
        # VMs, hours of them take minutes and gigabytes: nobody may ever ask)
        fleet.start_flows()
        self._adc: AdcDriver | None = None
        # the console's clock, onto which the fleet's times (snapshots taken) are mapped
        self.wall_clock: Callable[[], float] = time.time

    # --- the clock -------------------------------------------------------------

    def start_clock(self) -> None:
        """Run the fleet in real time from now on (when it has a speed)."""
        self._ensure_clock()

    def _ensure_clock(self) -> None:
        if self.speed is not None and self._clock is None:
            self._clock = asyncio.get_running_loop().create_task(self._run_clock())

    async def _run_clock(self) -> None:
        """Step by the wall time that really passed (sleeps and steps take their time)."""
        assert self.speed is not None
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.tick)
            now = time.monotonic()
            self._step((now - last) * self.speed)
            last = now
            if now - self._last_save > SAVE_EVERY_S:
                self.save()

    def _step(self, seconds: float) -> None:
        self.fleet.step(seconds)
        self._stepped.set()
        self._stepped = asyncio.Event()

    async def next_step(self) -> None:
        """Wait until the fleet has moved on by one step (making that step if on demand)."""
        if self.speed is None:
            self._step(self.tick)
            await asyncio.sleep(0)
        else:
            self._ensure_clock()
            await self._stepped.wait()

    async def advance(self, seconds: float) -> None:
        """Move the clock on by `seconds` of virtual time, as fast as possible.

        The fleet slices time finely itself while migrations or shutdowns run;
        the chunks here only keep the event loop (and Ctrl-C) responsive. Progress is
        saved every SAVE_EVERY_S wall seconds, so a kill loses at most that much."""
        end = self.fleet.now + seconds
        while self.fleet.now < end - 1e-9:
            self._step(min(ADVANCE_CHUNK_S, end - self.fleet.now))
            if time.monotonic() - self._last_save >= SAVE_EVERY_S:
                self.save()
            await asyncio.sleep(0)

    def simulation(self) -> Simulation:
        return self

    def now(self) -> float:
        return self.fleet.now

    async def inject_attack(self, kind: str, source: str, target: str) -> None:
        translated(self.fleet.inject_attack)(kind, source, target)
        self.save(host_energy=False)

    def save(self, *, host_energy: bool = True) -> None:
        """Write what changed to the fleet's file; `host_energy=False` (after a change)
        leaves the hosts' energy counters to the next whole save."""
        if self.fleet_file is not None:
            self.fleet_file.save(self.fleet, host_energy=host_energy)
        if host_energy:
            self._last_save = time.monotonic()

    async def close(self) -> None:
        if self._clock is not None:
            await cancelled(self._clock)
            self._clock = None
        self.save()

    # --- reads -----------------------------------------------------------------

    async def topology(self) -> Topology:
        f = self.fleet
        return Topology(
            sites=tuple(Site(s.name) for s in f.sites.values()),
            rooms=tuple(Room(r.name, r.site) for r in f.rooms.values()),
            racks=tuple(
                Rack(r.name, r.room, r.site, r.power_budget_kw, r.uplink_gbps)
                for r in f.racks.values()
            ),
            datastores=tuple(
                Datastore(
                    d.name,
                    DatastoreKind(d.kind),
                    d.capacity_gib,
                    room=getattr(d, "room", None) or None,
                    host=getattr(d, "host", None) or None,
                )
                for d in f.datastores.values()
            ),
            networks=tuple(Network(n.name, n.vlan) for n in f.networks.values()),
        )

    def _host(self, h: Any) -> Host:
        if h.state == "up" and h.partitioned:
            state, reason = HostState.UNREACHABLE, f"host {h.name} does not answer (partitioned)"
        else:
            state, reason = HostState(h.state), "" if h.state == "up" else f"host is {h.state}"
        up = state is HostState.UP
        stats = self.fleet.host_stats(h.name) if up else None
        return Host(
            name=h.name,
            state=state,
            rack=h.rack,
            room=h.room,
            site=h.site,
            model=h.model,
            cpus=h.cpus,
            cores=h.cores,
            mhz=h.mhz,
            memory_mib=h.memory_mib,
            nic_gbps=h.nic_gbps,
            reserved_cpus=h.reserved_cpus,
            reserved_memory_mib=h.reserved_memory_mib,
            datastores=tuple(self.fleet.host_datastores(h.name)),
            cpu_util=stats.cpu_util if stats else 0.0,
            memory_used_mib=stats.memory_used_mib if stats else 0,
            power_watts=stats.power_watts if stats else None,  # not answering: unknown
            vm_count=len(h.vm_names) if up else 0,
            reason=reason,
        )

    def _vm(self, v: Any) -> Vm:
        running = v.state == "running" and v.started_at is not None
        return Vm(
            name=v.name,
            state=_VM_STATES.get(v.state) or VmState(v.state),
            host=v.host,
            vcpus=v.vcpus,
            memory_mib=v.memory_mib,
            max_vcpus=v.max_vcpus,
            max_memory_mib=v.max_memory_mib,
            disk_gib=v.disk_gib,
            datastore=v.datastore,
            network=v.network,
            pool=v.pool,
            uuid=v.uuid,
            cpu_util=v.cpu_util,
            memory_dirty_rate=v.effective_dirty_rate,
            # the emulator holds a running VM's whole memory on its host (as its virsh says)
            memory_used_mib=v.memory_mib if v.state in ("running", "paused") else None,
            uptime_s=(self.fleet.now - v.started_at) if running else 0.0,
            autostart=v.name in self.fleet.autostart,
        )

    def _answers(self, host_name: str) -> bool:
        h = self.fleet.hosts[host_name]
        return h.state == "up" and not h.partitioned

    async def list_hosts(self) -> list[Host]:
        hosts = []
        for index, h in enumerate(list(self.fleet.hosts.values())):
            hosts.append(self._host(h))
            await breathe(index)
        return hosts

    async def list_vms(self, host: str | None = None) -> list[Vm]:
        if host is not None:
            if host not in self.fleet.hosts:
                raise NoSuchHost(f"There is no host named {host!r}.")
            self._check_reachable(host)
            return [self._vm(v) for v in self.fleet.vms_on(host)]
        answering = {name for name in self.fleet.hosts if self._answers(name)}
        vms = []
        for index, v in enumerate(list(self.fleet.vms.values())):
            if v.host in answering:
                vms.append(self._vm(v))
            await breathe(index)
        return vms

    # --- the change feed (emulator.feed) -----------------------------------------

    def change_version(self) -> int | None:
        return self.fleet.feed.version

    async def changed_since(self, version: int) -> FleetChanges | None:
        changes = self.fleet.feed.since(version)
        if changes is None or set(changes.changed) & TOPOLOGY_KINDS:
            return None
        if any(kind == "host" for kind, _ in changes.gone):  # a host removed
            return None
        return FleetChanges(changes.version, changes.of("host"), changes.of("vm"))

    async def read_hosts(self, names: Collection[str]) -> list[Host]:
        hosts = self.fleet.hosts
        return [self._host(hosts[name]) for name in names if name in hosts]

    async def read_vms(self, names: Collection[str]) -> list[Vm]:
        vms = []
        for index, name in enumerate(names):
            v = self.fleet.vms.get(name)
            if v is not None and self._answers(v.host):
                vms.append(self._vm(v))
            await breathe(index)
        return vms

    @translated
    def _check_reachable(self, host: str) -> None:
        self.fleet.check_reachable(host)

    @translated
    def _find(self, name: str) -> Any:
        vm = self.fleet.vms.get(name)
        if vm is None:
            raise emulator.NoSuchVm(f"There is no VM named {name!r}.")
        self.fleet.check_reachable(vm.host)
        return vm

    async def get_vm(self, name: str) -> Vm:
        return self._vm(self._find(name))

    # --- changes ---------------------------------------------------------------

    def _change(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self._ensure_clock()
        result = translated(call)(*args, **kwargs)
        self.save(host_energy=False)
        return result

    async def define(self, spec: VmSpec, host: str) -> Vm:
        vm = self._change(
            self.fleet.define_vm,
            spec.name,
            host,
            vcpus=spec.vcpus,
            memory_mib=spec.memory_mib,
            max_vcpus=spec.max_vcpus,
            max_memory_mib=spec.max_memory_mib,
            disk_gib=spec.disk_gib,
            datastore=spec.datastore,
            network=spec.network,
            pool=spec.pool,
            workload=spec.workload,
        )
        return self._vm(vm)

    async def undefine(self, name: str) -> None:
        self._change(self.fleet.undefine_vm, name)

    async def undefine_copy(self, vm: str, host: str) -> None:
        """Undefine `vm` on `host` only (the emulator keeps one definition per VM: an HA
        restart's copy goes back to its fenced host; any other, the VM itself)."""
        found = self.fleet.vms.get(vm)
        if found is None or found.host != host:
            raise InvalidOperation(f"Host {host} has no VM named {vm}.")
        self._change(self.fleet.undefine_vm, vm)

    async def start(self, name: str) -> None:
        self._change(self.fleet.start_vm, name)

    async def shutdown(self, name: str) -> None:
        self._change(self.fleet.shutdown_vm, name)

    async def destroy(self, name: str) -> None:
        self._change(self.fleet.destroy_vm, name)

    async def reboot(self, name: str) -> None:
        self._change(self.fleet.reboot_vm, name)

    async def suspend(self, name: str) -> None:
        self._change(self.fleet.suspend_vm, name)

    async def resume(self, name: str) -> None:
        self._change(self.fleet.resume_vm, name)

    async def set_vcpus(self, name: str, vcpus: int) -> None:
        self._change(self.fleet.set_vcpus, name, vcpus)

    async def set_memory(self, name: str, memory_mib: int) -> None:
        self._change(self.fleet.set_memory, name, memory_mib)

    async def migrate(
        self,
        name: str,
        target: str,
        *,
        live: bool = True,
        copy_storage: bool = False,
        auto_converge: bool = False,
        options: MigrationOptions | None = None,
        pins: CpuPins | None = None,
    ) -> MigrationHandle:
        if options is None:
            options = MigrationOptions("full" if copy_storage else "", auto_converge=auto_converge)
        kwargs = fleet_migrate_options(options)
        if pins is not None:
            kwargs["pins"] = (
                [list(c) for c in pins.vcpus],
                list(pins.emulator),
                list(pins.memory_nodes),
            )
        job = self._change(self.fleet.migrate, name, target, live=live, **kwargs)
        return EmulatedMigration(self, job)

    async def cpu_topology(self, host: str) -> CpuTopology:
        layout = translated(self.fleet.cpu_layout)(host)
        nodes = tuple(
            NumaNode(n["id"], tuple(tuple(c) for c in n["cores"]), n["memory_mib"])
            for n in layout["nodes"]
        )
        return CpuTopology(host, nodes, tuple(layout["reserved"]), "emulator host model")

    def cpu_contention(self, host: str) -> CpuContention | None:
        try:
            c = self.fleet.cpu_contention(host)
        except emulator.FleetError:  # no such host, or it does not answer
            return None
        return CpuContention(
            c.host, c.reserved_cpus, c.dedicated_cpus, c.shared_cpus, c.wanted_cpus, c.steal
        )

    async def pin_vcpus(
        self, name: str, vcpu_pins: tuple[tuple[int, ...], ...], emulator_pins: tuple[int, ...]
    ) -> None:
        per_vcpu = [list(cpus) for cpus in vcpu_pins]
        self._change(self.fleet.pin_vcpus, name, per_vcpu, list(emulator_pins))

    async def vcpu_affinity(self, name: str) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...]]:
        per_vcpu, emulator = translated(self.fleet.vcpu_affinity)(name)
        return tuple(tuple(c) for c in per_vcpu), tuple(emulator)

    async def set_reserved_cpus(self, host: str, cpus: tuple[int, ...]) -> None:
        self._change(self.fleet.set_reserved_cpus, host, list(cpus))

    async def bind_memory(self, name: str, nodes: tuple[int, ...]) -> None:
        self._change(self.fleet.bind_memory, name, list(nodes))

    async def memory_binding(self, name: str) -> tuple[int, ...]:
        return tuple(translated(self.fleet.memory_binding)(name))

    async def set_firewall(self, firewall: VmFirewall) -> None:
        rules = [dataclasses.asdict(rule) for rule in firewall.rules]
        self._change(self.fleet.set_firewall, firewall.vm, list(firewall.groups), rules)

    async def flow_counts(self) -> FlowCounts:
        allowed, dropped, by_rule = self.fleet.flow_counts()
        return FlowCounts(allowed, dropped, by_rule)

    async def flow_records(self, since: float) -> list[FlowRecord]:
        return [
            FlowRecord(
                r.ts,
                r.src,
                r.dst,
                r.protocol,
                r.port,
                r.count,
                r.allowed,
                r.src_vm,
                r.dst_vm,
                r.state,
            )
            for r in self.fleet.flow_records(since)
        ]

    async def power_off_host(self, name: str) -> None:
        self._change(self.fleet.power_off_host, name)

    async def power_on_host(self, name: str) -> None:
        self._change(self.fleet.power_on_host, name)

    def adc(self) -> AdcDriver:
        from vdctui.drivers.adc.emulated import EmulatedAdc

        if self._adc is None:
            self._adc = EmulatedAdc(self)
        return self._adc

    async def power_cycle_host(self, name: str) -> None:
        """Off (every VM on it stops at once), then on again."""
        self._change(self.fleet.power_off_host, name)
        self._change(self.fleet.power_on_host, name)

    async def add_host(self, rack: str, model: str | None = None) -> Host:
        from emulator.growth import add_host

        return self._host(self._change(add_host, self.fleet, rack, model))

    async def remove_host(self, name: str) -> None:
        from emulator.growth import remove_host

        self._change(remove_host, self.fleet, name)

    # --- events ----------------------------------------------------------------

    def events(self) -> AsyncIterator[FleetEvent]:
        """Events from now on (those that happen after this call)."""
        return self._events_after(self.fleet.last_event_seq)

    async def _events_after(self, seq: int) -> AsyncIterator[FleetEvent]:
        while True:
            for event in self.fleet.events_since(seq):
                seq = event.seq
                yield FleetEvent(
                    event.ts, event.kind, host=event.host, vm=event.vm, message=event.message
                )
            await self.next_step()


class EmulatedMigration(MigrationHandle):
    def __init__(self, driver: EmulatedDriver, job: Any) -> None:
        self._driver = driver
        self._job = job
        self.vm, self.source, self.target = job.vm, job.source, job.target

    def progress(self) -> MigrationProgress:
        info = self._job.jobinfo()
        return MigrationProgress(
            time_elapsed=int(info["time_elapsed"]),
            data_total=int(info["data_total"]),
            data_processed=int(info["data_processed"]),
            data_remaining=int(info["data_remaining"]),
            memory_bps=float(info["memory_bps"]),
            memory_dirty_rate=float(info["memory_dirty_rate"]),
            memory_iteration=int(info["memory_iteration"]),
            downtime=int(info["downtime"]),
            phase=str(info.get("phase", "precopy")),
        )

    async def updates(self) -> AsyncIterator[MigrationProgress]:
        while True:
            yield self.progress()
            if self._job.state != "running":
                return
            await self._driver.next_step()

    async def abort(self) -> None:
        if self._job.state == "running":
            self._driver._change(self._driver.fleet.abort_migration, self.vm)

    async def wait(self) -> MigrationResult:
        async for _ in self.updates():
            pass
        self._driver.save(host_energy=False)
        job = self._job
        outcome = {
            "completed": MigrationOutcome.SUCCEEDED,
            "cancelled": MigrationOutcome.CANCELLED,
        }.get(job.state, MigrationOutcome.FAILED)
        return MigrationResult(
            vm=job.vm,
            source=job.source,
            target=job.target,
            kind=MigrationKind.LIVE if job.live else MigrationKind.COLD,
            outcome=outcome,
            started=job.started_at,
            ended=job.ended_at or self._driver.fleet.now,
            data_processed=int(job.processed),
            rounds=job.rounds,
            downtime_ms=int(job.downtime_ms),
            reason=job.reason,
        )
