"""`vdctui alert list|inject|quarantine`: intrusion alerts from the fleet's flows."""

from __future__ import annotations

import click

from vdctui.cli.context import CliContext, confirm, fail, pass_cli
from vdctui.cli.output import print_json, say
from vdctui.model import Alert
from vdctui.ops import Console, Refused
from vdctui.ops.actions import Action
from vdctui.ops.intrusion import Thresholds, inject_attack, quarantine_alert, scan_recent

ATTACKS = ("port-scan", "brute-force", "internal-sweep")
DEFAULT = Thresholds()


@click.group()
def alert() -> None:
    """Intrusion alerts (emulated fleet: detected from its flows; real hosts: none)."""


@alert.command("list")
@click.option(
    "--window", type=click.FloatRange(1, 3600), default=DEFAULT.window_s, show_default=True
)
@click.option("--ports", type=click.IntRange(1), default=DEFAULT.ports, show_default=True)
@click.option("--attempts", type=click.IntRange(1), default=DEFAULT.attempts, show_default=True)
@click.option("--addresses", type=click.IntRange(1), default=DEFAULT.addresses, show_default=True)
@click.option(
    "--last",
    type=click.FloatRange(60, 86_400),
    default=3600.0,
    show_default=True,
    help="Seconds of flows to scan (of the fleet's time).",
)
@pass_cli
def list_alerts(
    cli: CliContext, window: float, ports: int, attempts: int, addresses: int, last: float
) -> None:
    """Detect in the flows not scanned yet, then list every alert (new ones are audited).
    A source over a threshold within the window is an attack: distinct ports of one
    address (scan), connections to one port (brute force), internal addresses (sweep)."""
    limits = Thresholds(window, ports, attempts, addresses)

    async def body(console: Console) -> tuple[list[Alert], str]:
        note = ""
        try:
            await scan_recent(console, last, limits)
        except Refused as exc:
            note = str(exc)
        return console.store.alerts(), note

    alerts, note = cli.run(body)
    if note:
        say(f"vdctui: {note}", err=True)
    if cli.as_json:
        print_json(alerts)
        return
    if not alerts:
        say("No alerts.")
    for a in alerts:
        say(f"{a.id:>4}  {a.state:<11} {a.kind:<14} {a.vm or '—':<12} {a.detail}")


@alert.command("inject")
@click.argument("kind", type=click.Choice(ATTACKS))
@click.argument("target", metavar="VM")
@click.option("--source", default="203.0.113.66", show_default=True, help="Attacker address.")
@pass_cli
def inject(cli: CliContext, kind: str, target: str, source: str) -> None:
    """Emulated fleet: start an attack on VM (internal-sweep: from VM) now."""
    cli.require(Action.FAULT_ATTACK, target, {"kind": kind})

    async def body(console: Console) -> None:
        await inject_attack(console, kind, target, source)

    cli.run(body)
    say(f"{kind} injected on {target}; `vdctui emulate --for 2m` then `vdctui alert list`.")


@alert.command("quarantine")
@click.argument("alert_id", type=click.IntRange(1))
@click.option("--yes", is_flag=True, help="Do not ask (scripts).")
@pass_cli
def quarantine(cli: CliContext, alert_id: int, yes: bool) -> None:
    """Answer an alert: cut its VM off (nothing in, nothing out), after confirming."""
    cli.require(Action.VM_QUARANTINE, str(alert_id), {"alert": alert_id})

    async def find(console: Console) -> Alert | None:
        return next((a for a in console.store.alerts() if a.id == alert_id), None)

    found = cli.run(find, sync=False, fleet=False)
    if found is None or found.vm is None:
        fail(f"There is no alert {alert_id} with a VM to quarantine.")
    vm = found.vm
    if not yes:
        confirm(f"Quarantine {vm} (alert {alert_id}: {found.kind}): it loses all traffic?")

    async def body(console: Console) -> None:
        await quarantine_alert(console, alert_id)

    cli.run(body)
    say(
        f"{vm} is in quarantine (alert {alert_id}); "
        f"`vdctui secgroup detach quarantine {vm}` ends it."
    )
