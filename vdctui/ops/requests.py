"""Changes carried out by the process that holds the embedded fleet, for another one.

`perform` is the holder's side: the request's action, called through the same ops door
(`Console.change`) as the asker, whose role is checked again here from the db (the
request's role can only lower it). `result_of` is the asker's side: what the door
returns (a VM as the holder left it in the store, the VMs created, a migration it
follows through its task row, a cancel). The changes listed in `CARRIED` travel, and so
do the fleet operations (vdctui.ops.handover) with the actions they carry out; the ones
that write the store alone run in the asker (`STORE_ONLY`); the few left need the fleet
itself (`NOT_HANDED_OVER`, each with why; tests/ops/test_every_action_handed_over.py).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from vdctui.model import (
    MigrationKind,
    MigrationOutcome,
    MigrationProgress,
    MigrationResult,
    TaskState,
    Vm,
)
from vdctui.ops import recovery
from vdctui.ops.actions import Action
from vdctui.ops.errors import Failed, Refused
from vdctui.ops.handover import Report, carry_out, is_operation
from vdctui.ops.identity import Identity, lower
from vdctui.ops.migration import MigrationRun, ProgressListener
from vdctui.store.requests import FleetRequest

if TYPE_CHECKING:
    from vdctui.ops.console import Console

LIFECYCLE = {
    Action.VM_START: "start_vm",
    Action.VM_STOP: "stop_vm",
    Action.VM_DESTROY: "destroy_vm",
    Action.VM_REBOOT: "reboot_vm",
    Action.VM_SUSPEND: "suspend_vm",
    Action.VM_RESUME: "resume_vm",
}
CARRIED = frozenset(
    {*LIFECYCLE, Action.VM_RESIZE, Action.VM_CREATE, Action.VM_MIGRATE, Action.TASK_CANCEL}
)
STORE_ONLY = frozenset(
    {
        Action.POOL_CREATE,
        Action.POOL_UPDATE,
        Action.AFFINITY_UPDATE,
        Action.MAINTENANCE_EXIT,
        Action.OPERATOR_SET,
        Action.AUDIT_SEAL,
        Action.HA_CONFIRM_DOWN,  # what this process's HA monitor holds: nothing of the fleet
    }
)
# The changes that are not handed over, and why. Every other change is CARRIED, STORE_ONLY,
# or one of the actions a fleet operation carries out (vdctui.ops.handover); a test holds it.
NOT_HANDED_OVER = {
    Action.VM_CONSOLE: "a live terminal on the VM: opened where the fleet runs, said at once "
    "elsewhere",
    Action.EMULATE_FRESH: "throws the fleet away: refused at once beside the process that runs it",
    Action.HOST_TRUST: "a real host's SSH key (--inventory): no embedded fleet",
    Action.HA_WATCH_RESTART: "a role checked where `ha watch` runs; each fence and restart it "
    "makes is handed over",
}
FOLLOW_EVERY_S = 0.25  # how often the asker reads a migration's task row

T = TypeVar("T")


class FleetElsewhere(Protocol):
    """What a console does while another process holds its fleet (fleet_sharing)."""

    async def take_over(self, console: Console) -> bool: ...

    async def hand_over(
        self,
        console: Console,
        action: Action,
        target: str,
        params: dict[str, Any],
        work: Callable[[], Awaitable[T]],
        on_progress: ProgressListener | None = None,
    ) -> T: ...

    async def hand_over_operation(
        self,
        console: Console,
        name: str,
        target: str,
        params: dict[str, Any],
        deliver: Callable[[str, Any], Any],
    ) -> Any: ...


def as_asker(console: Console, request: FleetRequest) -> Console:
    """The holder's console acting for the asker: same store, fleet and runs; the asker's
    name with the lesser of the role the request carries and the one the db gives."""
    stored = console.store.operator_role(request.actor)
    acting = copy.copy(console)
    acting.identity = Identity(request.actor, lower(request.role, stored or request.role.VIEWER))
    return acting


async def perform(
    console: Console, request: FleetRequest, report: Report | None = None
) -> dict[str, Any]:
    """Carry out `request` through the door as its asker; what the asker needs back.
    A fleet operation (vdctui.ops.handover) reports its progress through `report`."""
    acting = as_asker(console, request)
    params, target = request.params, request.target
    if is_operation(request.action):
        result = await carry_out(acting, request.action, params, report or _unheard)
        return {"result": result}
    action = Action.named(request.action)
    if action in LIFECYCLE:
        await getattr(acting, LIFECYCLE[action])(target)
        return {}
    if action is Action.VM_RESIZE:
        await acting.resize_vm(target, vcpus=params["vcpus"], memory_mib=params["memory_mib"])
        return {}
    if action is Action.VM_CREATE:
        made = await acting.create_vms(
            target,
            flavor=params["flavor"],
            pool=params["pool"],
            count=params["count"],
            start=params["start"],
        )
        return {"vms": [vm.name for vm in made]}
    if action is Action.VM_MIGRATE:
        run = await acting.migrate_vm(
            target,
            params["to"],
            cold=params["kind"] == MigrationKind.COLD.value,
            copy_storage=params["copy_storage"],
            auto_converge=params["auto_converge"],
        )
        return {"task": run.task_id, "record": run.record_id, "source": run.source}
    if action is Action.TASK_CANCEL:
        await acting.cancel_task(int(target))
        return {}
    if action is None:  # written by hand, or by a newer vdctui
        raise Refused(f"{request.action!r} is not an action this console knows; refused.")
    # not one of CARRIED: the door says so, audited
    return await acting.change(action, target, params, _nothing)


def _unheard(_parameter: str, _value: Any) -> None:
    return None


async def _nothing() -> dict[str, Any]:
    raise Failed("The process that holds the data center does not carry out this change.")


def result_of(
    console: Console,
    action: Action,
    target: str,
    params: dict[str, Any],
    answer: dict[str, Any],
    on_progress: ProgressListener | None = None,
) -> Any:
    """What the door returns for a change another process carried out (see `perform`)."""
    if action in LIFECYCLE or action is Action.VM_RESIZE:
        return _vm(console, target)
    if action is Action.VM_CREATE:
        return [_vm(console, name) for name in answer["vms"]]
    if action is Action.VM_MIGRATE:
        return followed_migration(console, target, params, answer, on_progress)
    return None


def _vm(console: Console, name: str) -> Vm:
    vm = console.store.vm(name)
    if vm is None:
        raise Failed(f"{name} was changed, but the store no longer holds it.")
    return vm


class ProgressOfTask:
    """A migration's handle as another process reports it: its task row's progress."""

    def __init__(self, console: Console, task_id: int) -> None:
        self._console = console
        self.task_id = task_id
        self.last = MigrationProgress()

    def progress(self) -> MigrationProgress:
        task = self._console.store.task(self.task_id)
        if task is not None:
            names = {f.name for f in fields(MigrationProgress)}
            self.last = MigrationProgress(**{k: v for k, v in task.detail.items() if k in names})
        return self.last

    async def abort(self) -> None:
        await self._console.cancel_task(self.task_id)


def followed_migration(
    console: Console,
    vm: str,
    params: dict[str, Any],
    answer: dict[str, Any],
    on_progress: ProgressListener | None,
) -> MigrationRun:
    """The run of a migration another process started: its task row followed until it
    ends (progress as that process writes it), then its history record as the result."""
    task = console.store.task(int(answer["task"]))
    started = task.created if task is not None else console.store.now()
    handle = ProgressOfTask(console, int(answer["task"]))
    run = MigrationRun(
        started,
        int(answer["task"]),
        int(answer["record"]),
        vm,
        str(answer["source"]),
        str(params["to"]),
        MigrationKind(params["kind"]),
        handle,  # type: ignore[arg-type]
    )
    run.follower = asyncio.get_running_loop().create_task(_follow(console, run, on_progress))
    return run


async def _follow(
    console: Console, run: MigrationRun, on_progress: ProgressListener | None
) -> MigrationResult:
    seen: float | None = None
    while True:
        recovery.recover_interrupted(console)  # the process running it died: ended, once
        task = console.store.task(run.task_id)
        if task is None:
            raise Failed(f"Task {run.task_id} is no longer in the store.")
        if on_progress is not None and task.state is TaskState.RUNNING:
            sample = run.progress()
            if sample.percent != seen:
                seen = sample.percent
                on_progress(run, sample)
        if task.state.finished:
            return _ended(console, run, task.error or "")
        await asyncio.sleep(FOLLOW_EVERY_S)


def _ended(console: Console, run: MigrationRun, error: str) -> MigrationResult:
    record = next(
        (r for r in console.store.migrations(vm=run.vm, limit=50) if r.id == run.record_id), None
    )
    if record is None or record.outcome is None:
        outcome = MigrationOutcome.FAILED
        return MigrationResult(
            run.vm,
            run.source,
            run.target,
            run.kind,
            outcome,
            run.started,
            console.store.now(),
            reason=error,
        )
    return MigrationResult(
        run.vm,
        run.source,
        run.target,
        run.kind,
        record.outcome,
        record.started,
        record.ended or record.started,
        data_processed=record.data_bytes,
        rounds=record.rounds,
        downtime_ms=record.downtime_ms,
        reason=record.reason,
    )
