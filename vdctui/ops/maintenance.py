"""Maintenance mode: plan a host's evacuation, carry it out, bring the host back.

`plan_evacuation` decides, without changing anything, where every VM of the host
goes (the scheduler's best host, with the host itself treated as in maintenance),
in which order, and how many bytes and seconds each move should take; VMs that
cannot move are listed with the reason. `Evacuation.run` carries a plan out with
limits on concurrent migrations (per host and overall) and can be cancelled; the
host enters maintenance only when no VM is left on it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError
from vdctui.model import (
    Host,
    MigrationKind,
    MigrationOutcome,
    MigrationProgress,
    TaskState,
    Vm,
    VmState,
)
from vdctui.ops.errors import Failed, Refused
from vdctui.ops.migration import MigrationRun
from vdctui.ops.placement import holds_resources
from vdctui.ops.scheduler import SPREAD, Exclusion, Weights, claim, place
from vdctui.ops.scheduling import fleet_view, request_for
from vdctui.ops.stepping import cancellable
from vdctui.ops.tasks import end_task, steps_of
from vdctui.store import Store
from vdctui.store.history import CLAIMS_OF, TaskConflict

if TYPE_CHECKING:
    from vdctui.ops.console import Console

MIB = 1 << 20
ENTERING = "entering"  # the maintenance flag's reason while an evacuation runs
MAINTENANCE = "maintenance"  # ... once the host is empty
INTERRUPTED_EVACUATION = "interrupted"  # ... its evacuation's process stopped: resume or cancel
LINK_EFFICIENCY = 0.8  # the share of a NIC's line rate a migration stream gets
MAX_ROUNDS = 30


@dataclass(frozen=True, slots=True)
class PlannedMove:
    order: int
    vm: str
    target: str
    kind: MigrationKind
    memory_mib: int
    estimated_bytes: int
    estimated_seconds: float


@dataclass(frozen=True, slots=True)
class StuckVm:
    """A VM that cannot leave the host, and why."""

    vm: str
    reason: str


@dataclass(frozen=True, slots=True)
class EvacuationPlan:
    host: str
    moves: tuple[PlannedMove, ...]
    stuck: tuple[StuckVm, ...]
    max_per_host: int
    max_total: int

    @property
    def estimated_bytes(self) -> int:
        return sum(m.estimated_bytes for m in self.moves)

    @property
    def estimated_seconds(self) -> float:
        """Wall time with the concurrency limits: the moves run in waves from the source."""
        lanes = max(min(self.max_per_host, self.max_total), 1)
        ends = [0.0] * lanes
        for move in self.moves:
            k = ends.index(min(ends))
            ends[k] += move.estimated_seconds
        return max(ends, default=0.0)

    @property
    def can_complete(self) -> bool:
        return not self.stuck


def estimate_move(vm: Vm, source: Host, target: Host) -> tuple[int, float]:
    """(bytes, seconds) of a pre-copy live migration over the slower of the two NICs:
    memory once, then what is re-dirtied each round (a geometric series)."""
    bandwidth = min(source.nic_gbps, target.nic_gbps) * 1e9 / 8 * LINK_EFFICIENCY
    memory = vm.memory_mib * MIB
    if vm.state is VmState.SHUTOFF or bandwidth <= 0:
        return 0, 0.0
    ratio = min(vm.memory_dirty_rate / bandwidth, 0.95)
    total = memory * (1 - ratio**MAX_ROUNDS) / (1 - ratio)
    return int(total), total / bandwidth


def plan_evacuation(
    store: Store,
    host_name: str,
    *,
    weights: Weights = SPREAD,
    max_per_host: int = 2,
    max_total: int = 4,
) -> EvacuationPlan:
    """Where each VM of `host_name` would go, in order (largest memory first, so the
    hardest moves get the emptiest targets), and the VMs that cannot go, with why."""
    host = store.host(host_name)
    if host is None:
        raise Refused(f"There is no host named {host_name!r}.")
    vms = [v for v in store.vms(host=host_name)]
    view = fleet_view(store)
    view.set_maintenance(host_name, True)
    hosts_of = {v.name: v.host for v in store.vms()}
    rack_of = {h.name: h.rack for h in view.hosts}
    priorities = store.restart_priorities()
    moves: list[PlannedMove] = []
    stuck: list[StuckVm] = []
    for vm in sorted(vms, key=lambda v: (-priorities.get(v.name, 0), -v.memory_mib, v.name)):
        request = request_for(store, vm, hosts_of=hosts_of, rack_of=rack_of)
        if not holds_resources(vm):  # a shut-off VM moves cold and needs no room now
            request = replace(request, vcpus=0, memory_mib=0)
        answer = place(view, request, weights)
        if answer.best is None:
            stuck.append(StuckVm(vm.name, _why_stuck(answer.excluded, vm)))
            continue
        target = view.hosts[view.index[answer.best]]
        view.numa.release(vm.name)  # a dedicated VM's source cores are free after it moves
        claim(view, target.name, request)
        hosts_of[vm.name] = target.name
        kind = MigrationKind.COLD if vm.state is VmState.SHUTOFF else MigrationKind.LIVE
        size, seconds = estimate_move(vm, host, target)
        moves.append(
            PlannedMove(len(moves) + 1, vm.name, target.name, kind, vm.memory_mib, size, seconds)
        )
    return EvacuationPlan(host_name, tuple(moves), tuple(stuck), max_per_host, max_total)


FILTER_WORDS = {
    "RamFilter": "no host has memory for it",
    "CoreFilter": "no host has vCPUs for it",
    "NUMATopologyFilter": "no host has dedicated cores for it in one NUMA node",
    "AffinityFilter": "its affinity group keeps it on this host",
    "AntiAffinityHostFilter": "its anti-affinity group leaves no host",
    "AntiAffinityRackFilter": "its anti-affinity group leaves no rack",
    "ComputeFilter": "no other host is up",
    "MaintenanceFilter": "the other hosts are in maintenance",
    "RackPowerFilter": "no rack has power left",
    "NetworkFilter": "its network is unknown",
}
UNAVAILABLE = {"ComputeFilter", "MaintenanceFilter"}


def _why_stuck(excluded: tuple[Exclusion, ...], vm: Vm) -> str:
    counts: dict[str, int] = {}
    for e in excluded:
        if e.filter != "CurrentHostFilter":
            counts[e.filter] = counts.get(e.filter, 0) + 1
    if not counts:
        return "there is no other host"
    if "DatastoreFilter" in counts and set(counts) <= UNAVAILABLE | {"DatastoreFilter"}:
        return f"its disk is on datastore {vm.datastore}, which no other available host reaches"
    top = max(counts.items(), key=lambda kv: kv[1])[0]
    summary = ", ".join(f"{n} by {f}" for f, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    return f"{FILTER_WORDS.get(top, 'no host passes the filters')} ({summary})"


ProgressCallback = Callable[["Evacuation"], None]


@dataclass
class Evacuation:
    """An evacuation in progress: what is done, running, failed; cancel() stops it."""

    plan: EvacuationPlan
    task_id: int
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    running: dict[str, float] = field(default_factory=dict)  # VM -> percent
    cancelled: bool = False
    error: str = ""  # what stopped the evacuation itself, if anything did
    _cancel: asyncio.Event = field(default_factory=asyncio.Event)

    def cancel(self) -> None:
        """Start no new migration and abort the running ones."""
        self.cancelled = True
        self._cancel.set()

    @property
    def total(self) -> int:
        return len(self.plan.moves)

    @property
    def percent(self) -> float:
        if not self.plan.moves:
            return 100.0
        part = sum(self.running.values()) / 100.0
        return 100.0 * (len(self.done) + len(self.failed) + part) / self.total

    def outcome_text(self) -> str:
        parts = [f"{len(self.done)} of {self.total} VMs moved"]
        if self.failed:
            parts.append(
                "failed: " + "; ".join(f"{vm} ({why})" for vm, why in sorted(self.failed.items()))
            )
        if self.cancelled:
            parts.append("cancelled")
        if self.error:
            parts.append(f"stopped: {self.error}")
        return ", ".join(parts)


def result_ok(outcome: MigrationOutcome) -> bool:
    return outcome is MigrationOutcome.SUCCEEDED


def refuse_stuck(plan: EvacuationPlan) -> None:
    """Refuse to start an evacuation that would leave VMs behind, naming them."""
    if plan.stuck:
        names = "; ".join(f"{s.vm}: {s.reason}" for s in plan.stuck)
        n = len(plan.stuck)
        raise Refused(
            f"Host {plan.host} cannot enter maintenance: {n} VM"
            f"{'s' if n > 1 else ''} cannot move ({names}). Move, stop or "
            "delete them first."
        )


async def run_evacuation(
    console: Console,
    plan: EvacuationPlan,
    *,
    on_progress: ProgressCallback | None = None,
    started: Callable[[Evacuation], None] | None = None,
) -> Evacuation:
    """Carry out `plan` through the console (each move its own audited migration task),
    under one "maintenance" task; the host is flagged at once so nothing new lands on it,
    and stays flagged only if every VM left. Raises Failed when the host is not empty."""
    store = console.store
    refuse_stuck(plan)
    try:  # the host and every VM to move, claimed in the transaction that records the task
        task = store.create_task(
            "maintenance",
            plan.host,
            console.identity.actor,
            {
                "moves": len(plan.moves),
                "max_per_host": plan.max_per_host,
                "max_total": plan.max_total,
            },
            claims=[plan.host, *(m.vm for m in plan.moves)],
        )
    except TaskConflict as exc:
        raise Refused(f"{exc}; wait for it to end or cancel it first.") from None
    store.update_task(task.id, state=TaskState.RUNNING, progress=0.0)
    store.set_maintenance(plan.host, True, actor=console.identity.actor, reason=ENTERING)
    evacuation = Evacuation(plan, task.id)
    if started:
        started(evacuation)
    lanes = asyncio.Semaphore(max(min(plan.max_per_host, plan.max_total), 1))
    per_target: dict[str, asyncio.Semaphore] = {}

    def report() -> None:
        store.update_task(task.id, progress=evacuation.percent)
        if on_progress:
            on_progress(evacuation)

    async def move(planned: PlannedMove) -> None:
        target_lane = per_target.setdefault(
            planned.target, asyncio.Semaphore(max(plan.max_per_host, 1))
        )
        async with lanes, target_lane:
            if evacuation.cancelled:
                return
            run = await _start_move(console, planned, evacuation, report)
            if run is None:
                return
            evacuation.running[planned.vm] = 0.0
            waiter = asyncio.ensure_future(run.wait())
            stop = asyncio.ensure_future(evacuation._cancel.wait())
            await asyncio.wait({waiter, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not waiter.done():
                with contextlib.suppress(Refused, Failed):  # it may have ended meanwhile
                    await console.cancel_task(run.task_id)
            stop.cancel()
            result = await waiter
            evacuation.running.pop(planned.vm, None)
            if result.outcome is MigrationOutcome.SUCCEEDED:
                evacuation.done.append(planned.vm)
            else:
                evacuation.failed[planned.vm] = result.reason or result.outcome.value
            report()

    claiming = CLAIMS_OF.set(task.id)  # the moves carry out this task's claims
    try:
        with cancellable(console, task.id, evacuation.cancel), steps_of(task.id):
            await asyncio.gather(*(move(m) for m in plan.moves))
    except asyncio.CancelledError:
        evacuation.cancel()
        raise
    except Exception as exc:
        evacuation.error = str(exc) or type(exc).__name__
        raise
    finally:
        CLAIMS_OF.reset(claiming)
        await _finish(console, evacuation)
    return evacuation


async def _start_move(
    console: Console, planned: PlannedMove, evacuation: Evacuation, report: Callable[[], None]
) -> MigrationRun | None:
    """Start one planned migration; if the target no longer fits, ask the scheduler again."""

    def progress(_run: MigrationRun, sample: MigrationProgress) -> None:
        if planned.vm in evacuation.running:
            evacuation.running[planned.vm] = sample.percent
            report()

    cold = planned.kind is MigrationKind.COLD
    try:
        return await console.migrate_vm(planned.vm, planned.target, cold=cold, on_progress=progress)
    except (Refused, Failed) as first:
        vm = console.store.vm(planned.vm)
        if vm is None:
            evacuation.failed[planned.vm] = str(first)
            return None
        best = place(fleet_view(console.store), request_for(console.store, vm)).best
        if best is None or best == planned.target:
            evacuation.failed[planned.vm] = str(first)
            report()
            return None
        try:
            return await console.migrate_vm(planned.vm, best, cold=cold, on_progress=progress)
        except (Refused, Failed) as second:
            evacuation.failed[planned.vm] = str(second)
            report()
            return None


async def _finish(console: Console, evacuation: Evacuation) -> None:
    """Enter maintenance if the host is empty; otherwise clear the flag and say why. The
    task ends with its outcome and audit record even if the fleet no longer answers."""
    store, host = console.store, evacuation.plan.host
    try:
        await console.sync()
        left: list[str] | None = sorted(v.name for v in store.vms(host=host))
        unseen = ""
    except DriverError as exc:
        left, unseen = None, f"; the fleet did not answer to check the host is empty: {exc}"
    if left == [] and not (evacuation.failed or evacuation.cancelled or evacuation.error):
        store.set_maintenance(host, True, actor=console.identity.actor, reason=MAINTENANCE)
        end_task(console, evacuation.task_id, TaskState.SUCCEEDED, progress=100.0)
        return
    store.set_maintenance(host, False)
    text = evacuation.outcome_text() + unseen
    if left:
        text += f"; still on {host}: {', '.join(left)}"
    state = TaskState.CANCELLED if evacuation.cancelled else TaskState.FAILED
    end_task(
        console, evacuation.task_id, state, error=f"host {host} did not enter maintenance: {text}"
    )
