"""High availability: notice failed hosts, and restart their VMs elsewhere once fenced.

A host that misses `missed_intervals` heartbeats in a row (each `check()` is one
heartbeat round) is declared failed. Its VMs are restarted elsewhere only when
the host is known to be down: the driver reports it powered off or crashed, the
console fenced it itself (`fence`, out-of-band power off), or the operator
confirmed it (`confirm_down`, for real hosts the console cannot fence). A host
that is merely unreachable (a partition) may still run its VMs, so nothing is
restarted and the finding says so. Restarts go by restart priority (then pool
CPU shares, then name), through the scheduler, each audited and under one task.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

from vdctui.drivers.base import DriverError, FenceNotConfirmed, HostUnreachable, InvalidOperation
from vdctui.model import HostState, TaskState, Vm, VmSpec, VmState
from vdctui.ops import cores
from vdctui.ops.actions import Action
from vdctui.ops.drain import back_after_restart
from vdctui.ops.errors import Failed, Refused
from vdctui.ops.handover import fleet_operation
from vdctui.ops.scheduler import PlacementRequest, pick, place
from vdctui.ops.scheduling import fleet_view, request_for
from vdctui.ops.stepping import Started, Stepping, cancellable
from vdctui.ops.tasks import end_task, ending_on_error

if TYPE_CHECKING:
    from vdctui.ops.console import Console

FENCED = (HostState.OFF, HostState.CRASHED)
WAS_RUNNING = (VmState.RUNNING, VmState.PAUSED, VmState.CRASHED, VmState.SHUTTING_DOWN)


@dataclass(frozen=True, slots=True)
class HostFinding:
    host: str
    state: HostState
    missed: int
    failed: bool  # declared failed (missed enough heartbeats)
    fenced: bool  # known down: safe to restart its VMs
    note: str


@dataclass(frozen=True, slots=True)
class RestartOutcome:
    vm: str
    target: str | None
    error: str = ""

    def line(self) -> str:
        """The outcome in one line, as an operator reads it."""
        if self.target:
            return f"{self.vm}: restarted on {self.target}"
        return f"{self.vm}: not restarted: {self.error}"


@dataclass
class HaMonitor:
    """Heartbeat bookkeeping for one console; `check()` is one heartbeat round."""

    console: Console
    missed_intervals: int = 3
    auto_restart: bool = True
    # fence (its BMC) a failed host that ran VMs, once per failure, before restarting them
    auto_fence: bool = False
    missed: dict[str, int] = field(default_factory=dict)
    fence_tried: dict[str, str] = field(default_factory=dict)  # host -> what its fence said
    confirmed_down: set[str] = field(default_factory=set)
    restarted: set[str] = field(default_factory=set)  # hosts whose VMs were restarted
    declared: set[str] = field(default_factory=set)  # hosts declared failed
    # hears (host, line) for each VM restarted or not, as it comes (`ha watch` says it)
    note: Callable[[str, str], None] | None = None

    async def check(self) -> tuple[list[HostFinding], list[RestartOutcome]]:
        """One round: `look`, then `restart` what it found fenced."""
        findings = await self.look()
        return findings, await self.restart(findings)

    async def look(self) -> list[HostFinding]:
        """Sync, count missed heartbeats, declare failures (fencing them with auto_fence).
        With automatic restarts, refused (audited) before anything for a role that may
        not restart VMs."""
        if self.auto_restart:
            self.console.require(Action.HA_WATCH_RESTART, "fleet")
        if self.auto_fence:
            self.console.require(Action.HOST_POWER_OFF, "fleet", {"reason": "ha-fence"})
        await self.console.sync()
        findings: list[HostFinding] = []
        for host in self.console.hosts():
            if host.state is HostState.UP:
                self.missed.pop(host.name, None)
                self.restarted.discard(host.name)
                self.declared.discard(host.name)
                self.confirmed_down.discard(host.name)
                self.fence_tried.pop(host.name, None)
                continue
            missed = self.missed.get(host.name, 0) + 1
            self.missed[host.name] = missed
            failed = missed >= self.missed_intervals
            fenced = host.state in FENCED or host.name in self.confirmed_down
            fence_note = self.fence_tried.get(host.name, "")
            if failed and not fenced and self._should_fence(host.name):
                fenced, fence_note = await self._fence(host.name)
                host = self.console.host(host.name)  # as the fence left it
            if not failed:
                note = f"missed {missed} of {self.missed_intervals} heartbeats"
            elif fence_note:
                note = fence_note
            elif fenced:
                note = "failed and fenced: its VMs may restart elsewhere"
            else:
                note = (
                    "failed but not fenced (it may still run its VMs): fence it or "
                    "confirm it is down before its VMs restart"
                )
            findings.append(HostFinding(host.name, host.state, missed, failed, fenced, note))
            if failed and host.name not in self.declared:
                self.declared.add(host.name)
                self.console.record_audit(
                    Action.HA_DECLARE_FAILED,
                    host.name,
                    {"missed": missed, "state": host.state.value},
                    "ok",
                    note,
                )
        return findings

    async def restart(self, findings: list[HostFinding]) -> list[RestartOutcome]:
        """Restart elsewhere the VMs of the failed, fenced hosts found, once per failure;
        `note` hears each VM's line as it comes."""
        outcomes: list[RestartOutcome] = []
        for found in findings:
            host = found.host
            if not (found.failed and found.fenced and self.auto_restart):
                continue
            if host in self.restarted:
                continue
            said = None if self.note is None else functools.partial(self.note, host)
            confirmed = host in self.confirmed_down
            outcomes += await restart_vms_of(self.console, host, confirmed=confirmed, note=said)
            self.restarted.add(host)
        return outcomes

    def _should_fence(self, host: str) -> bool:
        """Auto-fencing is on, not tried yet for this failure, and the host ran VMs."""
        if not self.auto_fence or host in self.fence_tried:
            return False
        return any(v.state in WAS_RUNNING for v in self.console.store.vms(host=host))

    async def _fence(self, host: str) -> tuple[bool, str]:
        """Fence once per failure; (fenced, what the finding says)."""
        try:
            how = await fence(self.console, host, reason="ha-fence")
        except (Refused, Failed, DriverError) as exc:
            said = (
                f"failed, and the fence failed: {exc} Its VMs are not restarted (they may "
                "still run there); fence it or confirm it is down"
            )
            self.fence_tried[host] = said
            return False, said
        said = f"failed and fenced by HA ({how}): its VMs may restart elsewhere"
        self.fence_tried[host] = said
        return True, said


