"""What the console can tell without changing anything: the store's memory of the fleet."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal, TextIO

from vdctui.frozen import frozen
from vdctui.model import (
    AuditCheck,
    AuditProblem,
    AuditRecord,
    AuditSeal,
    DuplicateDefinition,
    Flavor,
    FleetEvent,
    Host,
    HostState,
    MigrationRecord,
    PoolUsage,
    RackTotals,
    Sighting,
    Task,
    Topology,
    Vm,
    VmState,
)
from vdctui.ops import placement
from vdctui.ops.errors import Refused
from vdctui.ops.figures import FiguresAge, figures_age
from vdctui.ops.services_on_demand import core_map
from vdctui.store import Store, StoreError

if TYPE_CHECKING:
    from vdctui.ops.core_map import HostCores
    from vdctui.ops.identity import Identity
    from vdctui.ops.reconcile import Reconciler
    from vdctui.ops.vm_history import VmTrend
    from vdctui.store.power_offs import PowerOff


@frozen
class FleetCounts:
    hosts: int
    hosts_up: int
    vms: int
    running: int
    tasks_running: int


class FleetReads:
    """Reads through the store (what was last seen); the Console adds the changes and
    the syncs (vdctui.store_reads.StoreReader has these reads alone, for a CLI read)."""

    store: Store
    reconciler: Reconciler
    identity: Identity
    follows_store: bool = False  # see follow_store()

    def follow_store(self) -> None:
        """Read only what the store holds, as another process keeps it (a viewer who
        cannot have the fleet): `sync()` then asks no driver and writes nothing."""
        self.follows_store = True

    def store_seen_at(self) -> float | None:
        """When the store last heard from the fleet (its newest host), or None."""
        return self.store.last_seen()

    def unanswered(self) -> list[Host]:
        """The hosts this console's last sync could not reach (what they hold is stale)."""
        return [h for h in self.reconciler.hosts if h.state is HostState.UNREACHABLE]

    def vm_trend(self, name: str) -> VmTrend:
        """The VM's CPU and memory at the recent syncs of this console, oldest first."""
        return self.reconciler.history.trend(name)

    def figures_age(self) -> FiguresAge:
        """When the CPU, memory and power figures (and the trends) were read, beside when
        the states were: between two whole syncs of a big fleet they are older."""
        return figures_age(self.store)

    def duplicates_seen(self) -> dict[str, DuplicateDefinition]:
        """VMs the last sync found defined on more than one host, by name."""
        return self.reconciler.duplicates

    def counts(self) -> FleetCounts:
        """What the header shows: hosts, VMs and work in flight, as last seen."""
        return FleetCounts(
            hosts=self.store.count_hosts(),
            hosts_up=self.store.count_hosts(state=HostState.UP),
            vms=self.store.count_vms(),
            running=self.store.count_vms(state=VmState.RUNNING),
            tasks_running=len(self.store.tasks(active=True, limit=1000)),
        )

    def power_offs(self) -> dict[str, PowerOff]:
        """Who powered off each host the console powered off (see vdctui.ops.why_off)."""
        return self.store.power_offs()

    def store_now(self) -> float:
        """The console's clock: what "now" is for its records."""
        return self.store.now()

    def topology(self) -> Topology:
        return self.store.topology()

    def count_vms(self, **filters: Any) -> int:
        return self.store.count_vms(**filters)

    def allocated(self) -> dict[str, placement.Allocation]:
        """What the VMs that are not shut off hold on each host."""
        return {
            host: placement.Allocation(vcpus, memory)
            for host, (vcpus, memory) in self.store.allocated_by_host().items()
        }

    def hosts(self) -> list[Host]:
        return self.store.hosts()

    def rack_totals(self) -> dict[str, RackTotals]:
        """Each rack's hosts added up, as last seen, without reading every host."""
        return self.store.rack_totals()

    def host(self, name: str) -> Host:
        host = self.store.host(name)
        if host is None:
            raise Refused(f"There is no host named {name!r}.")
        return host

    def vms(self, **filters: Any) -> list[Vm]:
        return self.store.vms(**filters)

    def vm(self, name: str) -> Vm:
        vm = self.store.vm(name)
        if vm is None:
            raise Refused(f"There is no VM named {name!r}.")
        return vm

    def host_sightings(self, hosts: list[Host] | None = None) -> dict[str, Sighting]:
        """When each host last answered; stale only when the last sync did not reach it
        (unreachable). A host the driver or its BMC says is off (or crashed) is not
        stale: its state is what the last sync saw."""
        seen = self.store.host_seen_at()
        return {
            h.name: Sighting(seen.get(h.name) or None, h.state is HostState.UNREACHABLE)
            for h in (self.store.hosts() if hosts is None else hosts)
        }

    def vm_sightings(self, vms: list[Vm]) -> dict[str, Sighting]:
        """When each VM was last seen: with its host when the host answered the last sync
        (fresh), as of its host's last answer when it did not, or as of when it went
        missing (it is then unaccounted for: stale until found)."""
        hosts = self.store.host_states({vm.host for vm in vms if vm.host is not None})
        lost = self.store.unaccounted()
        result: dict[str, Sighting] = {}
        for vm in vms:
            if vm.name in lost:
                result[vm.name] = Sighting(lost[vm.name] or None, True)
            elif vm.host is None or vm.host not in hosts:
                result[vm.name] = Sighting(self.store.vm_seen_at(vm.name), False)
            else:
                state, seen_at = hosts[vm.host]
                result[vm.name] = Sighting(seen_at or None, state is not HostState.UP)
        return result

    def vm_seen(self, name: str) -> Sighting:
        return self.vm_sightings([self.vm(name)])[name]

    def pools(self) -> list[PoolUsage]:
        return self.store.pool_usage()

    def host_cores(self, name: str) -> HostCores | None:
        """The host's core map (None while its CPU topology is not known)."""
        return core_map.of_store(self.store, name)

    def flavors(self) -> list[Flavor]:
        return self.store.flavors()

    def tasks(self, *, active: bool | None = None, limit: int = 100) -> list[Task]:
        return self.store.tasks(active=active, limit=limit)

    def task(self, task_id: int) -> Task:
        task = self.store.task(task_id)
        if task is None:
            raise Refused(f"There is no task {task_id}.")
        return task

    def migrations(self, **filters: Any) -> list[MigrationRecord]:
        return self.store.migrations(**filters)

    def audit(self, **filters: Any) -> list[AuditRecord]:
        return self.store.audit(**filters)

    def verify_audit(self) -> list[AuditProblem]:
        """The file's integrity (SQLite's check, problems with record id 0), then the chain."""
        return self.store.file_problems() + self.store.verify_audit()

    def check_audit(self, *, key: str | None = None) -> AuditCheck:
        """The chain, and with the auditor's seal key every seal; what was checked."""
        try:
            check = self.store.check_audit(key=key)
        except StoreError as exc:
            raise Refused(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
        # SQLite's integrity check first: a chain that holds in damaged pages is no sound log
        return replace(check, problems=self.store.file_problems() + list(check.problems))

    def audit_seal(self) -> AuditSeal | None:
        return self.store.audit_seal()

    def export_audit(self, fmt: Literal["csv", "json"], out: TextIO, **filters: Any) -> None:
        """Stream the audit log (oldest first) as "csv" or "json" into `out`."""
        self.store.export_audit(fmt, out, **filters)

    def events(self, **filters: Any) -> list[FleetEvent]:
        return self.store.events(**filters)
