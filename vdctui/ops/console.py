"""The Console: the one door through which every operator change goes.

Reads come from the store (what was last seen, after `sync()`); changes go to
the driver and are written to the audit log, refusals included. The CLI uses
this class today and the TUI will use it the same way.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from vdctui import checks
from vdctui.drivers.base import DriverError, HostDriver, HostUnreachable
from vdctui.model import (
    FleetEvent,
    Host,
    HostState,
    MigrationKind,
    MigrationOptions,
    MigrationOutcome,
    MigrationResult,
    Pool,
    TaskState,
    Vm,
    VmState,
)
from vdctui.ops import tasks
from vdctui.ops.actions import Action
from vdctui.ops.errors import Failed, Refused
from vdctui.ops.handover import fleet_operation
from vdctui.ops.identity import Identity
from vdctui.ops.migration import TASK_STATE_OF, MigrationRun, ProgressListener, follow
from vdctui.ops.reads import FleetReads
from vdctui.ops.reconcile import Reconciler, refresh_vm
from vdctui.ops.requests import STORE_ONLY, FleetElsewhere
from vdctui.ops.services_on_demand import (  # run on first use: a read calls none
    cancelling,
    cores,
    creation,
    drain,
    maintenance,
    pools,
    preflight,
    recovery,
    resizing,
    scheduler,
    scheduling,
    secgroups,
)
from vdctui.store import Store, StoreError
from vdctui.store.history import TaskConflict
from vdctui.store.txn import StoreBusy

if TYPE_CHECKING:
    from vdctui.ops.scheduler import Placement

T = TypeVar("T")

# The change whose work is running (set by the door; tests check drivers are changed
# only while it is set, i.e. never around the door).
IN_CHANGE: ContextVar[Action | None] = ContextVar("IN_CHANGE", default=None)

Listener = Callable[[FleetEvent], None]
HISTORY_SAMPLES = 60  # recent CPU samples kept per host, for sparklines


@dataclass(frozen=True, slots=True)
class Candidate:
    """A host a VM could move to, or the reason it cannot (None when it can)."""

    host: Host
    reason: str | None


def busy_sentence(conflict: TaskConflict) -> str:
    """`web-012 is being migrated by alice (task 17, 43 %); wait ...`"""
    return f"{conflict}; wait for it to end or cancel it first."


def checked(check: Callable[..., T], value: object, what: str, **limits: Any) -> T:
    """`check(value, what, ...)` from vdctui.checks, its BadInput as a refusal."""
    try:
        return check(value, what, **limits)
    except checks.BadInput as exc:
        raise Refused(str(exc)) from None


class Console(FleetReads):
    """Inventory, lifecycle, resize, create, migrate, tasks and audit, for one identity."""

    def __init__(self, store: Store, driver: HostDriver, identity: Identity) -> None:
        self.store = store
        self.driver = driver
        self.identity = identity
        self._runs: dict[int, MigrationRun] = {}
        self.cancellable: dict[int, Callable[[], None]] = {}  # task id -> its cancel()
        self._listeners: list[Listener] = []
        self._history: dict[str, deque[float]] = {}
        self._sync_lock = asyncio.Lock()
        self.reconciler = Reconciler(store)
        self.follows_store = False  # see follow_store()
        self.shared: FleetElsewhere | None = None  # another process holds the fleet: it acts

    @property
    def backend(self) -> str:
        return self.driver.backend

    def attach(self, driver: HostDriver) -> None:
        """Connect the real driver to a console opened over its store alone
        (with a PendingDriver), so a UI can paint before the fleet answers."""
        self.driver = driver

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with every event the console records or notices."""
        self._listeners.append(listener)

    def _emit(self, events: list[FleetEvent]) -> None:
        for event in events:
            for listener in self._listeners:
                listener(event)

    def notify(self, events: list[FleetEvent]) -> None:
        """Pass events the driver told (not drift a sync found) to the listeners."""
        self._emit(events)

    async def follow_events(self, after_sync: Callable[[], None] | None = None) -> None:
        """Until cancelled: sync as soon as the driver tells of a change made elsewhere
        (see vdctui.ops.following)."""
        from vdctui.ops.following import follow_events

        await follow_events(self, after_sync)

    # --- reads ----------------------------------------------------------------

    async def sync(self) -> list[FleetEvent]:
        """Reconcile the store with the fleet; returns the drift it found. One sync at a
        time: a second caller waits for the first, then reads again."""
        if self.follows_store and not (self.shared and await self.shared.take_over(self)):
            return []
        async with self._sync_lock:
            events = await self.reconciler.sync(self.driver)
        if self.store.writable:  # this process is alive; what others left behind ends
            self.store.beat()
            recovery.recover_interrupted(self)
        self.store.advance_audit_seal()  # an ended epoch's key is erased even when idle
        for host in self.reconciler.hosts if self.reconciler.whole else ():  # read now
            if host.cpu_util is not None and host.state is HostState.UP:  # else no sample
                samples = self._history.setdefault(host.name, deque(maxlen=HISTORY_SAMPLES))
                samples.append(host.cpu_util)
        self._emit(events)
        return events

    def host_history(self, name: str) -> list[float]:
        """The host's CPU utilization (0..1) at each of the recent syncs, oldest first."""
        return list(self._history.get(name, ()))

    # --- the door: check, act, audit -------------------------------------------

    def record_audit(
        self, action: Action, target: str, params: dict[str, Any], result: str, error: str = ""
    ) -> None:
        """One audit record as this identity (for steps inside a change, e.g. HA). A
        store this user cannot write keeps no record (the refusal is still said)."""
        if not self.store.writable:
            return
        self.store.append_audit(
            actor=self.identity.actor,
            role=self.identity.role,
            action=action.id if isinstance(action, Action) else f"unknown:{action}",
            target=target,
            params=params,
            result=result,
            error=error,
        )

    def require(self, action: Action, target: str, params: dict[str, Any] | None = None) -> None:
        """Refuse (and audit the refusal) when this identity may not do `action`; for the
        services whose work starts before their first change (a task row, a plan)."""
        try:
            self.identity.check(action)
        except Refused as exc:
            self.record_audit(action, target, params or {}, "refused", str(exc))
            raise

    async def change(
        self,
        action: Action,
        target: str,
        params: dict[str, Any],
        work: Callable[[], Awaitable[T]],
        on_progress: ProgressListener | None = None,
    ) -> T:
        """The door every change goes through, here and in the ops services (HA,
        balancing, maintenance): role check, the work, one audit record whatever happens.
        Only registered actions (`Action`) pass; anything else is refused. While another
        process holds the fleet, it carries the change out (vdctui.fleet_sharing)."""
        if self.shared and isinstance(action, Action) and action not in STORE_ONLY:
            return await self.shared.hand_over(self, action, target, params, work, on_progress)
        try:
            if not isinstance(action, Action) or not action.is_change:
                raise Refused(f"{getattr(action, 'id', action)!r} is not a change; refused.")
            self.identity.check(action)
            entered = IN_CHANGE.set(action)
            try:
                result = await work()
            finally:
                IN_CHANGE.reset(entered)
        except Refused as exc:
            self.record_audit(action, target, params, "refused", str(exc))
            raise
        except HostUnreachable as exc:
            self.record_audit(action, target, params, "failed", str(exc))
            raise Failed(str(exc)) from exc
        except DriverError as exc:
            self.record_audit(action, target, params, "refused", str(exc))
            raise Refused(str(exc)) from exc
        except Failed as exc:
            self.record_audit(action, target, params, "failed", str(exc))
            raise
        except StoreBusy as exc:
            # Other processes kept the store's write lock past the bound: the audit record
            # could not be written either (trying would only make the operator wait again).
            raise Failed(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
        self.record_audit(action, target, params, "ok")
        return result

    async def seal_audit(self, *, epoch_s: float, replace: bool = False) -> str:
        """Begin sealing the audit log (admin); return the auditor's key, shown once.
        Its own audit record is the first one sealed."""

        async def work() -> str:
            try:
                return self.store.seal_audit(epoch_s=epoch_s, replace=replace)
            except StoreError as exc:
                raise Refused(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None

        params = {"epoch_s": epoch_s, "replace": replace}
        return await self.change(Action.AUDIT_SEAL, "audit", params, work)

    async def refresh_vm(self, name: str) -> Vm:
        """Read one VM from the driver now and remember it (after a change)."""
        return await refresh_vm(self.reconciler, self.driver, name)

    def _known_vm(self, name: str) -> Vm:
        """The VM as last seen, or Refused; the driver is asked again by the action."""
        vm = self.store.vm(name)
        if vm is None:
            raise Refused(f"There is no VM named {name!r}.")
        return vm

    def _idle_vm(self, name: str) -> Vm:
        """The VM as last seen, refused if a task of any live process is changing it
        (who, what, how far)."""
        vm = self._known_vm(name)
        conflict = self.store.conflict_on(name)
        if conflict is not None:
            raise Refused(busy_sentence(conflict))
        return vm

    # --- lifecycle --------------------------------------------------------------

    async def _lifecycle(
        self,
        action: Action,
        name: str,
        call: str,
        then: Callable[[HostDriver, Store, str], Awaitable[None]] | None = None,
    ) -> Vm:
        async def work() -> Vm:  # the driver's method named `call`, as attached now
            self._idle_vm(name)
            async with drain.around(self, action, name):  # its load-balancer members
                await getattr(self.driver, call)(name)
                if then is not None:
                    await then(self.driver, self.store, name)
            return await self.refresh_vm(name)

        return await self.change(action, name, {}, work)

    async def start_vm(self, name: str) -> Vm:
        return await self._lifecycle(Action.VM_START, name, "start", then=cores.pin_started)

    async def stop_vm(self, name: str) -> Vm:
        """A clean shutdown: the guest takes its time (state "in shutdown")."""
        return await self._lifecycle(Action.VM_STOP, name, "shutdown")

    async def destroy_vm(self, name: str) -> Vm:
        """Pull the plug: the VM is off at once (its definition stays)."""
        return await self._lifecycle(Action.VM_DESTROY, name, "destroy")

    async def reboot_vm(self, name: str) -> Vm:
        return await self._lifecycle(Action.VM_REBOOT, name, "reboot")

    async def suspend_vm(self, name: str) -> Vm:
        return await self._lifecycle(Action.VM_SUSPEND, name, "suspend")

    async def resume_vm(self, name: str) -> Vm:
        return await self._lifecycle(Action.VM_RESUME, name, "resume")

    # --- resize -------------------------------------------------------------------

    def check_resize(self, vm: Vm, vcpus: int | None, memory_mib: int | None) -> None:
        """Refuse a resize outside the VM's maxima or its host's room (usable live by the TUI)."""
        resizing.check_resize(self, vm, vcpus, memory_mib)

    async def resize_vm(
        self, name: str, *, vcpus: int | None = None, memory_mib: int | None = None
    ) -> Vm:
        async def work() -> Vm:
            return await resizing.resize(self, self._idle_vm(name), vcpus, memory_mib)

        params = {"vcpus": vcpus, "memory_mib": memory_mib}
        return await self.change(Action.VM_RESIZE, name, params, work)

    # --- create ---------------------------------------------------------------------

    async def create_vms(
        self, name: str, *, flavor: str, pool: str, count: int = 1, start: bool = True
    ) -> list[Vm]:
        """Define (and start) `count` VMs of a flavor in a pool, placed first-fit;
        `count` > 1 names them NAME-01, NAME-02, ..."""
        params = {"flavor": flavor, "pool": pool, "count": count, "start": start}

        async def work() -> list[Vm]:
            order = creation.plan(self.store, name, flavor=flavor, pool=pool, count=count)
            if start:
                creation.admit(self.store, order)
            return await creation.carry_out(
                self, self.reconciler, self.driver, order, self.identity.actor, start=start
            )

        return await self.change(Action.VM_CREATE, name, params, work)

    # --- migration ----------------------------------------------------------------------

    def _check_migration(self, vm: Vm, target: str, kind: MigrationKind) -> Host:
        """Refuse a migration the scheduler's filters would not allow, with the filter's reason."""
        host = self.host(target)
        if vm.host == target:
            raise Refused(f"{vm.name} is on {target} already.")
        if kind is MigrationKind.LIVE and vm.state not in (VmState.RUNNING, VmState.PAUSED):
            raise Refused(
                f"{vm.name} is {vm.state}: a live migration needs it running "
                "(use --cold for a VM that is shut off)."
            )
        if kind is MigrationKind.COLD and vm.state is not VmState.SHUTOFF:
            raise Refused(f"{vm.name} is {vm.state}: a cold migration needs it shut off.")
        if kind is MigrationKind.LIVE:
            answer = scheduling.placement_for(self.store, vm)
            reason = answer.why_not(target)
            if reason:
                raise Refused(f"{vm.name} cannot move to {target}: {reason}.")
        elif host.state.value != "up":
            raise Refused(f"{vm.name} cannot move to {target}: host {target} is {host.state}.")
        elif self.store.in_maintenance(target):
            raise Refused(f"{vm.name} cannot move to {target}: host {target} is in maintenance.")
        return host

    def migration_candidates(self, name: str) -> list[Candidate]:
        """Every other host for a live migration of `name`: those that pass the scheduler's
        filters first (best weight first), then the excluded ones with the reason each was
        excluded (see `placement` for the filter names and weights)."""
        answer = self.placement(name)
        hosts = {h.name: h for h in self.store.hosts()}
        ranked = [Candidate(hosts[r.host], None) for r in answer.ranked]
        excluded = [
            Candidate(hosts[e.host], e.reason)
            for e in answer.excluded
            if e.filter != "CurrentHostFilter"
        ]
        return ranked + excluded

    def placement(self, name: str, policy: str = "spread") -> Placement:
        """The scheduler's answer for moving VM `name`: ranked hosts (best first, with
        weights and estimated watts added) and every excluded host with its filter and
        reason. `policy` is "spread", "pack" or "power"."""
        vm = self._known_vm(name)
        try:
            weights = scheduler.Weights.named(policy)
        except ValueError as exc:
            raise Refused(f"{exc}.") from None
        return scheduling.placement_for(self.store, vm, weights)

    async def migrate_vm(
        self,
        name: str,
        target: str,
        *,
        cold: bool = False,
        copy_storage: bool = False,
        auto_converge: bool = False,
        on_progress: ProgressListener | None = None,
        drain_first: bool | None = None,
        options: MigrationOptions | None = None,
        force: bool = False,
    ) -> MigrationRun:
        """Start a migration and follow it in the background; `run.wait()` for its end.
        `drain_first`: drain its load-balancer members first (None: as the policy says).
        `options` win over the two flags; a failed pre-flight check refuses unless `force`."""
        kind = MigrationKind.COLD if cold else MigrationKind.LIVE
        chosen = options or MigrationOptions("full" if copy_storage else "", False, auto_converge)
        params = {"to": target, "kind": kind.value, **asdict(chosen), "force": force}

        async def work() -> MigrationRun:
            vm = self._idle_vm(name)
            self._check_migration(vm, target, kind)
            await preflight.enforce(self, name, target, cold=cold, options=chosen, force=force)
            await secgroups.before_move(self, name, target)  # its filters defined there first
            cores.reserve_on_target(self.store, vm, target)  # a dedicated VM's pins there
            source = vm.host or ""
            try:  # checked again in the transaction that records the task
                task = self.store.create_task(
                    "migrate",
                    name,
                    self.identity.actor,
                    {"source": source, **params},
                    claims=[name],
                )
            except TaskConflict as exc:
                cores.undo_reserve(self.store, name)
                raise Refused(busy_sentence(exc)) from None
            async with tasks.ending_on_error(self, task.id):
                await drain.before_migration(self, name, task.id, drain_first)
            started = self.store.now()
            record_id = self.store.start_migration(
                name, source, target, kind, self.identity.actor, task_id=task.id, started=started
            )
            async with tasks.ending_on_error(self, task.id):
                try:
                    handle = await cores.migrate_pinned(self, name, target, not cold, chosen)
                except DriverError as exc:
                    cores.undo_reserve(self.store, name)
                    self.store.finish_migration(
                        record_id,
                        MigrationResult(
                            name,
                            source,
                            target,
                            kind,
                            outcome=MigrationOutcome.FAILED,
                            started=started,
                            ended=self.store.now(),
                            reason=str(exc),
                        ),
                    )
                    raise
            self.store.update_task(task.id, state=TaskState.RUNNING, progress=0.0)
            run = MigrationRun(started, task.id, record_id, name, source, target, kind, handle)
            run.follower = asyncio.create_task(
                follow(self.store, run, on_progress, self._migration_ended)
            )
            self._runs[task.id] = run
            return run

        return await self.change(Action.VM_MIGRATE, name, params, work, on_progress)

    async def _migration_ended(
        self, run: MigrationRun, result: MigrationResult, final: dict[str, Any]
    ) -> None:
        self._runs.pop(run.task_id, None)
        await drain.after_migration(self, run.vm, run.task_id)
        try:
            await self.refresh_vm(run.vm)
        except DriverError:  # its host stopped answering: keep it where the fleet said
            if result.outcome is MigrationOutcome.SUCCEEDED:
                self.reconciler.moved(run.vm, run.target)
        outcome = result.outcome.value
        succeeded = result.outcome is MigrationOutcome.SUCCEEDED
        await cores.after_move(self, run.vm, succeeded)
        tasks.end_task(
            self,
            run.task_id,
            TASK_STATE_OF[result.outcome],
            error="" if succeeded else result.reason,
            progress=100.0 if succeeded else None,
            detail=final,
            audit={
                "from": run.source,
                "to": run.target,
                "bytes": result.data_processed,
                "rounds": result.rounds,
                "downtime_ms": result.downtime_ms,
            },
        )
        self._emit(
            [
                FleetEvent(
                    result.ended,
                    f"migration.{outcome}",
                    host=run.target,
                    vm=run.vm,
                    message=f"migration of {run.vm} {run.source} -> {run.target} "
                    f"{outcome}" + (f": {result.reason}" if result.reason else ""),
                    part_of=tasks.STEP_OF.get(),
                )
            ]
        )

    async def cancel_task(self, task_id: int) -> None:
        """Cancel a running task this console runs: a migration at once, a balance or an
        HA restart after its step under way, an evacuation (vdctui.ops.cancelling)."""

        async def work() -> None:
            checked(checks.whole_number, task_id, "A task number", low=1, high=checks.MAX_TASK_ID)
            await cancelling.cancel(self, task_id)

        await self.change(Action.TASK_CANCEL, str(task_id), {}, work)

    # --- pools and affinity --------------------------------------------------------------

    async def set_pool(self, name: str, *, create: bool = False, **settings: Any) -> Pool:
        """Create a pool or change its reservations, limits, shares or overcommit ratios;
        refused if they contradict themselves or the fleet cannot reserve them."""

        async def work() -> Pool:
            current = self.store.pool(name)
            if current is None and not create:
                known = ", ".join(p.name for p in self.store.pools())
                raise Refused(f"There is no pool {name!r} (known: {known}).")
            if current is not None and create:
                raise Refused(f"A pool named {name!r} exists already.")
            unknown = set(settings) - set(Pool.__dataclass_fields__) - {"name"}
            if unknown:
                raise Refused(f"Pools have no setting {sorted(unknown)[0]!r}.")
            pool = pools.check_numbers(replace(current or Pool(name=name), **settings))
            pools.check_pool_settings(
                pool, self.store.pools(), self.store.hosts(), self.store.hosts_in_maintenance()
            )
            self.store.upsert_pool(pool)
            return pool

        action = Action.POOL_CREATE if create else Action.POOL_UPDATE
        return await self.change(action, name, dict(settings), work)

    async def set_affinity_group(self, name: str, kind: str, members: list[str]) -> None:
        """Keep VMs on the same host, on different hosts, or on different racks; the
        scheduler honours it for every placement from now on (running VMs stay put)."""

        async def work() -> None:
            checked(checks.name, name, "affinity group")
            for vm in members:
                self._known_vm(vm)
            if len(members) < 2:
                raise Refused("An affinity group needs at least two VMs.")
            try:
                self.store.upsert_affinity_group(name, kind, members)
            except ValueError as exc:
                raise Refused(f"{str(exc).capitalize()}.") from None

        await self.change(Action.AFFINITY_UPDATE, name, {"kind": kind, "members": members}, work)

    # --- maintenance -----------------------------------------------------------------

    def plan_maintenance(
        self, host: str, *, max_per_host: int = 2, max_total: int = 4
    ) -> maintenance.EvacuationPlan:
        """The evacuation plan for `host` (every VM, its target, order, estimated bytes and
        seconds; the VMs that cannot move, with why). Changes nothing."""
        self.host(host)
        for limit in (max_per_host, max_total):
            checked(checks.whole_number, limit, "A concurrency limit", low=1, high=1024)
        return maintenance.plan_evacuation(
            self.store, host, max_per_host=max_per_host, max_total=max_total
        )

    @fleet_operation(
        Action.MAINTENANCE_ENTER,
        progress={"on_progress": "maintenance.Evacuation", "started": "maintenance.Evacuation"},
    )
    async def enter_maintenance(
        self,
        host: str,
        *,
        max_per_host: int = 2,
        max_total: int = 4,
        on_progress: maintenance.ProgressCallback | None = None,
        started: Callable[[maintenance.Evacuation], None] | None = None,
        resume: bool = False,
    ) -> maintenance.Evacuation:
        """Evacuate `host` and put it in maintenance. Refused before anything moves if a VM
        cannot move (named); Failed if a move fails or `Evacuation.cancel()` is called (the
        host then stays out of maintenance). `started` gets the Evacuation (for cancel).
        `resume`: carry on an evacuation a stopped console left interrupted."""
        params = {"max_per_host": max_per_host, "max_total": max_total, "resume": resume}

        async def work() -> maintenance.Evacuation:
            self.host(host)
            if (conflict := self.store.conflict_on(host)) is not None:
                raise Refused(busy_sentence(conflict))
            where = self.store.maintenance_reasons().get(host)
            interrupted = where == maintenance.INTERRUPTED_EVACUATION
            if resume and not interrupted:
                raise Refused(f"Host {host} has no interrupted evacuation to resume.")
            if where == maintenance.ENTERING:
                raise Refused(f"Host {host} is being evacuated already.")
            if where is not None and not interrupted and not self.store.vms(host=host):
                raise Refused(f"Host {host} is in maintenance already.")
            plan = self.plan_maintenance(host, max_per_host=max_per_host, max_total=max_total)
            evacuation = await maintenance.run_evacuation(
                self, plan, on_progress=on_progress, started=started
            )
            if not self.store.in_maintenance(host):
                raise Failed(f"Host {host} did not enter maintenance: {evacuation.outcome_text()}.")
            return evacuation

        return await self.change(Action.MAINTENANCE_ENTER, host, params, work)

    async def exit_maintenance(self, host: str) -> None:
        """Bring `host` back: the scheduler and the balancer may use it again."""

        async def work() -> None:
            self.host(host)
            if not self.store.in_maintenance(host):
                raise Refused(f"Host {host} is not in maintenance.")
            self.store.set_maintenance(host, False)

        await self.change(Action.MAINTENANCE_EXIT, host, {}, work)

    def hosts_in_maintenance(self) -> set[str]:
        return self.store.hosts_in_maintenance()

    def running_migrations(self) -> list[MigrationRun]:
        """The migrations this console started that have not ended yet."""
        return list(self._runs.values())

    async def close(self, *, abort_migrations: bool = False) -> None:
        """Wait for running migrations to end and be recorded (or abort them first), then
        close the driver and the store."""
        for run in self.running_migrations():
            if abort_migrations:
                await self.cancel_task(run.task_id)
            if run.follower is not None:
                await asyncio.shield(run.follower)
        await self.driver.close()
        self.store.close()