async def confirm_down(monitor: HaMonitor, host: str) -> None:
    """The operator confirms `host` is down (for hosts the console cannot fence)."""

    async def work() -> None:
        monitor.console.host(host)
        monitor.confirmed_down.add(host)

    await monitor.console.change(Action.HA_CONFIRM_DOWN, host, {}, work)


def restart_order(console: Console, vms: list[Vm]) -> list[Vm]:
    """Highest restart priority first, then the pool's CPU shares, then name."""
    priorities = console.store.restart_priorities()
    shares = {p.name: p.cpu_shares for p in console.store.pools()}
    return sorted(vms, key=lambda v: (-priorities.get(v.name, 0), -shares.get(v.pool, 0), v.name))


@fleet_operation(
    Action.HA_RESTART_HOST,
    Action.HA_RESTART,  # one per VM, within the host's
    door=lambda _call: Action.HA_RESTART_HOST,
    progress={"note": str, "started": Stepping},
)
async def restart_vms_of(
    console: Console,
    host: str,
    *,
    confirmed: bool = False,
    note: Callable[[str], None] | None = None,
    started: Started | None = None,
) -> list[RestartOutcome]:
    """Restart on other hosts the VMs that were running on fenced `host`.

    Refused unless the driver reports the host off/crashed or `confirmed` (the
    operator says it is down). One "ha.restart-host" change (the role checked before
    anything, a task for the whole restart), one audit record per VM ("ha.restart").
    `note` hears each VM's outcome line as it comes; `started` gets the task's Stepping,
    whose `cancel()` stops after the VM under way (the task ends cancelled, and Failed
    says after how many and which VMs were not restarted)."""

    async def work() -> list[RestartOutcome]:
        return await _restart_all(console, host, confirmed, note, started)

    return await console.change(Action.HA_RESTART_HOST, host, {"confirmed": confirmed}, work)


async def _restart_all(
    console: Console,
    host: str,
    confirmed: bool,
    note: Callable[[str], None] | None,
    started: Started | None,
) -> list[RestartOutcome]:
    console.host(host)
    await console.sync()
    state = console.host(host).state
    if state is HostState.UP:
        raise Refused(f"Host {host} is up; there is nothing to restart.")
    if state not in FENCED and not confirmed:
        raise Refused(
            f"Host {host} is {state}, not known to be down: its VMs may still run "
            "there. Fence it (power it off) or confirm it is down first."
        )
    victims = restart_order(
        console, [v for v in console.store.vms(host=host) if v.state in WAS_RUNNING]
    )
    task = console.store.create_task(
        "ha-restart",
        host,
        console.identity.actor,
        {"vms": [v.name for v in victims], "confirmed": confirmed},
    )
    console.store.update_task(task.id, state=TaskState.RUNNING, progress=0.0)
    stepping = Stepping(task.id, len(victims))
    if started is not None:
        started(stepping)
    outcomes: list[RestartOutcome] = []
    with cancellable(console, task.id, stepping.cancel):
        async with ending_on_error(console, task.id):
            view = fleet_view(console.store)
            hosts_of = {v.name: v.host for v in console.store.vms()}
            rack_of = {h.name: h.rack for h in view.hosts}
            for k, vm in enumerate(victims, start=1):
                if stepping.stopped(k - 1):
                    break
                request = request_for(console.store, vm, hosts_of=hosts_of, rack_of=rack_of)
                outcome = await _restart_one(console, vm, request, view, confirmed)
                if outcome.target:
                    hosts_of[vm.name] = outcome.target
                outcomes.append(outcome)
                console.store.update_task(task.id, progress=100.0 * k / max(len(victims), 1))
                if note is not None:
                    note(outcome.line())
    errors = [f"{o.vm}: {o.error}" for o in outcomes if o.error]
    if stepping.stopped(len(outcomes)):
        _end_cancelled(console, stepping, host, outcomes, [v.name for v in victims])
    end_task(
        console,
        task.id,
        TaskState.FAILED if errors else TaskState.SUCCEEDED,
        progress=100.0,
        error="; ".join(errors),
        detail={"restarted": {o.vm: o.target for o in outcomes}},
    )
    return outcomes


