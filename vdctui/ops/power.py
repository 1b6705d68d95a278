"""Host power on, off and cycle, out of band (a real host's BMC; the emulator does it itself).

Each is one change through the door: role-checked before anything, audited whatever happens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vdctui.ops.actions import Action
from vdctui.ops.handover import fleet_operation

if TYPE_CHECKING:
    from vdctui.ops.console import Console

POWER_CHOICES = ("on", "off", "cycle")
# what the CLI and the TUI ask first, and say once the BMC took the request
QUESTIONS = {
    "on": "Power host {host} on?",
    "off": "Shut host {host} down (its OS stops every VM still running on it)?",
    "force-off": "Cut the power of host {host} now (every VM on it stops at once)?",
    "cycle": "Power-cycle host {host} (every VM on it stops at once)?",
}
DONE = {
    "on": "Host {host}: power on requested.",
    "off": "Host {host}: graceful shutdown requested.",
    "force-off": "Host {host}: power cut (ForceOff) requested.",
    "cycle": "Host {host}: power cycle requested.",
}


def power_kind(what: str, *, force: bool = False) -> str:
    """The key of QUESTIONS and DONE: "force-off" for `off --force`."""
    return "force-off" if force and what == "off" else what


def power_action(what: str, *, force: bool = False) -> tuple[Action, dict[str, Any]]:
    """The door's action and audit params for `vdctui host power WHAT [--force]`."""
    if what == "on":
        return Action.HOST_POWER_ON, {}
    if what == "off":
        return Action.HOST_POWER_OFF, {"force": force}
    if what == "cycle":
        return Action.HOST_POWER_CYCLE, {}
    raise ValueError(f"power {what!r} is not one of {', '.join(POWER_CHOICES)}")


@fleet_operation(
    Action.HOST_POWER_ON,
    Action.HOST_POWER_OFF,
    Action.HOST_POWER_CYCLE,
    door=lambda call: power_action(call["what"])[0],
)
async def power(console: Console, host: str, what: str, *, force: bool = False) -> None:
    """Power `host` on, off (graceful; `force`: cut at once) or cycle it."""
    action, params = power_action(what, force=force)

    async def work() -> None:
        console.host(host)
        driver = console.driver
        if what == "on":
            await driver.power_on_host(host)
        elif what == "off" and force:
            await driver.force_off_host(host)
        elif what == "off":
            await driver.power_off_host(host)
        else:
            await driver.power_cycle_host(host)
        # why it is off: an operator's doing (the balancer never wakes it); on: no reason
        if what == "off":
            console.store.record_power_off(host, "operator", console.identity.actor)
        else:
            console.store.clear_power_off(host)
        await console.sync()

    await console.change(action, host, params, work)
