"""The balancer's power goal, both ways: the hosts it powers off are remembered as its own
(`store.power_offs`), and only those are woken again when load needs them.

A host an operator powered off, one a fence cut, one that crashed or went off by itself,
and one seen up since the balancer powered it off (someone turned it on by hand) are never
woken automatically: `why_not_wakeable` says why in one sentence. Waking is one change
through the door ("host.power-on", reason "balancer-wake"): power on through the host's
BMC (the emulator does it itself), then wait until the host answers again, bounded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from vdctui.model import Host, HostState
from vdctui.ops.actions import Action
from vdctui.ops.errors import Failed, Refused

if TYPE_CHECKING:
    from vdctui.ops.console import Console
    from vdctui.store.power_offs import PowerOff

WAIT_UP_S = 300.0  # a woken host has this long to answer (BIOS, OS, libvirtd, sshd)
WAIT_OFF_S = 120.0  # a host the balancer powered off has this long to report off
POLL_S = 1.0  # how often a waiting step syncs

Note = Callable[[str], None]


def _not_wakeable(host: Host, off: PowerOff | None, seen_at: float) -> str | None:
    """Why the balancer may not wake `host`, in one sentence; None when it may."""
    name = host.name
    yourself = f"power it on yourself (vdctui host power on {name})"
    if host.state is not HostState.OFF:
        return f"Host {name} is {host.state}, not powered off by the balancer; it is not woken."
    if off is None:
        return (
            f"Host {name} was not powered off by the console, so the balancer does not power "
            f"it on; {yourself}."
        )
    if off.by == "operator":
        return (
            f"Host {name} was powered off by {off.actor}, not by the balancer, so the balancer "
            f"does not power it on; {yourself}."
        )
    if off.by == "fence":
        return (
            f"Host {name} was fenced (powered off by {off.actor} after a failure), so the "
            f"balancer does not power it on; {yourself} once it is sound."
        )
    if seen_at > off.at:
        return (
            f"Host {name} has answered since the balancer powered it off (it was powered on "
            f"by other means), so the balancer does not power it on; {yourself}."
        )
    return None


def why_not_wakeable(console: Console, name: str) -> str | None:
    """Why the balancer may not power `name` on now (one sentence), or None if it may."""
    host = console.host(name)
    if console.store.in_maintenance(name):
        return f"Host {name} is in maintenance; the balancer does not power it on."
    seen = console.store.host_seen_at().get(name, 0.0)
    return _not_wakeable(host, console.store.power_offs().get(name), seen)


def wakeable_hosts(console: Console, hosts: Iterable[Host]) -> set[str]:
    """The hosts the balancer powered off itself and may power on again (pure read)."""
    offs = console.store.power_offs()
    if not offs:
        return set()
    seen = console.store.host_seen_at()
    return {
        h.name
        for h in hosts
        if h.name in offs and _not_wakeable(h, offs[h.name], seen.get(h.name, 0.0)) is None
    }


async def wait_for(console: Console, name: str, state: HostState, within_s: float) -> bool:
    """Sync until `name` is in `state` (True), or `within_s` passes (False)."""
    deadline = time.monotonic() + within_s
    while True:
        await console.sync()
        if console.host(name).state is state:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_S)


async def wake(console: Console, name: str, note: Note | None = None) -> None:
    """Power on a host the balancer powered off and wait until it answers; refused in one
    sentence (audited, nothing done) when the balancer may not wake it. A host that does not
    answer in time is a failure: it was powered on, but nothing is moved onto it."""
    say = note or (lambda _line: None)

    async def work() -> None:
        why = why_not_wakeable(console, name)
        if why is not None:
            raise Refused(why)
        await console.driver.power_on_host(name)
        console.store.clear_power_off(name)
        say(f"{name}: power on requested; waiting for it to answer")
        if not await wait_for(console, name, HostState.UP, WAIT_UP_S):
            state = console.host(name).state
            raise Failed(
                f"Host {name} was powered on but did not answer within {WAIT_UP_S:.0f} s "
                f"(it is {state}); nothing is moved onto it."
            )

    await console.change(Action.HOST_POWER_ON, name, {"reason": "balancer-wake"}, work)


async def power_off_emptied(console: Console, name: str, note: Note | None = None) -> bool:
    """Power off a host the balancer emptied, remembered as the balancer's (so it may wake
    it again), once it reports off; False when it has not reported off within the bound
    (then it is remembered too, but only a host seen off since is woken)."""
    say = note or (lambda _line: None)

    async def work() -> bool:
        if console.store.vms(host=name):
            raise Refused(f"Host {name} still holds VMs; it stays on.")
        await console.driver.power_off_host(name)
        say(f"{name}: power off requested; waiting for it to report off")
        confirmed = await wait_for(console, name, HostState.OFF, WAIT_OFF_S)
        console.store.record_power_off(name, "balancer", console.identity.actor)
        return confirmed

    return await console.change(Action.HOST_POWER_OFF, name, {"reason": "consolidation"}, work)
