"""Drain follows operations: a VM's load-balancer members are drained before the
console stops, reboots or migrates it, and put back after.

Before: each member of the VM that takes traffic (ready, in the ADC) is set to drain
(one audited `service.drain` step), and the console waits until their sessions reach
zero or the timeout (a phase of the migration's task: `detail.phase = "draining"`).
A service that would lose its last healthy member is refused unless forced. After: the
members drained are set ready again and, for a VM that runs, the console waits (up to
the health timeout) for the health check to pass. A stopped VM's members stay drained
until it is started; a destroy does not wait for sessions.

A start puts the VM's drained members back (and waits for their health); so does an HA
restart. When: stop, reboot and destroy always (for VMs that are members); a migration when the
operator asks (`drain=True`) or the policy says (`DrainPolicy.before_migration`, also
from $VDCTUI_DRAIN=migrate), which a maintenance evacuation and the balancer follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import weakref
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vdctui.drivers.adc.base import AdcDriver
from vdctui.model import MemberState, ServiceMember
from vdctui.ops.actions import Action
from vdctui.ops.services import check_not_last

if TYPE_CHECKING:
    from vdctui.ops.console import Console

DRAIN_TIMEOUT_S = 120.0
HEALTH_TIMEOUT_S = 60.0
POLL_S = 1.0  # between two looks at the ADC (real time, on a real one)
FORCED: ContextVar[bool] = ContextVar("drain_forced", default=False)


@dataclass(frozen=True, slots=True)
class DrainPolicy:
    before_migration: bool = False
    timeout_s: float = DRAIN_TIMEOUT_S
    health_timeout_s: float = HEALTH_TIMEOUT_S

    @classmethod
    def from_environment(cls) -> DrainPolicy:
        """$VDCTUI_DRAIN=migrate drains before migrations too; $VDCTUI_DRAIN_TIMEOUT_S."""
        try:
            timeout = float(os.environ.get("VDCTUI_DRAIN_TIMEOUT_S", DRAIN_TIMEOUT_S))
        except ValueError:
            timeout = DRAIN_TIMEOUT_S
        timeout = min(max(timeout, 0.0), 3600.0) if timeout == timeout else DRAIN_TIMEOUT_S
        return cls(os.environ.get("VDCTUI_DRAIN", "") == "migrate", timeout)


_POLICIES: weakref.WeakKeyDictionary[Any, DrainPolicy] = weakref.WeakKeyDictionary()
_DRAINED: dict[int, list[tuple[str, ServiceMember]]] = {}  # migration task -> members


def policy(console: Console) -> DrainPolicy:
    found = _POLICIES.get(console)
    return found if found is not None else DrainPolicy.from_environment()


def set_policy(console: Console, value: DrainPolicy) -> None:
    _POLICIES[console] = value


@contextlib.contextmanager
def forced() -> Any:
    """Within: taking out a service's last healthy member is allowed (--force)."""
    token = FORCED.set(True)
    try:
        yield
    finally:
        FORCED.reset(token)


def _now(console: Console) -> float:
    """The fleet's clock where it has one (the emulator's virtual seconds), else the wall."""
    simulation = console.driver.simulation()
    return simulation.now() if simulation is not None else time.monotonic()


async def _tick(console: Console) -> None:
    """Until the fleet's next step (the emulator's), or a poll's time on real hosts."""
    simulation = console.driver.simulation()
    if simulation is not None:
        await simulation.next_step()
    else:
        await asyncio.sleep(POLL_S)


async def drain_vm(
    console: Console, vm: str, *, wait: bool = True, task_id: int | None = None, why: str = ""
) -> list[tuple[str, ServiceMember]]:
    """Drain every member of `vm` that takes traffic; wait for their sessions to end (or
    the timeout). Returns the members drained (to put back). Refused, before any change,
    if a service would lose its last healthy member (unless forced)."""
    services = console.store.services_of_vm(vm)
    adc = console.driver.adc() if services else None
    if adc is None:
        return []
    statuses = await adc.status(services)
    drained: list[tuple[str, ServiceMember]] = []
    for status in statuses:
        ready = [
            m
            for m in status.service.members
            if m.vm == vm
            and any(
                s.vm == vm and s.port == m.port and s.state in (MemberState.UP, MemberState.DOWN)
                for s in status.members
            )
        ]
        await check_not_last(console, status.service, {(m.vm, m.port) for m in ready}, FORCED.get())
        drained.extend((status.service.name, m) for m in ready)
    for service, member in drained:
        await adc.set_state(service, member, "drain")
        console.record_audit(
            Action.SERVICE_DRAIN, service, {"vm": vm, "port": member.port, "for": why}, "ok"
        )
    if wait and drained:
        await _wait_sessions(console, adc, vm, drained, task_id)
    return drained


