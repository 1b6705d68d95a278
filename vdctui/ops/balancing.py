"""The balancer over the console: recommendations from what the store last saw, and
applying them (hosts the balancer powered off woken first, migrations through the console,
emptied hosts powered off), audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError
from vdctui.model import HostState, MigrationOutcome, Pool, TaskState, Vm, VmState
from vdctui.ops.actions import Action
from vdctui.ops.balancer import HostLoad, Recommendation, VmLoad, recommend
from vdctui.ops.errors import Failed, Refused
from vdctui.ops.handover import fleet_operation
from vdctui.ops.placement import Ratios
from vdctui.ops.scheduler.weights import IDLE_SHARE_OF_PEAK
from vdctui.ops.scheduling import fleet_view
from vdctui.ops.stepping import Started, Stepping, cancellable
from vdctui.ops.tasks import end_task, ending_on_error, steps_of
from vdctui.ops.waking import Note, power_off_emptied, wake, wakeable_hosts

if TYPE_CHECKING:
    from vdctui.ops.console import Console


POWERED_OFF = "powered off (balancer)"  # a step's line: "h01 powered off (balancer)"
MIGRATED = tuple(f": {o.value}" for o in MigrationOutcome)  # "web-001 h1 -> h2: succeeded"


def told_apart(line: str) -> bool:
    """Whether a step's line is told by the events of what it did (a host it powered off,
    a migration that ran: the console groups those), not by the apply's own outcome."""
    return line.endswith(POWERED_OFF) or (" -> " in line and line.endswith(MIGRATED))


def _curve(peak: float) -> Callable[[float], float]:
    """Watts at a utilization, linear from the assumed idle share of peak to peak."""

    def watts(util: float) -> float:
        return peak * (IDLE_SHARE_OF_PEAK + (1 - IDLE_SHARE_OF_PEAK) * util)

    return watts


def recommendations(
    console: Console, *, threshold: int = 3, goal: str = "spread"
) -> Recommendation:
    """Moves (with their gain) for the fleet as last synced; changes nothing."""
    maintenance = console.store.hosts_in_maintenance()
    local = {d.name for d in console.store.topology().datastores if d.kind.value == "local"}
    known = console.hosts()
    wakeable = wakeable_hosts(console, known)  # only hosts the balancer powered off
    view = fleet_view(console.store)  # what placement counts: shared CPUs, dedicated VMs
    shared_cpus = view.shared_cpus()
    hosts, mhz = [], {}
    for h in known:
        mhz[h.name] = h.mhz
        util = min(max(h.cpu_util or 0.0, 0.0), 1.0)
        peak = (
            h.power_watts / (IDLE_SHARE_OF_PEAK + (1 - IDLE_SHARE_OF_PEAK) * util)
            if h.power_watts
            else 0.0
        )
        hosts.append(
            HostLoad(
                h.name,
                float(h.usable_cpus * h.mhz),
                float(h.usable_memory_mib),
                on=h.state is HostState.UP,
                can_receive=(h.state is HostState.UP or h.name in wakeable)
                and h.name not in maintenance,
                power=_curve(peak),
                core_capacity=float(h.mhz),
                datastores=frozenset(h.datastores),
                shared_cpus=float(shared_cpus[view.index[h.name]]),
            )
        )
    pools = {p.name: p for p in console.store.pools()}
    vms = [
        _vm_load(v, v.host, mhz.get(v.host, 0), local, pools.get(v.pool), view.numa.dedicated)
        for v in console.vms()
        if v.host
    ]
    try:
        return recommend(hosts, vms, threshold=threshold, goal=goal)
    except ValueError as exc:
        raise Refused(f"{exc}.") from None


def _vm_load(
    v: Vm,
    host: str,
    mhz: float,
    local: set[str],
    pool: Pool | None,
    dedicated: Callable[[str], bool],
) -> VmLoad:
    """What a VM weighs on its host. A shut-off one takes no CPU or memory, but it is
    defined there: its host is not empty (powering it off would be refused) and it stays.
    Its vCPUs go only where its pool's overcommit leaves room, as placement says."""
    off = v.state is VmState.SHUTOFF
    return VmLoad(
        v.name,
        host,
        0.0 if off else v.vcpus * (v.cpu_util or 0.0) * mhz,
        0.0 if off else float(v.memory_mib),
        movable=v.state is VmState.RUNNING and v.datastore not in local,
        vcpus=0 if off else max(v.vcpus, 1),
        datastore=v.datastore,
        vcpu_overcommit=Ratios.of(pool).cpu,
        dedicated=dedicated(v.name),
    )


@dataclass(frozen=True, slots=True)
class Applied:
    """What carrying out a recommendation did: one line per step, and how many worked."""

    lines: list[str]
    steps: int
    done: int


async def apply(console: Console, rec: Recommendation) -> list[str]:
    """Carry out the plan step by step: wake the hosts it powers on, then the moves (each
    an audited migration), then power off the hosts it emptied. Returns one line per step;
    a failed move stops the power-offs, a host that did not wake has no moves onto it."""
    return (await apply_moves(console, rec)).lines


