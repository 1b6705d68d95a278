"""Why a host is off, in the operator's words: who powered it off (the balancer, an
operator, a fence; `store.power_offs`), as whom and how long ago. A host that is off but
that the console did not power off says `—`: the console does not know why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vdctui.model import Host, HostState
from vdctui.units import UNKNOWN, format_duration

if TYPE_CHECKING:
    from vdctui.store.power_offs import PowerOff

WORDS = {"balancer": "balancer", "operator": "operator", "fence": "fenced"}


def off_word(host: Host, off: PowerOff | None) -> str:
    """One word for a host list: `balancer`, `operator`, `fenced`, `—` when the console
    does not know; "" for a host that is not off."""
    if host.state is not HostState.OFF:
        return ""
    return UNKNOWN if off is None else WORDS.get(off.by, UNKNOWN)


def off_sentence(host: Host, off: PowerOff | None, now: float) -> str | None:
    """Who powered the host off, when, and what that means for powering it on again; None
    for a host that is not off."""
    if host.state is not HostState.OFF:
        return None
    if off is None:
        return (
            f"Powered off by: {UNKNOWN} (not through this console: by hand, at its BMC, "
            "or by itself); the balancer does not power it on."
        )
    ago = f"{format_duration(max(now - off.at, 0.0))} ago"
    if off.by == "balancer":
        return (
            f"Powered off by the balancer (as {off.actor}) {ago}; it powers the host on "
            "again when load needs it."
        )
    if off.by == "fence":
        return (
            f"Fenced (powered off by {off.actor} after a failure) {ago}; power it on "
            "yourself once it is sound."
        )
    return (
        f"Powered off by {off.actor} (operator) {ago}; the balancer leaves it off, power "
        "it on yourself."
    )
