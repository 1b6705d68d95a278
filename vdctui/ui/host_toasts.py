"""Hosts changing state, told as the operator wants to hear it: hosts that go the same way
together (the balancer powering off eleven hosts in one apply) are one notification that
names a few of them and counts them all, said once the apply has ended; a host that goes
alone is said on its own, with who powered it off when it is off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.timer import Timer

from vdctui.model import FleetEvent, HostState
from vdctui.ops import Refused
from vdctui.ops.why_off import off_word

if TYPE_CHECKING:
    from vdctui.ui.app import VdcApp

QUIET_S = 2.0  # hosts that change within this of each other are told together
SHOWN = 5  # names in a summary; the count says the rest
BALANCING = "balance"  # the task kind of an apply: its hosts are told when it ends


def host_summary(state: str, hosts: list[str], why: str) -> str:
    """`powered off 11 hosts: h01, h02, h03, h04, h05, … (balancer)`."""
    names = ", ".join(hosts[:SHOWN]) + (", …" if len(hosts) > SHOWN else "")
    count = f"{len(hosts)} hosts: {names}"
    if state == "off" and why in ("balancer", "operator"):
        return f"powered off {count} ({why})"
    if state == "off" and why == "fenced":
        return f"fenced {count}"
    said = f"{len(hosts)} hosts went {state}: {names}"
    return f"{said} (why: {why})" if why else said


class HostToasts:
    """Holds the hosts' state changes a moment (and while a balance applies), then tells
    them, grouped by where they went and why."""

    def __init__(self, app: VdcApp) -> None:
        self.app = app
        self._held: dict[str, FleetEvent] = {}
        self._timer: Timer | None = None

    def heard(self, event: FleetEvent) -> None:
        if event.host is None:
            self.app.notify(event.message, severity="warning")
            return
        self._held[event.host] = event
        self._wait()

    def _wait(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.app.set_timer(QUIET_S, self._tell)

    def _balancing(self) -> bool:
        return any(task.kind == BALANCING for task in self.app.ops.tasks(active=True))

    def _tell(self) -> None:
        """Tell what is held, grouped; while a balance applies, the hosts gone off wait for
        its end (its power-offs, told together), any other change is told now."""
        self._timer = None
        balancing = bool(self._held) and self._balancing()
        held, self._held = self._held, {}
        offs = self.app.ops.power_offs()
        groups: dict[tuple[str, str], list[FleetEvent]] = {}
        for name, event in sorted(held.items()):
            try:
                host = self.app.ops.host(name)
            except Refused:  # gone from the inventory since: said as it was heard
                self.app.notify(event.message, severity="warning")
                continue
            if balancing and host.state is HostState.OFF:
                self._held[name] = event
                continue
            why = off_word(host, offs.get(name))
            groups.setdefault((str(host.state), why), []).append(event)
        for (state, why), events in groups.items():
            quiet = state == str(HostState.OFF) and why == "balancer"
            if len(events) == 1:
                message = events[0].message + (f" ({why})" if why else "")
            else:
                message = host_summary(state, [e.host or "" for e in events], why)
            self.app.notify(message, severity="information" if quiet else "warning")
        if self._held:
            self._wait()