async def _wait_sessions(
    console: Console,
    adc: AdcDriver,
    vm: str,
    drained: list[tuple[str, ServiceMember]],
    task_id: int | None,
) -> None:
    limit = policy(console).timeout_s
    start = _now(console)
    services = [s for s in console.store.services_of_vm(vm) if s.name in {n for n, _ in drained}]
    while True:
        sessions = 0
        for status in await adc.status(services):
            sessions += sum(m.sessions or 0 for m in status.members if m.vm == vm)
        waited = _now(console) - start
        if task_id is not None:
            console.store.update_task(
                task_id,
                detail={"phase": "draining", "sessions": sessions, "waited_s": round(waited, 1)},
            )
        if sessions == 0 or waited >= limit:
            return
        await _tick(console)


async def restore(
    console: Console, vm: str, drained: list[tuple[str, ServiceMember]], *, wait: bool = True
) -> None:
    """Put drained members back (ready) and wait for their health check to pass."""
    adc = console.driver.adc() if drained else None
    if adc is None:
        return
    for service, member in drained:
        await adc.set_state(service, member, "ready")
        console.record_audit(Action.SERVICE_ENABLE, service, {"vm": vm, "port": member.port}, "ok")
    if not wait:
        return
    names = {n for n, _ in drained}
    services = [s for s in console.store.services_of_vm(vm) if s.name in names]
    start = _now(console)
    while _now(console) - start < policy(console).health_timeout_s:
        members = [m for st in await adc.status(services) for m in st.members if m.vm == vm]
        if all(m.state is MemberState.UP and m.healthy is not False for m in members):
            return
        await _tick(console)


@contextlib.asynccontextmanager
async def around(console: Console, action: Action, vm: str) -> AsyncIterator[None]:
    """Around a stop, reboot or destroy of `vm`: drain first; a reboot puts the members
    back after, a stopped VM's stay drained until it is started again (set ready while
    its VM goes down, the balancer would send it requests until its check notices)."""
    if action is Action.VM_START:
        yield
        await back_after_restart(console, vm, wait=True)
        return
    if action not in (Action.VM_STOP, Action.VM_REBOOT, Action.VM_DESTROY):
        yield
        return
    drained = await drain_vm(console, vm, wait=action is not Action.VM_DESTROY, why=action.id)
    yield
    if action is Action.VM_REBOOT:
        await restore(console, vm, drained)


async def before_migration(console: Console, vm: str, task_id: int, asked: bool | None) -> None:
    """Drain `vm` before its migration when asked, or by policy (asked is None)."""
    if asked is False or (asked is None and not policy(console).before_migration):
        return
    _DRAINED[task_id] = await drain_vm(console, vm, task_id=task_id, why="vm.migrate")


async def after_migration(console: Console, vm: str, task_id: int) -> None:
    drained = _DRAINED.pop(task_id, [])
    if drained:
        await restore(console, vm, drained)


async def back_after_restart(console: Console, vm: str, *, wait: bool = False) -> None:
    """After `vm` was started (by the operator, or restarted by HA): its members left
    draining are put back; the ADC takes them once their health check passes (`wait`:
    until then, or the health timeout)."""
    services = console.store.services_of_vm(vm)
    adc = console.driver.adc() if services else None
    if adc is None:
        return
    drained = [
        (status.service.name, x)
        for status in await adc.status(services)
        for m in status.members
        if m.vm == vm and m.state is MemberState.DRAIN
        for x in status.service.members
        if x.vm == vm and x.port == m.port
    ]
    await restore(console, vm, drained, wait=wait)
