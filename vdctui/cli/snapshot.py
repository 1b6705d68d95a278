"""`vdctui vm snapshot ...`: create, list (as a tree), revert, delete, and the space they hold."""

from __future__ import annotations

import click

from vdctui.cli.context import CliContext, confirm, pass_cli
from vdctui.cli.output import print_list, say
from vdctui.model import Snapshot
from vdctui.ops import Console
from vdctui.ops import snapshots as snaps
from vdctui.ops.actions import Action
from vdctui.snapshot_rows import SNAPSHOT_COLUMNS, SPACE_COLUMNS, listed
from vdctui.units import parse_duration_s


def _older_than(_ctx: click.Context, _param: click.Parameter, value: str) -> float:
    try:
        return parse_duration_s(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


OLDER_THAN = click.option(
    "--older-than",
    default="7d",
    show_default=True,
    callback=_older_than,
    help="Flag snapshots older than this (30m, 12h, 7d).",
)


@click.group()
def snapshot() -> None:
    """A VM's snapshots: create, list as a tree, revert, delete; their space per datastore."""


@snapshot.command("create")
@click.argument("vm")
@click.argument("name")
@click.option("--description", default="", help="What the snapshot is for.")
@click.option(
    "--disk-only",
    is_flag=True,
    help="Only the disk: a running VM's memory is not kept (reverting boots it shut off).",
)
@pass_cli
def create(cli: CliContext, vm: str, name: str, description: str, disk_only: bool) -> None:
    """Take a snapshot of VM (with its memory when it runs, unless --disk-only)."""

    async def body(console: Console) -> Snapshot:
        return await snaps.create_snapshot(
            console, vm, name, description=description, disk_only=disk_only
        )

    made = cli.run(body)
    what = "with memory" if made.memory else "disk only"
    say(f"{vm}: snapshot {made.name} taken ({made.vm_state}, {what})")


@snapshot.command("list")
@click.argument("vm", required=False)
@OLDER_THAN
@pass_cli
def list_snapshots(cli: CliContext, vm: str | None, older_than: float) -> None:
    """VM's snapshots as a tree (children indented under their parent, * the current one);
    without VM, every VM's. Snapshots older than --older-than say OLD."""

    async def body(console: Console) -> tuple[list[Snapshot], list[str], float]:
        if vm is not None:
            return await snaps.list_snapshots(console, vm), [], console.store_now()
        found, problems = await snaps.fleet_snapshots(console)
        return found, problems, console.store_now()

    found, problems, now = cli.run(body)
    for problem in problems:
        say(problem, err=True)
    empty = f"{vm} has no snapshots." if vm else "No VM has snapshots."
    rows = listed(found, now, older_than)
    print_list(rows, SNAPSHOT_COLUMNS, as_json=cli.as_json, empty=empty)


@snapshot.command("space")
@OLDER_THAN
@pass_cli
def space(cli: CliContext, older_than: float) -> None:
    """The space snapshots hold on each datastore, how many are old, the oldest's age."""

    async def body(console: Console) -> tuple[list[snaps.DatastoreSnapshots], list[str]]:
        found, problems = await snaps.fleet_snapshots(console)
        rows = snaps.space_by_datastore(
            found, snaps.capacities(console), console.store_now(), older_than
        )
        return rows, problems

    rows, problems = cli.run(body)
    for problem in problems:
        say(problem, err=True)
    print_list(rows, SPACE_COLUMNS, as_json=cli.as_json, empty="No VM has snapshots.")


def _asking(action: Action, verb: str, doc: str) -> click.Command:
    @click.argument("vm")
    @click.argument("name")
    @click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
    @pass_cli
    def command(cli: CliContext, vm: str, name: str, yes: bool) -> None:
        if not yes:
            cli.require(action, vm)  # refused before it asks
            question = {
                "revert": f"Revert VM {vm} to snapshot {name} (what it holds now is lost)?",
                "delete": f"Delete snapshot {name} of VM {vm}?",
            }[verb]
            confirm(question)

        async def body(console: Console) -> str:
            if verb == "revert":
                back = await snaps.revert_snapshot(console, vm, name)
                return f"{vm}: reverted to {name}; it is {back.state}"
            await snaps.delete_snapshot(console, vm, name)
            return f"{vm}: snapshot {name} deleted"

        say(cli.run(body))

    command.__doc__ = doc
    return snapshot.command(verb)(command)


_asking(
    Action.VM_SNAPSHOT_REVERT,
    "revert",
    "Bring VM back to snapshot NAME (a running VM's memory too); asks first.",
)
_asking(
    Action.VM_SNAPSHOT_DELETE,
    "delete",
    "Delete snapshot NAME of VM (its children move up to its parent); asks first.",
)
