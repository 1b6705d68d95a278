"""`vdctui vm xml|config|autostart`: a VM's configuration as its host holds it."""

from __future__ import annotations

import click

from vdctui.cli.context import CliContext, confirm, pass_cli
from vdctui.cli.output import print_json, print_list, say
from vdctui.columns import Column
from vdctui.escape import for_terminal
from vdctui.model import DuplicateDefinition, Vm
from vdctui.ops import Console
from vdctui.ops import config as vm_config
from vdctui.ops import duplicates as vm_duplicates
from vdctui.ops.actions import Action

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


def _copies(d: DuplicateDefinition) -> str:
    return ", ".join(f"{host} ({state})" for host, state in d.copies)


DUPLICATE_COLUMNS: list[Column] = [("vm", lambda d: d.vm), ("defined on", _copies)]


@click.command("duplicates")
@pass_cli
def duplicates(cli: CliContext) -> None:
    """VMs defined on more than one host (flagged; another tool's migration can leave a
    shut-off copy behind), with the state of each copy."""

    async def body(console: Console) -> list[DuplicateDefinition]:
        return await vm_duplicates.duplicates(console)

    found = cli.run(body)
    if cli.as_json:
        print_json([{"vm": d.vm, "copies": dict(d.copies)} for d in found])
        return
    print_list(found, DUPLICATE_COLUMNS, as_json=False, empty="No VM is defined on two hosts.")
    if found:
        say("DUPLICATE: remove a shut-off stale copy with `vdctui vm remove-copy VM --host HOST`")


@click.command("remove-copy")
@click.argument("vm")
@click.option("--host", required=True, help="The host whose shut-off copy is removed.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_cli
def remove_copy(cli: CliContext, vm: str, host: str, yes: bool) -> None:
    """Undefine the shut-off copy of a VM defined on two hosts, on HOST only; asks first."""
    if not yes:
        cli.require(Action.VM_REMOVE_COPY, vm)
        confirm(f"Undefine the copy of {vm} on {host} (only a shut-off copy is removed)?")

    async def body(console: Console) -> None:
        await vm_duplicates.remove_copy(console, vm, host)

    cli.run(body)
    say(f"{vm}: the copy on {host} is undefined")


COMMANDS = (xml, config, autostart, duplicates, remove_copy)
