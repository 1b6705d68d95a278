"""`vdctui balance [--apply] [--threshold 1..5] [--goal spread|power]`: DRS-style moves."""

from __future__ import annotations

import click

from vdctui.cli.context import CliContext, confirm, fail, pass_cli
from vdctui.cli.output import plain, print_json, say
from vdctui.cli.stepping import ctrl_c_stops
from vdctui.ops import Console
from vdctui.ops.actions import Action
from vdctui.ops.balancer import Recommendation
from vdctui.ops.balancing import Applied, apply_moves, recommendations
from vdctui.ops.figures import PLANNED_ON, FiguresAge


@click.command("balance")
@click.option("--apply", "do_apply", is_flag=True, help="Carry the moves out (automatic mode).")
@click.option(
    "--threshold",
    type=click.IntRange(1, 5),
    default=3,
    show_default=True,
    help="1 conservative ... 5 aggressive.",
)
@click.option(
    "--goal",
    type=click.Choice(["spread", "power"]),
    default="spread",
    show_default=True,
    help="Spread load, or consolidate and power hosts off.",
)
@click.option("--yes", is_flag=True, help="Do not ask first (for scripts).")
@pass_cli
def balance(cli: CliContext, do_apply: bool, threshold: int, goal: str, yes: bool) -> None:
    """Recommend migrations that relieve overloaded hosts and spread load (or free
    hosts to power off), each with its expected gain; --apply carries them out."""

    if do_apply:
        cli.require(Action.BALANCE_APPLY, "fleet")

    async def body(console: Console) -> tuple[Recommendation, FiguresAge, float]:
        plan = recommendations(console, threshold=threshold, goal=goal)
        return plan, console.figures_age(), console.store_now()

    rec, figures, now = cli.run(body, shares=True)
    if cli.as_json and not do_apply:
        print_json([{**plain(rec), "figures_at": figures.read_at}])
        return
    aged = figures.as_read(PLANNED_ON, now)  # between two whole syncs of a big fleet
    if aged:
        say(f"vdctui: {aged}.", err=True)
    if rec.power_on:
        say(f"first power on (the balancer powered them off): {', '.join(rec.power_on)}")
    for m in rec.moves:
        say(f"{m.vm}: {m.source} -> {m.target} ({m.reason}: {m.gain})")
    say(
        f"{len(rec.moves)} move(s); load spread {rec.spread_before:.2f} -> "
        f"{rec.spread_after:.2f}; hosts to power off: {', '.join(rec.power_off) or 'none'}"
        f"; ~{rec.watts_saved:.0f} W saved"
    )
    if not do_apply or not rec.moves and not rec.power_off and not rec.power_on:
        return
    if not yes:
        waking = f"power on {len(rec.power_on)} host(s), " if rec.power_on else ""
        confirm(
            f"Carry out {waking}{len(rec.moves)} move(s) and power off "
            f"{len(rec.power_off)} host(s)?"
        )

    carry_out(cli, rec)


def carry_out(cli: CliContext, rec: Recommendation) -> None:
    """Apply a balancer plan (each step audited), a line per step; exit 1 if none worked."""

    said: list[str] = []

    def step(line: str) -> None:  # each step as it starts and ends
        said.append(line)
        say(line)

    async def apply(console: Console) -> Applied:
        with ctrl_c_stops("balancing") as started:
            return await apply_moves(console, rec, step, started)

    applied = cli.run(apply, shares=True)
    for line in applied.lines:
        if line not in said:  # carried out elsewhere (the fleet's holder) or not heard
            say(line)
    if applied.steps and not applied.done:
        fail(f"None of the {applied.steps} step(s) was carried out.")
