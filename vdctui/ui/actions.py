"""The UI's verbs, in one typed place: what an operator asks for, done through the Console.

Screens, the `:` line and the palette call these. Dialogs only collect an answer and return
it; the verb here acts on it. A refusal or failure is one notification (`VdcApp.act`); a
question answered "no" says that nothing changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from vdctui.model import MigrationOptions, Vm
from vdctui.ops import Console, Refused, preflight
from vdctui.ops.balancer import Recommendation
from vdctui.ops.figures import PLANNED_ON, RANKED_ON
from vdctui.ops.preflight import Preflight
from vdctui.ui.dialogs import (
    ConfirmDialog,
    CreateDialog,
    CreateRequest,
    MessageDialog,
    MigrateDialog,
    Question,
    ResizeDialog,
    ResizeRequest,
)
from vdctui.ui.dialogs.migrate import Target
from vdctui.ui.dialogs.preflight import MigrationRequest, PreflightDialog
from vdctui.units import format_mib

if TYPE_CHECKING:
    from vdctui.ui.app import VdcApp

Lifecycle = Callable[[Console, str], Awaitable[Vm]]
LIFECYCLE: dict[str, Lifecycle] = {
    "start": Console.start_vm,
    "stop": Console.stop_vm,
    "destroy": Console.destroy_vm,
    "reboot": Console.reboot_vm,
    "suspend": Console.suspend_vm,
    "resume": Console.resume_vm,
}
WHAT_IT_DOES = {  # (one VM, several VMs): what the verb does to them
    "stop": ("Its guest is asked to shut down.", "Each guest is asked to shut down."),
    "destroy": (
        "It loses power at once, like pulling the plug.",
        "Each loses power at once, like pulling the plug.",
    ),
    "reboot": ("Its guest restarts.", "Each guest restarts."),
}
SHOWN_NAMES = 200  # a question lists at most this many VMs


def ask(app: VdcApp, question: Question, then: Callable[[], Awaitable[None]]) -> None:
    """Ask; a yes runs `then` in a worker (a balance, an evacuation may take minutes: the
    widget that asked, the command line say, keeps taking keys meanwhile), a no says
    nothing changed."""

    def answered(yes: bool | None) -> None:
        if yes:
            app.run_worker(then(), group="act")
        else:
            app.notify(f"{question.verb}: not done; nothing changed.", timeout=4)

    app.push_screen(ConfirmDialog(question), answered)


# --- VMs ------------------------------------------------------------------------------


def lifecycle_question(verb: str, names: list[str]) -> Question:
    """`Destroy web-001? It loses power ...` or `Destroy 3 VMs? Each loses power ...`,
    with the names listed when there are several."""
    one, several = WHAT_IT_DOES.get(verb, ("", ""))
    if len(names) == 1:
        return Question(f"{verb.capitalize()} {names[0]}? {one}".strip(), (), verb.capitalize())
    body = tuple(names[:SHOWN_NAMES])
    if len(names) > SHOWN_NAMES:
        body += (f"... and {len(names) - SHOWN_NAMES} more",)
    return Question(
        f"{verb.capitalize()} {len(names)} VMs? {several}".strip(), body, verb.capitalize()
    )


async def lifecycle(app: VdcApp, verb: str, names: list[str]) -> None:
    """Apply one lifecycle verb to VMs, asking first when it interrupts them."""
    if verb not in LIFECYCLE:
        raise Refused(f"{verb!r} is not something a VM does.")
    if verb in WHAT_IT_DOES:
        ask(app, lifecycle_question(verb, names), lambda: _apply(app, verb, names))
    else:
        await _apply(app, verb, names)


async def _apply(app: VdcApp, verb: str, names: list[str]) -> None:
    change = LIFECYCLE[verb]
    done = 0
    for name in names:
        if await app.act(change(app.ops, name)) is not None:
            done += 1
    if done:
        app.notify(f"{verb}: {done} of {len(names)} VM(s).")


def migration_targets(console: Console, vm: str) -> list[Target]:
    """Every other host, those that can take `vm` first (best score first), then the
    excluded ones with their reason."""
    scores = {r.host: r for r in console.placement(vm).ranked}
    targets = []
    for c in console.migration_candidates(vm):
        ranked = scores.get(c.host.name)
        if c.reason is None and ranked is not None:
            targets.append(Target(c.host, ranked.weight, ranked.watts_increase))
        else:
            targets.append(Target(c.host, reason=c.reason))
    return targets


def choose_and_migrate(app: VdcApp, names: list[str]) -> None:
    """The migrate dialog for the first VM; every VM then moves to the host chosen."""
    try:
        targets = migration_targets(app.ops, names[0])
    except Refused as exc:
        app.notify(str(exc), severity="error")
        return

    async def chosen(host: str | None) -> None:
        if host:
            await check_and_migrate(app, names, host)

    ranked_on = app.ops.figures_age().as_read(RANKED_ON, app.ops.store_now())
    dialog = MigrateDialog(names[0], targets, also=len(names) - 1, figures=ranked_on)
    app.push_screen(dialog, chosen)


async def check_and_migrate(app: VdcApp, names: list[str], target: str) -> None:
    """The pre-flight check of the first VM and the options; the answer moves them all."""

    def recheck(options: MigrationOptions) -> Awaitable[Preflight]:
        return preflight.check(app.ops, names[0], target, options=options)

    report = await app.act(recheck(MigrationOptions()))
    if report is None:
        return

    async def asked(request: MigrationRequest | None) -> None:
        if request is not None:
            await migrate(app, names, target, options=request.options, force=request.force)

    app.push_screen(PreflightDialog(report, MigrationOptions(), recheck), asked)


async def migrate(
    app: VdcApp,
    names: list[str],
    target: str,
    *,
    cold: bool = False,
    options: MigrationOptions | None = None,
    force: bool = False,
) -> None:
    started = 0
    for name in names:
        moving = app.ops.migrate_vm(name, target, cold=cold, options=options, force=force)
        if await app.act(moving) is not None:
            started += 1
    if started:
        app.notify(f"Migrating {started} of {len(names)} VM(s) to {target}; see Tasks (4).")


def open_resize(app: VdcApp, vm: Vm) -> None:
    async def asked(request: ResizeRequest | None) -> None:
        if request is not None:
            await resize(app, vm.name, request.vcpus, request.memory_mib)

    app.push_screen(ResizeDialog(vm, app.ops.check_resize), asked)


async def resize(app: VdcApp, vm: str, vcpus: int | None, memory_mib: int | None) -> None:
    wanted = ", ".join(
        part
        for part in (
            f"{vcpus} vCPUs" if vcpus is not None else "",
            format_mib(memory_mib) if memory_mib is not None else "",
        )
        if part
    )
    await app.act(app.ops.resize_vm(vm, vcpus=vcpus, memory_mib=memory_mib), f"{vm}: {wanted}.")


def open_create(app: VdcApp, name: str = "", given: tuple[str, ...] = ()) -> None:
    """The create dialog, with what the command line already said (name, flavor)."""

    async def asked(request: CreateRequest | None) -> None:
        if request is not None:
            await create(app, request)

    pools = [usage.pool.name for usage in app.ops.pools()]
    app.push_screen(CreateDialog(name, app.ops.flavors(), pools, given), asked)


async def create(app: VdcApp, request: CreateRequest) -> None:
    await app.act(
        app.ops.create_vms(
            request.name, flavor=request.flavor, pool=request.pool, count=request.count
        ),
        f"Created {request.count} VM(s) named {request.name}.",
    )


# --- tasks and hosts ---------------------------------------------------------------


async def cancel_task(app: VdcApp, task_id: int) -> None:
    """A migration is aborted at once; a balance or an HA restart stops after the step
    under way (vdctui.ops.cancelling), and its own end is said where it was started."""
    from vdctui.ops.cancelling import asked

    async def cancel() -> str:
        await app.ops.cancel_task(task_id)
        return asked(app.ops.task(task_id))

    said = await app.act(cancel())
    if said is not None:
        app.notify(said)


def maintenance(app: VdcApp, host: str) -> None:
    """Show the evacuation plan and ask; a host that cannot be emptied is a refusal with
    every reason, and no button to try anyway."""
    plan = app.ops.plan_maintenance(host)
    if plan.stuck:
        app.push_screen(
            MessageDialog(
                f"{host} cannot go into maintenance: {len(plan.stuck)} VM(s) cannot leave it. "
                "Move or stop them first.",
                tuple(f"{s.vm}: {s.reason}" for s in plan.stuck),
            )
        )
        return
    moves = tuple(
        f"{m.vm} -> {m.target} ({m.kind}, {format_mib(m.memory_mib)})" for m in plan.moves
    )
    question = Question(
        f"Evacuate {host} ({len(plan.moves)} VM(s) move live) and put it in maintenance?",
        moves,
        "Evacuate",
    )
    ask(app, question, lambda: _evacuate(app, host))


async def _evacuate(app: VdcApp, host: str) -> None:
    app.notify(f"Evacuating {host}; see Tasks (4).")
    await app.act(app.ops.enter_maintenance(host), f"{host} is in maintenance.")


async def exit_maintenance(app: VdcApp, host: str) -> None:
    await app.act(app.ops.exit_maintenance(host), f"{host} is back in service.")


def balance(app: VdcApp, goal: str, level: int) -> None:
    """The recommended moves, every one listed with its gain; applied if asked."""
    from vdctui.ops.balancing import recommendations

    rec = recommendations(app.ops, threshold=level, goal=goal)
    aged = app.ops.figures_age().as_read(PLANNED_ON, app.ops.store_now())
    if not rec.moves and not rec.power_off and not rec.power_on:
        planned = f" ({aged})" if aged else ""
        app.notify(f"Nothing to gain ({goal}, threshold {level}): the fleet is balanced{planned}.")
        return
    body = tuple(f"{m.vm}: {m.source} -> {m.target}  ({m.gain})" for m in rec.moves)
    if aged:  # between two whole syncs of a big fleet
        body = (f"{aged[:1].upper()}{aged[1:]}.", *body)
    if rec.power_on:  # hosts the balancer powered off, woken (and answering) before the moves
        body = (f"first power on: {', '.join(rec.power_on)}", *body)
    if rec.power_off:
        body += (f"then power off: {', '.join(rec.power_off)}",)
    waking = f"power on {len(rec.power_on)} host(s); " if rec.power_on else ""
    question = Question(
        f"Balance ({goal}, threshold {level}): {waking}{len(rec.moves)} move(s); load spread "
        f"{rec.spread_before:.2f} -> {rec.spread_after:.2f}; power off {len(rec.power_off)} "
        f"host(s), ~{rec.watts_saved:.0f} W saved. Apply?",
        body,
        "Apply",
    )
    ask(app, question, lambda: _apply_balance(app, rec))


async def _apply_balance(app: VdcApp, rec: Recommendation) -> None:
    from vdctui.ops.balancing import apply, told_apart

    app.notify("Balancing; see Tasks (4).")
    lines = await app.act(apply(app.ops, rec))
    # its power-offs and its migrations are told together, each in one notification
    # (ui.host_toasts, ui.migration_toasts)
    steps = [line for line in lines or [] if not told_apart(line)]
    if steps:
        app.notify("\n".join(steps[-5:]), timeout=10)


def fence(app: VdcApp, host: str) -> None:
    from vdctui.ops.ha import fence as fence_host

    question = Question(
        f"Power {host} off out of band? Every VM on it stops; then its VMs can be "
        "restarted elsewhere (:restart-vms).",
        verb="Power off",
    )

    async def power_off() -> None:
        await app.act(fence_host(app.ops, host), f"{host} is powered off (fenced).")

    ask(app, question, power_off)


def power(app: VdcApp, host: str, what: str, *, force: bool = False) -> None:
    """`:power HOST on|off|cycle [force]`: the role is checked (and a refusal audited)
    before anything is asked; the change goes through the door."""
    from vdctui.ops import power as host_power

    action, params = host_power.power_action(what, force=force)
    app.ops.host(host)  # an unknown host is refused in one sentence before the question
    app.ops.require(action, host, params)
    kind = host_power.power_kind(what, force=force)
    question = Question(host_power.QUESTIONS[kind].format(host=host), verb=f"Power {kind}")

    async def go() -> None:
        done = host_power.DONE[kind].format(host=host)
        await app.act(host_power.power(app.ops, host, what, force=force), done)

    ask(app, question, go)


async def restart_vms(app: VdcApp, host: str) -> None:
    from vdctui.ops.ha import restart_vms_of

    outcomes = await app.act(restart_vms_of(app.ops, host))
    if outcomes is not None:
        app.notify(f"{len(outcomes)} VM(s) of {host} handled; see Tasks (4) and Audit (6).")
