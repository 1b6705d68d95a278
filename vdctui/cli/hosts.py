"""`vdctui host ...`: the physical side."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from vdctui.cli.context import CliContext, pass_cli
from vdctui.cli.lazy import LazyGroup
from vdctui.cli.output import nothing_matches
from vdctui.cli.seen import HOST_FIGURES, Refresh, Seen, host_columns, print_seen, seen_hosts
from vdctui.columns import HOST_COLUMNS

if TYPE_CHECKING:
    from vdctui.ops.reads import FleetReads


@click.group(cls=LazyGroup)
def host() -> None:
    """Hypervisor hosts."""


@host.command("list")
@click.option("--rack", help="Only hosts in this rack.")
@click.option("--state", help="Only hosts in this state (up, off, crashed, unreachable).")
@pass_cli
def list_hosts(cli: CliContext, rack: str | None, state: str | None) -> None:
    """List hosts with their facts and what they do now."""

    def body(console: FleetReads) -> tuple[list[Seen], float, Refresh]:
        hosts = [
            h
            for h in console.hosts()
            if (rack is None or h.rack == rack) and (state is None or h.state == state)
        ]
        return seen_hosts(console, hosts), console.store_now(), Refresh.of(console)

    empty = nothing_matches("host", {"rack": rack, "state": state}, empty="No hosts.")
    rows, now, refresh = cli.read(body)
    columns = host_columns(HOST_COLUMNS, now)
    note = refresh.figures_note(HOST_FIGURES, now)
    print_seen(rows, columns, as_json=cli.as_json, empty=empty, note=note)
    refresh.warn_and_exit()
