"""`vdctui ha ...`: watch hosts' heartbeats, fence a host, restart a failed host's VMs."""

from __future__ import annotations

import asyncio

import click

from vdctui import checks
from vdctui.cli.context import CliContext, confirm, fail, pass_cli
from vdctui.cli.output import print_json, say
from vdctui.cli.params import FiniteNumber, WholeNumber
from vdctui.cli.stepping import ctrl_c_stops
from vdctui.ops import Console
from vdctui.ops.actions import Action
from vdctui.ops.ha import HaMonitor, RestartOutcome, fence, restart_vms_of


@click.group()
def ha() -> None:
    """High availability: failed hosts and restarting their VMs elsewhere."""


class _VmLines:
    """Each VM restarted (or not) in one line as it comes, under the host it left, as
    `ha restart` says them; the lines not heard as they came, after."""

    def __init__(self) -> None:
        self.host = ""
        self.said: set[str] = set()

    def say(self, host: str, line: str) -> None:
        if host != self.host:
            self.host = host
            say(f"restarting the VMs of {host}:")
        self.said.add(line)
        say(f"  {line}")

    def not_heard(self, outcomes: list[RestartOutcome]) -> None:
        for line in (o.line() for o in outcomes):
            if line not in self.said:
                say(f"  {line}")
        self.host = ""
        self.said.clear()


@ha.command("watch")
@click.option(
    "--interval",
    type=FiniteNumber(0.1, checks.MAX_INTERVAL_S, "seconds"),
    default=10.0,
    show_default=True,
    help="Seconds between heartbeat rounds.",
)
@click.option(
    "--missed",
    type=WholeNumber(1, 1000),
    default=3,
    show_default=True,
    help="Missed heartbeats before a host is declared failed.",
)
@click.option(
    "--rounds",
    type=WholeNumber(1, 1_000_000),
    default=6,
    show_default=True,
    help="Heartbeat rounds to run, then stop.",
)
@click.option("--no-restart", is_flag=True, help="Report only; restart nothing.")
@click.option(
    "--fence",
    "auto_fence",
    is_flag=True,
    help="Fence (through its BMC) a failed host that ran VMs before restarting them (admin).",
)
@pass_cli
def watch(
    cli: CliContext, interval: float, missed: int, rounds: int, no_restart: bool, auto_fence: bool
) -> None:
    """Check heartbeats every INTERVAL seconds; restart the VMs of failed, fenced hosts.

    With --fence, a failed host that ran VMs is fenced first (once per failure); a fence
    that is not confirmed restarts nothing."""
    if no_restart and auto_fence:
        raise click.UsageError("--fence goes with restarts: drop --no-restart.")
    if not no_restart:
        cli.require(Action.HA_WATCH_RESTART, "fleet")
    if auto_fence:
        cli.require(Action.HOST_POWER_OFF, "fleet", {"reason": "ha-fence"})

    lines = _VmLines()

    async def body(console: Console) -> list[RestartOutcome]:
        monitor = HaMonitor(
            console,
            missed_intervals=missed,
            auto_restart=not no_restart,
            auto_fence=auto_fence,
            note=None if cli.as_json else lines.say,
        )
        everything: list[RestartOutcome] = []
        for k in range(rounds):
            findings = await monitor.look()
            if not cli.as_json:
                say(f"round {k + 1}: {len(findings)} host(s) not answering")
                for f in findings:
                    say(f"{f.host}: {f.state}, {f.note}")
            outcomes = await monitor.restart(findings)
            everything += outcomes
            if not cli.as_json:
                lines.not_heard(outcomes)
            if k + 1 < rounds:
                await asyncio.sleep(interval)
        return everything

    outcomes = cli.run(body, shares=True)
    if cli.as_json:
        print_json(outcomes)
    if outcomes and not any(o.target for o in outcomes):
        fail(f"None of the {len(outcomes)} VM(s) to restart was restarted.")


@ha.command("fence")
@click.argument("host")
@click.option("--yes", is_flag=True, help="Do not ask first (for scripts).")
@pass_cli
def fence_host(cli: CliContext, host: str, yes: bool) -> None:
    """Power HOST off out of band, so it is known down (its VMs stop).

    A real host is fenced through its BMC (inventory `bmc` keys): ForceOff, then the BMC
    must report the power Off; anything less is a failed fence and nothing restarts."""
    cli.require(Action.HOST_POWER_OFF, host, {"reason": "fence"})
    if not yes:
        confirm(f"Power off host {host} and every VM still running on it?")

    async def body(console: Console) -> str:
        return await fence(console, host)

    how = cli.run(body, shares=True)
    say(f"Host {host} is powered off (fenced): {how}.")


@ha.command("restart")
@click.argument("host")
@click.option(
    "--confirmed-down",
    is_flag=True,
    help="You know HOST is down (a real host the console cannot fence).",
)
@click.option("--yes", is_flag=True, help="Do not ask first (for scripts).")
@pass_cli
def restart(cli: CliContext, host: str, confirmed_down: bool, yes: bool) -> None:
    """Restart elsewhere the VMs that ran on failed HOST (refused unless it is fenced)."""
    cli.require(Action.HA_RESTART_HOST, host, {"confirmed": confirmed_down})
    if confirmed_down and not yes:
        confirm(f"Is host {host} really down? Two copies of its VMs would corrupt their disks")

    said: list[str] = []

    def note(line: str) -> None:  # each VM's outcome as it comes
        said.append(line)
        say(line)

    async def body(console: Console) -> list[RestartOutcome]:
        with ctrl_c_stops(f"restarting the VMs of {host}") as started:
            return await restart_vms_of(
                console,
                host,
                confirmed=confirmed_down,
                note=None if cli.as_json else note,
                started=started,
            )

    outcomes = cli.run(body, shares=True)
    if cli.as_json:
        print_json(outcomes)
    for o in outcomes:
        if not cli.as_json and o.line() not in said:  # not heard as it came
            say(o.line())
    if outcomes and not any(o.target for o in outcomes):
        fail(f"None of the {len(outcomes)} VM(s) of {host} was restarted.")
