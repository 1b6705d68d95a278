"""The balancer over the console: recommendations from what the store last saw, and
applying them (migrations through the console, emptied hosts powered off), audited."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError
from vdctui.model import HostState, TaskState, VmState
from vdctui.ops.actions import Action
from vdctui.ops.balancer import HostLoad, Recommendation, VmLoad, recommend
from vdctui.ops.errors import Failed, Refused
from vdctui.ops.scheduler.weights import IDLE_SHARE_OF_PEAK
from vdctui.ops.tasks import end_task, ending_on_error

if TYPE_CHECKING:
    from vdctui.ops.console import Console


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
    hosts, mhz = [], {}
    for h in console.hosts():
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
                can_receive=h.state is HostState.UP and h.name not in maintenance,
                power=_curve(peak),
                core_capacity=float(h.mhz),
            )
        )
    vms = [
        VmLoad(
            v.name,
            v.host,
            v.vcpus * (v.cpu_util or 0.0) * mhz.get(v.host, 0),
            float(v.memory_mib),
            movable=v.state is VmState.RUNNING and v.datastore not in local,
            vcpus=max(v.vcpus, 1),
        )
        for v in console.vms()
        if v.host and v.state is not VmState.SHUTOFF
    ]
    try:
        return recommend(hosts, vms, threshold=threshold, goal=goal)
    except ValueError as exc:
        raise Refused(f"{exc}.") from None


@dataclass(frozen=True, slots=True)
class Applied:
    """What carrying out a recommendation did: one line per step, and how many worked."""

    lines: list[str]
    steps: int
    done: int


async def apply(console: Console, rec: Recommendation) -> list[str]:
    """Carry out the moves one by one (each an audited migration), then power off the
    hosts it emptied. Returns one line per step; a failed move stops the power-offs."""
    return (await apply_moves(console, rec)).lines


async def apply_moves(console: Console, rec: Recommendation) -> Applied:
    """`apply`, through the door as one "balance.apply" change (role checked before the
    first move), with the count of steps that worked; under one "balance" task that ends
    with its outcome and audit record whatever happens."""
    params = {"moves": len(rec.moves), "power_off": list(rec.power_off)}

    async def work() -> Applied:
        task = console.store.create_task("balance", "fleet", console.identity.actor, params)
        console.store.update_task(task.id, state=TaskState.RUNNING, progress=0.0)
        try:
            async with ending_on_error(console, task.id):
                applied = await _carry_out(console, rec, task.id)
        except DriverError as exc:
            raise Failed(f"Balancing stopped: {exc}") from exc
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


async def _carry_out(console: Console, rec: Recommendation, task_id: int) -> Applied:
    lines: list[str] = []
    failed = False
    done = 0
    for k, move in enumerate(rec.moves, start=1):
        try:
            run = await console.migrate_vm(move.vm, move.target)
            result = await run.wait()
            lines.append(f"{move.vm} {move.source} -> {move.target}: {result.outcome.value}")
            failed |= result.outcome.value != "succeeded"
            done += result.outcome.value == "succeeded"
        except (Refused, Failed) as exc:
            lines.append(f"{move.vm} {move.source} -> {move.target}: refused: {exc}")
            failed = True
        console.store.update_task(task_id, progress=100.0 * k / max(len(rec.moves), 1))
    steps = len(rec.moves) + len(rec.power_off)
    if failed:
        return Applied(lines + ["Hosts stay on: a move did not succeed."], steps, done)
    await console.sync()
    for host in rec.power_off:
        if console.store.vms(host=host):
            lines.append(f"{host} stays on: it still holds VMs")
            continue

        async def off(name: str = host) -> None:
            await console.driver.power_off_host(name)

        try:
            await console.change(Action.HOST_POWER_OFF, host, {"reason": "consolidation"}, off)
            lines.append(f"{host} powered off")
            done += 1
        except (Refused, Failed) as exc:
            lines.append(f"{host} stays on: {exc}")
    return Applied(lines, steps, done)