def _end_cancelled(
    console: Console,
    stepping: Stepping,
    host: str,
    outcomes: list[RestartOutcome],
    names: list[str],
) -> NoReturn:
    """End a restart cancelled with VMs left (audited), and say so (Failed)."""
    left = names[len(outcomes) :]
    failed = sum(1 for o in outcomes if not o.target)
    why = stepping.cancelled_after(len(outcomes)) + (
        f" ({failed} did not succeed)" if failed else ""
    )
    end_task(
        console,
        stepping.task_id,
        TaskState.CANCELLED,
        progress=100.0 * len(outcomes) / max(stepping.steps, 1),
        error=f"{why}; not restarted: {', '.join(left)}",
        detail={"restarted": {o.vm: o.target for o in outcomes}},
    )
    raise Failed(f"The HA restart of {host}'s VMs was {why}; not restarted: {', '.join(left)}.")


async def _restart_one(
    console: Console,
    vm: Vm,
    request: PlacementRequest,
    view,  # type: ignore[no-untyped-def]
    confirmed: bool,
) -> RestartOutcome:
    target = pick(view, request)
    params = {"from": vm.host, "confirmed": confirmed}

    async def work() -> str:
        if target is None:
            raise Refused(f"No host can take {vm.name}: {place(view, request).summary()}.")
        spec = VmSpec(
            name=vm.name,
            vcpus=vm.vcpus,
            memory_mib=vm.memory_mib,
            max_vcpus=vm.max_vcpus,
            max_memory_mib=vm.max_memory_mib,
            disk_gib=vm.disk_gib,
            datastore=vm.datastore,
            network=vm.network,
            pool=vm.pool,
        )
        await console.driver.define_again(spec, target)
        try:
            await cores.pin_restarted(console, view, target, request, vm.host)  # before it starts
            await console.driver.start(vm.name)
        except DriverError as exc:  # never a definition left on the target it did not start on
            raise _undefined_after(exc, await _remove_copy(console, vm.name, target)) from exc
        await back_after_restart(console, vm.name)  # its load-balancer members
        view.claim(target, 0 if request.dedicated else vm.vcpus, vm.memory_mib)
        await console.refresh_vm(vm.name)
        return target

    try:
        placed = await console.change(Action.HA_RESTART, vm.name, {**params, "to": target}, work)
    except (Refused, Failed, DriverError) as exc:
        return RestartOutcome(vm.name, None, str(exc))
    return RestartOutcome(vm.name, placed)


async def _remove_copy(console: Console, vm: str, target: str) -> str:
    """Undefine the copy a failed restart left on `target` (its fenced host's definition
    is the VM's); what became of it, for the outcome."""
    try:
        await console.driver.undefine_copy(vm, target)
    except DriverError as exc:
        return f"its definition on {target} could not be removed ({exc}): remove it by hand"
    finally:
        await console.sync()
    return f"its definition there was removed ({target})"


def _undefined_after(exc: DriverError, removed: str) -> DriverError:
    """The start's own error, with what was cleaned up (a host that did not answer stays a
    failure, anything else a refusal)."""
    kind = HostUnreachable if isinstance(exc, HostUnreachable) else InvalidOperation
    return kind(f"{str(exc).rstrip('.')}; {removed}.")


@fleet_operation(Action.HOST_POWER_OFF)
async def fence(console: Console, host: str, *, reason: str = "fence") -> str:
    """Power `host` off out of band (its BMC; the emulator does it) and confirm it is off,
    so it is known down; returns how it was confirmed. A fence tried but not confirmed is a
    failure (audited "failed"): the host may still run its VMs, so nothing is restarted."""

    async def work() -> str:
        console.host(host)
        try:
            how = await console.driver.fence_host(host)
        except FenceNotConfirmed as exc:
            raise Failed(str(exc)) from None
        console.store.record_power_off(host, "fence", console.identity.actor)
        await console.sync()
        return how

    return await console.change(Action.HOST_POWER_OFF, host, {"reason": reason}, work)
