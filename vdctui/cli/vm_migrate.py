"""`vdctui vm migrate`: move a VM, showing progress; Ctrl-C cancels it cleanly. Its own
module, imported when used (vdctui.cli.lazy): its options are explained from the
pre-flight check's module, which a read such as `vm list` does not need."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import Any

import click

from vdctui.cli.context import CliContext, pass_cli, progress_line
from vdctui.cli.migrate_options import migration_options, options_from, print_preflight
from vdctui.cli.output import say
from vdctui.model import MigrationOutcome, MigrationProgress
from vdctui.ops import Console, MigrationRun
from vdctui.ops import services_on_demand as on_demand
from vdctui.ops.actions import Action
from vdctui.ops.handover import refuse_policy_elsewhere
from vdctui.units import format_bytes


@click.command()
@click.argument("name")
@click.option("--to", "target", required=True, help="The host to move to.")
@click.option("--cold", is_flag=True, help="Move a VM that is shut off.")
@click.option("--copy-storage", is_flag=True, help="Copy the disk too (no shared datastore).")
@click.option(
    "--auto-converge",
    is_flag=True,
    help="Throttle the guest if it dirties memory faster than the link sends it.",
)
@click.option("--drain", is_flag=True, help="Drain its load-balancer members first.")
@migration_options
@pass_cli
def migrate(
    cli: CliContext,
    name: str,
    target: str,
    cold: bool,
    copy_storage: bool,
    auto_converge: bool,
    drain: bool,
    **more: Any,
) -> None:
    """Move a VM to another host, showing progress; Ctrl-C cancels it cleanly. A pre-flight
    check runs first (--check: only that); a failed check refuses unless --force."""
    options = options_from(copy_storage, auto_converge, more)
    if more["check"]:
        report = cli.run(
            lambda c: on_demand.preflight.check(c, name, target, cold=cold, options=options)
        )
        print_preflight(report, as_json=cli.as_json)
        sys.exit(1 if report.failed else 0)

    async def body(console: Console) -> MigrationOutcome:
        # --force also lets --drain take a service's last healthy member
        with on_demand.drain.forced() if more["force"] else contextlib.nullcontext():
            return await follow(console)

    async def follow(console: Console) -> MigrationOutcome:
        if drain:
            refuse_policy_elsewhere(console, Action.VM_MIGRATE, name, "--drain")
        run = await console.migrate_vm(
            name,
            target,
            cold=cold,
            options=options,
            force=more["force"],
            on_progress=None if cli.as_json else _show_progress,
            drain_first=True if drain else None,
        )
        loop = asyncio.get_running_loop()
        # the handler first: once the line is out, Ctrl-C must cancel, not interrupt
        loop.add_signal_handler(signal.SIGINT, lambda: _cancel(console, run))
        say(
            f"task {run.task_id}: migrating {name} {run.source} -> {target} "
            f"({run.kind}); Ctrl-C cancels",
            err=True,
        )
        try:
            result = await run.wait()
        finally:
            loop.remove_signal_handler(signal.SIGINT)
        if not cli.as_json:
            progress_line(None)
        rounds = f"{result.rounds} round" + ("" if result.rounds == 1 else "s")
        summary = (
            f"{name}: migration {result.outcome} after {rounds}, "
            f"{format_bytes(result.data_processed)}, downtime {result.downtime_ms} ms"
        )
        say(summary + (f": {result.reason}" if result.reason else ""))
        return result.outcome

    if cli.run(body, shares=True) is not MigrationOutcome.SUCCEEDED:
        sys.exit(1)


def _cancel(console: Console, run: MigrationRun) -> None:
    say("", err=True)
    say("cancelling ...", err=True)
    asyncio.get_running_loop().create_task(console.cancel_task(run.task_id))


def _show_progress(run: MigrationRun, p: MigrationProgress) -> None:
    progress_line(
        f"{run.vm}: {p.phase:<13} {p.percent:5.1f}%  round {p.memory_iteration:<2} "
        f"{format_bytes(p.memory_bps)}/s  left {format_bytes(p.data_remaining):>9}  "
        f"dirty {p.memory_dirty_rate:.0f} pages/s  downtime ~{p.downtime} ms"
        + (f"  target: {p.target_state}" if p.target_state else "")
    )
