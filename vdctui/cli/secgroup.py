"""`vdctui secgroup create|delete|rule add|rule remove|attach|detach|list`: security groups."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import click

from vdctui.cli.context import CliContext, confirm, pass_cli
from vdctui.cli.output import print_json, say
from vdctui.model import FlowCounts, SecurityGroup
from vdctui.ops import Console
from vdctui.ops import secgroups as sg
from vdctui.ops.actions import Action


@click.group()
def secgroup() -> None:
    """Security groups: allow rules on VMs' interfaces (libvirt nwfilter)."""


def _change(
    cli: CliContext,
    action: Action,
    target: str,
    params: dict[str, Any],
    body: Callable[[Console], Awaitable[Any]],
) -> Any:
    cli.require(action, target, params)
    return cli.run(body)


@secgroup.command("create")
@click.argument("name")
@click.option("--description", default="", help="What the group is for.")
@pass_cli
def create(cli: CliContext, name: str, description: str) -> None:
    """Create a security group (no rules: attached, it lets nothing through)."""
    _change(cli, Action.SECGROUP_CREATE, name, {}, lambda c: sg.create(c, name, description))
    say(f"Security group {name} created.")


@secgroup.command("delete")
@click.argument("name")
@click.option("--detach", is_flag=True, help="Detach it from its VMs, remove rules naming it.")
@click.option("--yes", is_flag=True, help="Do not ask (scripts).")
@pass_cli
def delete(cli: CliContext, name: str, detach: bool, yes: bool) -> None:
    """Delete a security group (refused while in use, unless --detach), after asking."""
    cli.require(Action.SECGROUP_DELETE, name, {"detach": detach})

    async def find(console: Console) -> tuple[SecurityGroup | None, str | None]:
        group = console.store.secgroup(name)
        return group, None if group is None else sg.in_use(console.store, group)

    group, why = cli.run(find, sync=False, fleet=False)
    if not yes and group is not None and (detach or why is None):
        also = f" ({why}: detached, those rules removed)" if why else ""
        confirm(f"Delete security group {name}{also}?")
    cli.run(lambda c: sg.delete(c, name, detach=detach))
    say(f"Security group {name} deleted.")


@secgroup.group("rule")
def rule() -> None:
    """Add or remove a group's allow rules."""


@rule.command("add")
@click.argument("group")
@click.option("--direction", type=click.Choice(sg.DIRECTIONS), default="ingress", show_default=True)
@click.option("--protocol", type=click.Choice(sg.PROTOCOLS), default="tcp", show_default=True)
@click.option("--ports", help="N or N-M (tcp, udp); every port when not given.")
@click.option("--remote", default="0.0.0.0/0", show_default=True, help="CIDR or group:NAME.")
@pass_cli
def rule_add(
    cli: CliContext, group: str, direction: str, protocol: str, ports: str | None, remote: str
) -> None:
    """Allow traffic in a direction, protocol and ports, from/to a CIDR or a group."""
    params = {"direction": direction, "protocol": protocol, "ports": ports, "remote": remote}
    rule_id = _change(
        cli,
        Action.SECGROUP_RULE_ADD,
        group,
        params,
        lambda c: sg.add_rule(c, group, direction, protocol, ports, remote),
    )
    say(f"Rule {rule_id} added to {group}.")


@rule.command("remove")
@click.argument("rule_id", type=click.IntRange(1, 2**31))
@pass_cli
def rule_remove(cli: CliContext, rule_id: int) -> None:
    """Remove a rule by its number (`secgroup list` shows them)."""
    _change(
        cli, Action.SECGROUP_RULE_REMOVE, str(rule_id), {}, lambda c: sg.remove_rule(c, rule_id)
    )
    say(f"Rule {rule_id} removed.")


@secgroup.command("attach")
@click.argument("group")
@click.argument("vm")
@pass_cli
def attach(cli: CliContext, group: str, vm: str) -> None:
    """Put a VM in a group: its interface lets through only what its groups allow."""
    _change(cli, Action.SECGROUP_ATTACH, vm, {"group": group}, lambda c: sg.attach(c, group, vm))
    say(f"{vm} is in security group {group}.")


@secgroup.command("detach")
@click.argument("group")
@click.argument("vm")
@pass_cli
def detach(cli: CliContext, group: str, vm: str) -> None:
    """Take a VM out of a group."""
    _change(
        cli,
        Action.SECGROUP_DETACH,
        vm,
        {"group": group},
        lambda c: sg.attach(c, group, vm, on=False),
    )
    say(f"{vm} is no longer in security group {group}.")


@secgroup.command("refresh")
@pass_cli
def refresh(cli: CliContext) -> None:
    """Write again the filters of VMs whose rules name a remote group (real hosts: with
    the members' addresses as their hosts know them now)."""
    cli.require(Action.SECGROUP_REFRESH, "secgroups", {})
    count = cli.run(sg.refresh)
    say(f"Filters of {count} VM(s) with remote-group rules written again.")


@secgroup.command("list")
@pass_cli
def list_groups(cli: CliContext) -> None:
    """Groups, their rules (with the flows each let through, when the fleet counts them)
    and the VMs they cover."""

    async def body(console: Console) -> tuple[list[SecurityGroup], FlowCounts | None]:
        # None where nothing is counted (real hosts whose iptables the SSH user cannot read)
        return console.store.secgroups(), await sg.flow_counts(console)

    groups, counts = cli.run(body)
    if cli.as_json:
        print_json(
            [
                {
                    "group": g,
                    "flows_by_rule": None
                    if counts is None
                    else {r.id: counts.by_rule.get(r.id, 0) for r in g.rules},
                }
                for g in groups
            ]
        )
        return
    if not groups:
        say("No security groups.")
        return
    for g in groups:
        say(f"{g.name}" + (f"  ({g.description})" if g.description else ""))
        for r in g.rules:
            flows = "—" if counts is None else f"{counts.by_rule.get(r.id, 0):,}"
            say(f"  rule {r.id}: {r.describe()}  flows allowed: {flows}")
        if not g.rules:
            say("  no rules: its VMs let nothing through")
        say(f"  VMs: {', '.join(g.members) or 'none'}")