@fleet_operation(Action.BALANCE_APPLY, progress={"note": str, "started": Stepping})
async def apply_moves(
    console: Console,
    rec: Recommendation,
    note: Note | None = None,
    started: Started | None = None,
) -> Applied:
    """`apply`, through the door as one "balance.apply" change (role checked before the
    first step), with the count of steps that worked; under one "balance" task that ends
    with its outcome and audit record whatever happens. `note` hears each step as it
    starts (a host powering on, the wait for it to answer) and ends; the task's progress
    and its detail's "step" say it too. `started` gets the task's Stepping: its
    `cancel()` stops the plan after the step under way (the task ends cancelled, and
    Failed says after how many steps)."""
    params = {
        "moves": len(rec.moves),
        "power_off": list(rec.power_off),
        **({"power_on": list(rec.power_on)} if rec.power_on else {}),
    }

    async def work() -> Applied:
        task = console.store.create_task("balance", "fleet", console.identity.actor, params)
        console.store.update_task(task.id, state=TaskState.RUNNING, progress=0.0)
        steps = _Steps(console, rec, task.id, note)
        if started is not None:
            started(steps.stepping)
        try:
            with cancellable(console, task.id, steps.stepping.cancel), steps_of(task.id):
                async with ending_on_error(console, task.id):
                    applied = await steps.carry_out()
        except DriverError as exc:
            raise Failed(f"Balancing stopped: {exc}") from exc
        if steps.stepping.stopped(steps.taken):
            why = steps.stepping.cancelled_after(steps.taken)
            if steps.done < steps.taken:
                why += f" ({steps.taken - steps.done} did not succeed)"
            end_task(
                console,
                task.id,
                TaskState.CANCELLED,
                progress=100.0 * steps.taken / max(steps.steps, 1),
                error=why,
                detail={"steps": applied.lines},
            )
            raise Failed(f"Balancing {why}; the rest of the plan was not carried out.")
        ok = applied.done == applied.steps
        end_task(
            console,
            task.id,
            TaskState.SUCCEEDED if ok else TaskState.FAILED,
            progress=100.0,
            error="" if ok else "; ".join(applied.lines),
            detail={"steps": applied.lines},
        )
        return applied

    return await console.change(Action.BALANCE_APPLY, "fleet", params, work)


class _Steps:
    """One carrying out of a plan: wakes, moves, power-offs, a line and a task progress
    for each."""

    def __init__(
        self, console: Console, rec: Recommendation, task_id: int, note: Note | None
    ) -> None:
        self.console, self.rec, self.task_id, self.note = console, rec, task_id, note
        self.lines: list[str] = []
        self.steps = len(rec.power_on) + len(rec.moves) + len(rec.power_off)
        self.done = 0
        self.taken = 0
        self.stepping = Stepping(task_id, self.steps)

    def stop(self) -> bool:
        """Whether to stop here, before the next step: cancelled."""
        return self.stepping.stopped(self.taken)

    def said(self, line: str, *, ok: bool) -> None:
        """A step's outcome: a line of the result, the task's progress, the listener."""
        self.lines.append(line)
        self.done += ok
        self.taken += 1
        self.step(line)

    def step(self, line: str) -> None:
        """What happens now (a wake's wait can be long): in the task, and to the listener."""
        progress = 100.0 * self.taken / max(self.steps, 1)
        self.console.store.update_task(self.task_id, progress=progress, detail={"step": line})
        if self.note is not None:
            self.note(line)

    async def carry_out(self) -> Applied:
        console, rec = self.console, self.rec
        asleep: set[str] = set()
        for host in rec.power_on:
            if self.stop():
                return self.applied()
            self.step(f"{host}: powering on")
            try:
                await wake(console, host, self.step)
                self.said(f"{host} powered on (balancer) and answers", ok=True)
            except (Refused, Failed) as exc:
                asleep.add(host)
                self.said(f"{host} stays off: {exc}", ok=False)
        failed = bool(asleep)
        for move in rec.moves:
            if self.stop():
                return self.applied()
            head = f"{move.vm} {move.source} -> {move.target}"
            if move.target in asleep:
                self.said(f"{head}: not carried out: {move.target} did not power on", ok=False)
                failed = True
                continue
            try:
                run = await console.migrate_vm(move.vm, move.target)
                result = await run.wait()
                ok = result.outcome.value == "succeeded"
                self.said(f"{head}: {result.outcome.value}", ok=ok)
            except (Refused, Failed) as exc:
                ok = False
                self.said(f"{head}: refused: {exc}", ok=False)
            failed |= not ok
        if failed and rec.power_off:
            self.lines.append("Hosts stay on: a step did not succeed.")
            return self.applied()
        await console.sync()
        for host in rec.power_off:
            if self.stop():
                return self.applied()
            try:
                confirmed = await power_off_emptied(console, host, self.step)
                self.said(
                    f"{host} {POWERED_OFF}"
                    if confirmed
                    else f"{host}: power off requested; not reported off yet",
                    ok=True,
                )
            except (Refused, Failed) as exc:
                self.said(f"{host} stays on: {exc}", ok=False)
        return self.applied()

    def applied(self) -> Applied:
        return Applied(self.lines, self.steps, self.done)
