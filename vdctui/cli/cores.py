"""`vdctui host cores NAME` (the core map) and `vdctui vm cpu-policy NAME shared|dedicated`."""

from __future__ import annotations

import click

from vdctui.cli.context import CliContext, confirm, fail, pass_cli
from vdctui.cli.output import print_json, say
from vdctui.model import CpuPolicy, CpuTopology, NumaPolicy, PinDrift, ThreadPolicy, VmCpus
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


@click.command("pins")
@click.argument("name")
@click.option("--repair", is_flag=True, help="Pin every drifting VM again, as held.")
@pass_cli
def host_pins(cli: CliContext, name: str, repair: bool) -> None:
    """Compare the pins of the host's VMs (as its hypervisor says now) with what the
    console holds: dedicated VMs' vCPUs, emulator and memory; shared VMs off dedicated and
    reserved CPUs. Drift is listed and audited; --repair pins them again (exit 1 on drift
    left)."""
    from vdctui.ops import pin_drift

    if repair:
        cli.require(Action.HOST_PINS_REPAIR, name, {})

    async def body(console: Console) -> list[PinDrift]:
        if repair:
            return await pin_drift.repair(console, name)
        return await pin_drift.check(console, name)

    drift = cli.run(body)
    if cli.as_json:
        print_json(drift)
    elif not drift:
        say(f"Every VM on {name} is pinned as held.")
    for d in [] if cli.as_json else drift:
        say(f"{d.vm}: {d.what}" + (" (repaired)" if d.repaired else ""))
    if any(not d.repaired for d in drift):
        raise SystemExit(1)


@click.command("reserve-cpus")
@click.argument("name")
@click.argument("cpus")
@click.option("--yes", is_flag=True, help="Do not ask first (for scripts).")
@pass_cli
def host_reserve_cpus(cli: CliContext, name: str, cpus: str, yes: bool) -> None:
    """Name the CPUs the host keeps for itself (e.g. 0-1, or none): no VM's vCPU is pinned
    there, dedicated VMs' emulator threads are, shared VMs float off them. Refused when the
    host lacks one, a dedicated VM holds one, or none would be left for VMs."""
    from vdctui.ops.errors import Refused
    from vdctui.ops.reserved_cpus import parse_cpus, reserve_cpus

    cli.require(Action.HOST_RESERVE_CPUS, name, {"cpus": cpus[:80]})
    try:
        chosen: tuple[int, ...] | str = parse_cpus(cpus)
    except Refused:
        chosen = cpus  # refused (and audited) through the door, said in one sentence
    if not yes and not isinstance(chosen, str):
        confirm(f"Host {name} keeps CPUs {cpu_list(chosen) or 'none'} for itself from now on?")

    async def body(console: Console) -> CpuTopology:
        return await reserve_cpus(console, name, chosen)

    done = cli.run(body)
    if cli.as_json:
        print_json([done])
    else:
        say(f"Host {name} keeps CPUs {cpu_list(done.reserved) or 'none'} for itself.")
