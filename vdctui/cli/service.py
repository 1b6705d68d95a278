"""`vdctui service create|member add|member remove|drain|enable|list`: application
delivery (services behind the load balancer)."""

from __future__ import annotations

import click

from vdctui.cli.context import CliContext, pass_cli
from vdctui.cli.output import print_json, say
from vdctui.escape import for_terminal
from vdctui.model import BALANCING_METHODS, HEALTH_CHECKS, ServiceStatus
from vdctui.ops import Console
from vdctui.ops.services import (
    add_member,
    create_service,
    remove_member,
    set_member,
    statuses,
)


def member_arg(text: str) -> tuple[str, int | None]:
    """`VM` or `VM:PORT`."""
    vm, _, port = text.rpartition(":")
    if not vm:
        return text, None
    if not port.isdigit():
        raise click.BadParameter(f"{text!r}: a member is VM or VM:PORT.")
    return vm, int(port)


@click.group()
def service() -> None:
    """Services behind the load balancer: a VIP and port, a method, members."""


@service.command("create")
@click.argument("name")
@click.option("--vip", required=True, help="The virtual IP users connect to.")
@click.option("--port", type=int, required=True, help="Its port.")
@click.option("--method", type=click.Choice(BALANCING_METHODS), default="roundrobin")
@click.option("--check", type=click.Choice(HEALTH_CHECKS), default="tcp", help="Health check.")
@click.option("--rate", type=float, default=None, help="Emulated: requests/s it receives.")
@pass_cli
def create(
    cli: CliContext, name: str, vip: str, port: int, method: str, check: str, rate: float | None
) -> None:
    """Define a service (then add members)."""

    async def body(console: Console) -> None:
        await create_service(
            console, name, vip=vip, port=port, method=method, check=check, rate=rate
        )

    cli.run(body, shares=True)
    say(f"Service {name} created: {vip}:{port}, {method}, {check} check.")


@service.group("member")
def member() -> None:
    """A service's members: VM + port, weight."""


@member.command("add")
@click.argument("name")
@click.argument("vm")
@click.option("--port", type=int, required=True)
@click.option("--weight", type=int, default=100, show_default=True, help="0 to 256.")
@pass_cli
def member_add(cli: CliContext, name: str, vm: str, port: int, weight: int) -> None:
    """VM joins service NAME on PORT."""

    async def body(console: Console) -> None:
        await add_member(console, name, vm, port, weight=weight)

    cli.run(body, shares=True)
    say(f"{vm}:{port} joined {name} (weight {weight}).")


@member.command("remove")
@click.argument("name")
@click.argument("member_text", metavar="VM[:PORT]")
@click.option("--force", is_flag=True, help="Even if it is the last healthy member.")
@pass_cli
def member_remove(cli: CliContext, name: str, member_text: str, force: bool) -> None:
    """Take a member out of service NAME."""
    vm, port = member_arg(member_text)

    async def body(console: Console) -> None:
        await remove_member(console, name, vm, port, force=force)

    cli.run(body, shares=True)
    say(f"{member_text} left {name}.")


def _set(cli: CliContext, name: str, member_text: str, state: str, force: bool) -> None:
    vm, port = member_arg(member_text)

    async def body(console: Console) -> None:
        await set_member(console, name, vm, port, state=state, force=force)

    cli.run(body, shares=True)
    say(f"{name}: {member_text} set to {state}.")


@service.command("drain")
@click.argument("name")
@click.argument("member_text", metavar="VM[:PORT]")
@click.option("--maint", is_flag=True, help="Maintenance: no traffic at all, at once.")
@click.option("--force", is_flag=True, help="Even if it is the last healthy member.")
@pass_cli
def drain(cli: CliContext, name: str, member_text: str, maint: bool, force: bool) -> None:
    """Drain a member: no new sessions; the ones it holds finish."""
    _set(cli, name, member_text, "maint" if maint else "drain", force)


@service.command("enable")
@click.argument("name")
@click.argument("member_text", metavar="VM[:PORT]")
@pass_cli
def enable(cli: CliContext, name: str, member_text: str) -> None:
    """Put a member back in service (ready)."""
    _set(cli, name, member_text, "ready", False)


def _figure(value: float | int | None, fmt: str = "{:.0f}") -> str:
    return "—" if value is None else fmt.format(value)


@service.command("list")
@pass_cli
def list_services(cli: CliContext) -> None:
    """Services and their members: state, health, weight, sessions, requests/s."""

    async def body(console: Console) -> list[ServiceStatus]:
        return await statuses(console)

    rows = cli.run(body)
    if cli.as_json:
        print_json(rows)
        return
    if not rows:
        say("No services.")
        return
    for status in rows:
        s = status.service
        say(
            f"{s.name}  {s.vip}:{s.port}  {s.method}  check {s.check}  "
            f"req/s {_figure(status.req_s)}  errors {_figure(status.error_rate, '{:.2%}')}  "
            f"failed {_figure(status.failed)}"
        )
        for m in status.members:
            healthy = "—" if m.healthy is None else ("healthy" if m.healthy else "failing")
            say(
                f"  {for_terminal(m.vm)}:{m.port}  {m.state.value:<5}  {healthy:<7}  "
                f"weight {m.weight}  sessions {_figure(m.sessions)}  req/s {_figure(m.req_s)}"
            )
