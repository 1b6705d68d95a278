"""`vdctui vm ...`: list, lifecycle, resize, create, affinity (migrate: vdctui.cli.vm_migrate)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import click

from vdctui import checks
from vdctui.cli.context import CliContext, confirm, pass_cli
from vdctui.cli.lazy import LazyGroup
from vdctui.cli.output import nothing_matches, print_list, say
from vdctui.cli.params import Name, WholeNumber
from vdctui.cli.seen import VM_FIGURES, Refresh, Seen, print_seen, seen_vms, vm_columns
from vdctui.columns import VM_COLUMNS
from vdctui.model import Vm, VmState
from vdctui.ops import services_on_demand as on_demand
from vdctui.ops.actions import Action
from vdctui.units import format_mib, parse_memory_mib

if TYPE_CHECKING:
    from vdctui.ops import Console
    from vdctui.ops.reads import FleetReads


def _state(_ctx: click.Context, _param: click.Parameter, value: str | None) -> VmState | None:
    if value is None:
        return None
    try:
        return VmState.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _memory(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_memory_mib(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


# Any whole number ops can judge (and audit): out of the VM's range is its refusal.
ANY_COUNT = WholeNumber(-checks.MAX_PLAIN_INT, checks.MAX_PLAIN_INT)


@click.group(cls=LazyGroup)
def vm() -> None:
    """Virtual machines: list, start/stop, resize, create, migrate."""


@vm.command("list")
@click.option("--host", help="Only VMs on this host.")
@click.option("--state", callback=_state, help="Only VMs in this state (running, shutoff, ...).")
@click.option("--pool", help="Only VMs in this pool.")
@pass_cli
def list_vms(cli: CliContext, host: str | None, state: VmState | None, pool: str | None) -> None:
    """List VMs as last seen, after a sync with the fleet."""

    def body(console: FleetReads) -> tuple[list[Seen], float, Refresh]:
        if host is not None:
            console.host(host)  # an unknown host is an error, not an empty list
        vms = console.vms(host=host, state=state, pool=pool)
        return seen_vms(console, vms), console.store_now(), Refresh.of(console)

    filters = {"host": host, "state": state, "pool": pool}
    empty = nothing_matches("VM", filters, empty="No VMs.")
    rows, now, refresh = cli.read(body)
    columns = vm_columns(VM_COLUMNS, now)
    note = refresh.figures_note(VM_FIGURES, now)
    print_seen(rows, columns, as_json=cli.as_json, empty=empty, note=note)
    refresh.warn_and_exit()


def _lifecycle(verb: str, method: str, doc: str, *, disruptive: bool) -> click.Command:
    action = Action[f"VM_{verb.upper()}"]  # a verb without an action fails at import

    @click.argument("name")
    @pass_cli
    def command(cli: CliContext, name: str, yes: bool = False, force: bool = False) -> None:
        if disruptive and not yes:
            cli.require(action, name)  # refused before it asks
            confirm(f"{verb.capitalize()} VM {name}?")

        async def body(console: Console) -> Vm:
            with on_demand.drain.forced() if force else contextlib.nullcontext():
                return await getattr(console, method)(name)  # type: ignore[no-any-return]

        done = cli.run(body, shares=True)
        say(f"{done.name}: {done.state}" + (f" on {done.host}" if done.host else ""))

    command.__doc__ = doc
    if disruptive:
        command = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")(
            command
        )
        command = click.option(
            "--force", is_flag=True, help="Even if it is a service's last healthy member."
        )(command)
    return vm.command(verb)(command)


for _verb, _method, _doc, _disruptive in [
    ("start", "start_vm", "Start a VM that is shut off.", False),
    ("stop", "stop_vm", "Shut a VM down cleanly (the guest takes its time); asks first.", True),
    (
        "destroy",
        "destroy_vm",
        "Power a VM off at once, like pulling the plug (it stays defined); asks first.",
        True,
    ),
    ("reboot", "reboot_vm", "Reboot a running VM; asks first.", True),
    ("suspend", "suspend_vm", "Pause a running VM (it keeps its memory).", False),
    ("resume", "resume_vm", "Resume a paused VM.", False),
]:
    _lifecycle(_verb, _method, _doc, disruptive=_disruptive)


@vm.command()
@click.argument("name")
@click.option("--vcpus", type=ANY_COUNT, help="New number of vCPUs.")
@click.option("--memory", callback=_memory, help="New memory size (e.g. 8GiB, 512MiB).")
@pass_cli
def resize(cli: CliContext, name: str, vcpus: int | None, memory: int | None) -> None:
    """Change a VM's vCPUs and/or memory, live, within its maxima and its host's room."""

    async def body(console: Console) -> Vm:
        return await console.resize_vm(name, vcpus=vcpus, memory_mib=memory)

    done = cli.run(body, shares=True)
    say(f"{done.name}: {done.vcpus} vCPUs, {format_mib(done.memory_mib)}")


@vm.command()
@click.argument("name", type=Name("VM"))
@click.option("--flavor", required=True, help="A flavor (see the flavors in `vdctui pool list`).")
@click.option("--pool", required=True, help="The resource pool the VMs belong to.")
@click.option(
    "--count",
    type=WholeNumber(1, checks.MAX_VMS_AT_ONCE),
    default=1,
    show_default=True,
    help="How many; NAME-01, NAME-02, ... when more than one.",
)
@click.option("--no-start", is_flag=True, help="Define the VMs but leave them shut off.")
@pass_cli
def create(cli: CliContext, name: str, flavor: str, pool: str, count: int, no_start: bool) -> None:
    """Create VMs from a flavor into a pool (placed on the first host with room)."""

    async def body(console: Console) -> list[Vm]:
        return await console.create_vms(
            name, flavor=flavor, pool=pool, count=count, start=not no_start
        )

    created = cli.run(body, shares=True)
    if cli.as_json:
        print_list(created, VM_COLUMNS, as_json=True, empty="")
        return
    for one in created:
        say(f"{one.name}: {one.state} on {one.host}")


@vm.command()
@click.argument("group", type=Name("affinity group"))
@click.argument("members", nargs=-1, required=True)
@click.option(
    "--kind",
    type=click.Choice(["same-host", "different-hosts", "different-racks"]),
    required=True,
    help="Keep the VMs together, apart, or in different racks.",
)
@pass_cli
def affinity(cli: CliContext, group: str, members: tuple[str, ...], kind: str) -> None:
    """Put VMs in an affinity group the scheduler honours from now on (create, migrate,
    evacuate, HA restart); running VMs are not moved by it."""

    async def body(console: Console) -> None:
        await console.set_affinity_group(group, kind, list(members))

    cli.run(body, shares=True)
    say(f"affinity group {group}: {kind} for {', '.join(members)}")
