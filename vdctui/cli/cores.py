"""`vdctui host cores NAME` (the core map) and `vdctui vm cpu-policy NAME shared|dedicated`."""

from __future__ import annotations

import click

from vdctui.cli.context import CliContext, fail, pass_cli
from vdctui.cli.output import print_json, say
from vdctui.model import CpuPolicy, NumaPolicy, ThreadPolicy, VmCpus
from vdctui.ops import Console
from vdctui.ops.actions import Action
from vdctui.ops.core_map import HostCores, cpu_list, grid_lines, of_store


@click.command("cores")
@click.argument("name")
@pass_cli
def host_cores(cli: CliContext, name: str) -> None:
    """The host's cores: NUMA nodes, reserved CPUs, which VM's vCPUs hold which CPU."""

    async def body(console: Console) -> HostCores | None:
        console.host(name)  # an unknown host is an error
        return of_store(console.store, name)

    cores = cli.run(body, reads=True)
    if cores is None:
        fail(f"The CPU topology of host {name} is not known yet (it has not answered a sync).")
    if cli.as_json:
        print_json([cores])
        return
    say(
        f"Host {cores.host}: {len(cores.nodes)} NUMA nodes, "
        f"{sum(len(n.cores) for n in cores.nodes)} cores, "
        f"{sum(len(c) for n in cores.nodes for c in n.cores)} CPUs"
        + (f" (from the {cores.source})" if cores.source else "")
    )
    for line in grid_lines(cores):
        say(line)


@click.command("cpu-policy")
@click.argument("name")
@click.argument("policy", type=click.Choice([p.value for p in CpuPolicy]))
@click.option(
    "--threads",
    type=click.Choice([t.value for t in ThreadPolicy]),
    default=ThreadPolicy.PREFER.value,
    show_default=True,
    help="dedicated: isolate gives each vCPU a whole core (its sibling idle).",
)
@click.option(
    "--numa",
    type=click.Choice([n.value for n in NumaPolicy]),
    default=NumaPolicy.ONE.value,
    show_default=True,
    help="dedicated: spread lets it span NUMA nodes when no one node holds it.",
)
@pass_cli
def vm_cpu_policy(cli: CliContext, name: str, policy: str, threads: str, numa: str) -> None:
    """Make a VM dedicated (each vCPU pinned to a CPU of its own on its host, in one NUMA
    node, its memory bound there) or shared again (floating over the host's shared CPUs)."""
    from vdctui.ops.cores import set_policy

    params = {"policy": policy, "threads": threads, "numa": numa}
    cli.require(Action.VM_CPU_POLICY, name, params)

    async def body(console: Console) -> VmCpus:
        chosen = ThreadPolicy(threads), NumaPolicy(numa)
        return await set_policy(console, name, CpuPolicy(policy), *chosen)

    done = cli.run(body)
    if cli.as_json:
        print_json([done])
    elif done.dedicated:
        where = "spread over NUMA nodes" if done.node is None else f"NUMA node {done.node}"
        say(
            f"{name} is dedicated on {done.host}: vCPUs on CPUs {cpu_list(done.vcpu_pins)} "
            f"({where}), emulator on {cpu_list(done.emulator_pins) or '—'}."
        )
    else:
        say(f"{name} is shared: it floats over the shared CPUs of {done.host}.")


def add_core_commands(host: click.Group, vm: click.Group) -> None:
    host.add_command(host_cores)
    vm.add_command(vm_cpu_policy)
