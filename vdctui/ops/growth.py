"""Growth: a new server joins a rack and takes load; an empty one leaves.

Adding and removing are changes through the door (admin, audited). A new host
starts empty, so the balancer's spread recommendation (`take_load`) moves load onto
it; the plan is shown first and carried out on confirmation (or by the operator's
policy, `--apply --yes`), as any balance is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vdctui import checks
from vdctui.model import Host
from vdctui.ops.actions import Action
from vdctui.ops.balancer import Recommendation
from vdctui.ops.balancing import recommendations
from vdctui.ops.errors import Refused
from vdctui.ops.handover import fleet_operation

if TYPE_CHECKING:
    from vdctui.ops.console import Console

MAX_ADD = 64  # hosts added by one command


@fleet_operation(Action.HOST_ADD)
async def add_hosts(
    console: Console, rack: str, *, model: str | None = None, count: int = 1
) -> list[Host]:
    """Add `count` hosts of `model` to `rack`, each its own audited change; stops at the
    first refusal (a full rack: units or power budget), which says why and what was added."""
    added: list[Host] = []
    params = {"rack": rack, "model": model, "count": count}

    async def work() -> Host:
        _check(checks.name, rack, "rack")
        if model is not None:
            _check(checks.name, model, "host model")
        _check(checks.whole_number, count, "A number of hosts", low=1, high=MAX_ADD)
        host = await console.driver.add_host(rack, model)
        await console.sync()
        return host

    valid = isinstance(count, int) and 1 <= count <= MAX_ADD
    for _ in range(count if valid else 1):  # a bad count: one refusal, audited
        try:
            added.append(await console.change(Action.HOST_ADD, rack, params, work))
        except Refused as exc:
            if not added:
                raise
            names = ", ".join(h.name for h in added)
            raise Refused(f"Added {names}; then: {exc}") from None
    return added


@fleet_operation(Action.HOST_REMOVE)
async def remove_host(console: Console, name: str) -> None:
    """Take an empty host out of the data center; refused, naming its VMs, if it has any."""

    async def work() -> None:
        console.host(name)
        held = [vm.name for vm in console.store.vms(host=name)]
        if held:
            shown = ", ".join(held[:10]) + (f" and {len(held) - 10} more" if len(held) > 10 else "")
            raise Refused(f"Host {name} still holds {len(held)} VM(s): {shown}.")
        await console.driver.remove_host(name)
        console.store.remove_hosts([name])
        await console.sync()

    await console.change(Action.HOST_REMOVE, name, {}, work)


def take_load(console: Console, new_hosts: list[str], *, threshold: int = 3) -> Recommendation:
    """The balancer's spread plan once `new_hosts` have joined: moves (with their gain)
    that bring load onto them. Changes nothing."""
    return recommendations(console, threshold=threshold, goal="spread")


def moves_onto(rec: Recommendation, hosts: list[str]) -> int:
    """How many of the plan's moves land on `hosts`."""
    return sum(1 for move in rec.moves if move.target in hosts)


def _check(check: Callable[..., object], value: object, what: str, **limits: Any) -> None:
    try:
        check(value, what, **limits)
    except checks.BadInput as exc:
        raise Refused(str(exc)) from None
