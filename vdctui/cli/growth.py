"""`vdctui host add --rack R [--model M]` and `vdctui host remove NAME`: growth.

A new host joins powered on and empty; the balancer's plan to move load onto it is
shown, and carried out with --apply (asked first unless --yes).
"""

from __future__ import annotations

import click

from vdctui.cli.balance import carry_out
from vdctui.cli.context import CliContext, confirm, pass_cli
from vdctui.cli.output import print_json, say
from vdctui.model import Host
from vdctui.ops import Console
from vdctui.ops.actions import Action
from vdctui.ops.balancer import Recommendation
from vdctui.ops.growth import MAX_ADD, add_hosts, moves_onto, remove_host, take_load


@click.command("add")
@click.option("--rack", required=True, help="The rack the new host goes in.")
@click.option("--model", default=None, help="Its model (emulated: see the demo's models).")
@click.option("--count", type=click.IntRange(1, MAX_ADD), default=1, show_default=True)
@click.option("--apply", "do_apply", is_flag=True, help="Carry out the moves onto it.")
@click.option("--yes", is_flag=True, help="Do not ask before the moves (for scripts).")
@pass_cli
def add_host(
    cli: CliContext, rack: str, model: str | None, count: int, do_apply: bool, yes: bool
) -> None:
    """Add a host (emulated: powered on, empty) to RACK, then show the balancer's moves
    that bring load onto it. Refused when the rack's units or power budget are used up."""
    cli.require(Action.HOST_ADD, rack, {"rack": rack, "model": model, "count": count})
    if do_apply:
        cli.require(Action.BALANCE_APPLY, "fleet")

    async def body(console: Console) -> tuple[list[Host], Recommendation]:
        added = await add_hosts(console, rack, model=model, count=count)
        return added, take_load(console, [h.name for h in added])

    added, plan = cli.run(body)
    names = [h.name for h in added]
    if cli.as_json:
        print_json([{"added": names, "plan": plan}])
    else:
        for host in added:
            say(f"Host {host.name} ({host.model}) joined rack {rack}: up, empty.")
        for m in plan.moves:
            say(f"{m.vm}: {m.source} -> {m.target} ({m.reason}: {m.gain})")
        say(
            f"{len(plan.moves)} move(s), {moves_onto(plan, names)} onto the new host(s); "
            f"load spread {plan.spread_before:.2f} -> {plan.spread_after:.2f}"
        )
    if not do_apply or not plan.moves:
        return
    if not yes:
        confirm(f"Carry out {len(plan.moves)} move(s)?")

    carry_out(cli, plan)


@click.command("remove")
@click.argument("name")
@pass_cli
def remove_host_command(cli: CliContext, name: str) -> None:
    """Take an empty host out of the data center (refused, naming its VMs, if it has any)."""

    async def body(console: Console) -> None:
        await remove_host(console, name)

    cli.run(body)
    say(f"Host {name} removed.")
