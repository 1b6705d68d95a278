"""`vdctui host maintenance NAME [--plan | --exit]`: evacuate a host and take it out of service."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import replace

import click

from vdctui.cli.context import CliContext, confirm, pass_cli, progress_line
from vdctui.cli.output import print_json, say
from vdctui.ops import Console
from vdctui.ops.actions import Action
from vdctui.ops.drain import forced, policy, set_policy
from vdctui.ops.handover import refuse_policy_elsewhere
from vdctui.ops.maintenance import Evacuation, EvacuationPlan
from vdctui.units import format_bytes


def print_plan(plan: EvacuationPlan) -> None:
    say(
        f"Evacuation plan for {plan.host}: {len(plan.moves)} VM(s) to move, "
        f"~{format_bytes(plan.estimated_bytes)}, ~{plan.estimated_seconds:.0f} s "
        f"(at most {plan.max_per_host} per host, {plan.max_total} in all)"
    )
    if plan.moves:
        say(
            f"{'#':>3}  {'VM':<24} {'TO':<20} {'KIND':<5} {'MEMORY':>9} "
            f"{'EST. BYTES':>10} {'EST. TIME':>9}"
        )
    for m in plan.moves:
        say(
            f"{m.order:>3}  {m.vm:<24} {m.target:<20} {m.kind.value:<5} "
            f"{m.memory_mib:>6} MiB {format_bytes(m.estimated_bytes):>10} "
            f"{m.estimated_seconds:>8.1f}s"
        )
    for s in plan.stuck:
        say(f"  cannot move: {s.vm}: {s.reason}")
    if plan.stuck:
        say(
            f"Host {plan.host} cannot enter maintenance until these VMs are moved, "
            "stopped or deleted."
        )


@click.command("maintenance")
@click.argument("name")
@click.option(
    "--plan", "plan_only", is_flag=True, help="Print the evacuation plan; change nothing."
)
@click.option("--exit", "leave", is_flag=True, help="Bring the host back from maintenance.")
@click.option(
    "--resume",
    is_flag=True,
    help="Carry on an evacuation a stopped console left interrupted (see `host list`).",
)
@click.option(
    "--cancel",
    is_flag=True,
    help="Give up an interrupted evacuation: the host is back in service.",
)
@click.option(
    "--max-per-host",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Concurrent migrations leaving or reaching one host.",
)
@click.option(
    "--max-total",
    type=click.IntRange(1, 256),
    default=4,
    show_default=True,
    help="Concurrent migrations in all.",
)
@click.option("--drain", is_flag=True, help="Drain each VM's load-balancer members first.")
@click.option("--force", is_flag=True, help="--drain even a service's last healthy member.")
@click.option("--yes", is_flag=True, help="Do not ask first (for scripts).")
@pass_cli
def maintenance(
    cli: CliContext,
    name: str,
    plan_only: bool,
    leave: bool,
    resume: bool,
    cancel: bool,
    max_per_host: int,
    max_total: int,
    drain: bool,
    force: bool,
    yes: bool,
) -> None:
    """Evacuate a host (live-migrate its VMs away) and put it in maintenance.

    With --plan, only print where each VM would go. Ctrl-C cancels: running
    migrations are aborted and the host does not enter maintenance. An evacuation
    whose console was stopped (kill, crash) is shown as interrupted by `host list`:
    --resume carries it on, --cancel gives it up.
    """
    if sum((plan_only, leave, resume, cancel)) > 1:
        raise click.UsageError("--plan, --exit, --resume and --cancel do not go together.")
    leave = leave or cancel
    if not plan_only:
        cli.require(Action.MAINTENANCE_EXIT if leave else Action.MAINTENANCE_ENTER, name)
    if leave:

        async def back(console: Console) -> None:
            await console.exit_maintenance(name)

        cli.run(back, shares=True)
        say(f"Host {name} is back in service" + (": evacuation cancelled." if cancel else "."))
        return

    async def planned(console: Console) -> EvacuationPlan:
        return console.plan_maintenance(name, max_per_host=max_per_host, max_total=max_total)

    plan = cli.run(planned, shares=True)
    if plan_only:
        print_json([plan]) if cli.as_json else print_plan(plan)
        return
    if not cli.as_json:
        print_plan(plan)
    if not yes:
        again = "Resume evacuating" if resume else "Evacuate"
        confirm(f"{again} {name} ({len(plan.moves)} VMs) and put it in maintenance?")

    async def carry_out(console: Console) -> Evacuation:
        loop = asyncio.get_running_loop()

        def started(evacuation: Evacuation) -> None:
            # the handler first: once the line is out, Ctrl-C must cancel, not interrupt
            loop.add_signal_handler(signal.SIGINT, lambda: _cancel(evacuation))
            say(f"task {evacuation.task_id}: evacuating {name}; Ctrl-C cancels", err=True)

        if drain:
            refuse_policy_elsewhere(console, Action.MAINTENANCE_ENTER, name, "--drain")
            set_policy(console, replace(policy(console), before_migration=True))
        try:
            with forced() if force else contextlib.nullcontext():
                return await console.enter_maintenance(
                    name,
                    max_per_host=max_per_host,
                    max_total=max_total,
                    started=started,
                    on_progress=None if cli.as_json else _show,
                    resume=resume,
                )
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            if not cli.as_json:
                progress_line(None)

    evacuation = cli.run(carry_out, shares=True)
    say(f"Host {name} is in maintenance: {evacuation.outcome_text()}.")


def _cancel(evacuation: Evacuation) -> None:
    say("", err=True)
    say("cancelling ...", err=True)
    evacuation.cancel()


def _show(evacuation: Evacuation) -> None:
    running = ", ".join(f"{vm} {p:.0f}%" for vm, p in sorted(evacuation.running.items()))
    progress_line(
        f"{evacuation.percent:5.1f}%  {len(evacuation.done)}/{evacuation.total} moved"
        + (f"  running: {running}" if running else "")
    )
