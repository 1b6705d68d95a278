"""`vdctui host power on|off|cycle NAME`: a host's power, through its BMC on real hosts."""

from __future__ import annotations

import click

from vdctui.cli.context import CliContext, confirm, pass_cli
from vdctui.cli.output import say
from vdctui.ops import Console
from vdctui.ops.power import DONE, POWER_CHOICES, QUESTIONS, power, power_action, power_kind


@click.command("power")
@click.argument("what", type=click.Choice(POWER_CHOICES))
@click.argument("host")
@click.option("--force", is_flag=True, help="off: cut the power at once (ForceOff).")
@click.option("--yes", is_flag=True, help="Do not ask first (for scripts).")
@pass_cli
def power_host(cli: CliContext, what: str, host: str, force: bool, yes: bool) -> None:
    """Power HOST on, off (graceful; --force cuts it) or cycle it, out of band.

    A real host needs a BMC in the inventory (bmc, bmc_user, bmc_password_file)."""
    if force and what != "off":
        raise click.UsageError("--force goes with 'off' only.")
    action, params = power_action(what, force=force)
    cli.require(action, host, params)
    kind = power_kind(what, force=force)
    if not yes:
        confirm(QUESTIONS[kind].format(host=host))

    async def body(console: Console) -> None:
        await power(console, host, what, force=force)

    cli.run(body, shares=True)
    say(DONE[kind].format(host=host))
