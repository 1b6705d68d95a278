"""`vdctui vm xml|config|autostart`: a VM's configuration as its host holds it."""

from __future__ import annotations

import click

from vdctui.cli.context import CliContext, pass_cli
from vdctui.cli.output import print_list, say
from vdctui.columns import Column
from vdctui.escape import for_terminal
from vdctui.model import Vm
from vdctui.ops import Console
from vdctui.ops import config as vm_config

CONFIG_COLUMNS: list[Column] = [("part", lambda c: c.part), ("says", lambda c: c.text)]


@click.command("xml")
@click.argument("vm")
@pass_cli
def xml(cli: CliContext, vm: str) -> None:
    """VM's domain XML as its host prints it (read-only)."""

    async def body(console: Console) -> str:
        return await vm_config.domain_xml(console, vm)

    text = cli.run(body)
    for line in text.rstrip("\n").splitlines():  # escaped: a host's names reach no terminal raw
        click.echo(for_terminal(line))


@click.command("config")
@click.argument("vm")
@pass_cli
def config(cli: CliContext, vm: str) -> None:
    """VM's configuration in a structured view: CPU (topology, pinning), memory, disks,
    NICs, boot, autostart."""

    async def body(console: Console) -> list[vm_config.ConfigLine]:
        seen = console.vm(vm)
        return vm_config.structured(await vm_config.domain_xml(console, vm), seen.autostart)

    print_list(cli.run(body), CONFIG_COLUMNS, as_json=cli.as_json, empty="")


@click.command("autostart")
@click.argument("vm")
@click.argument("state", type=click.Choice(["on", "off"]))
@pass_cli
def autostart(cli: CliContext, vm: str, state: str) -> None:
    """Start VM with its host (on), or not (off); audited."""

    async def body(console: Console) -> Vm:
        return await vm_config.set_autostart(console, vm, state == "on")

    done = cli.run(body)
    shown = "—" if done.autostart is None else ("on" if done.autostart else "off")
    say(f"{vm}: autostart {shown}")


COMMANDS = (xml, config, autostart)
