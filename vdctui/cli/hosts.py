"""`vdctui host ...`: the physical side."""

from __future__ import annotations

import click

from vdctui.cli.context import CliContext, pass_cli
from vdctui.cli.output import Column, print_list
from vdctui.model import Host
from vdctui.ops import Console
from vdctui.units import format_mib

HOST_COLUMNS: list[Column] = [
    ("name", lambda h: h.name),
    ("state", lambda h: h.state),
    ("rack", lambda h: h.rack),
    ("room", lambda h: h.room),
    ("model", lambda h: h.model),
    ("cpus", lambda h: h.cpus),
    ("memory", lambda h: format_mib(h.memory_mib)),
    ("vms", lambda h: h.vm_count),
    ("cpu%", lambda h: f"{100 * h.cpu_util:.0f}"),
    ("mem used", lambda h: format_mib(h.memory_used_mib)),
    ("watts", lambda h: f"{h.power_watts:.0f}"),
]


@click.group()
def host() -> None:
    """Hypervisor hosts."""


@host.command("list")
@click.option("--rack", help="Only hosts in this rack.")
@click.option("--state", help="Only hosts in this state (up, off, crashed, unreachable).")
@pass_cli
def list_hosts(cli: CliContext, rack: str | None, state: str | None) -> None:
    """List hosts with their facts and what they do now."""

    async def body(console: Console) -> list[Host]:
        return [h for h in console.hosts()
                if (rack is None or h.rack == rack) and (state is None or h.state == state)]

    print_list(cli.run(body), HOST_COLUMNS, as_json=cli.as_json, empty="No hosts match.")
