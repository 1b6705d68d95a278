"""Stale is stale, with its age: lists of hosts and VMs say what the last sync could not
refresh, and a command whose refresh was partial names the silent hosts and exits 3."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Any

from vdctui.cli.output import plain, print_json, print_table, say
from vdctui.columns import Column, stale_note
from vdctui.frozen import frozen
from vdctui.model import Host, HostState, Sighting, Vm
from vdctui.ops.figures import FiguresAge
from vdctui.ops.why_off import off_word
from vdctui.units import UNKNOWN

if TYPE_CHECKING:
    from vdctui.ops.reads import FleetReads
    from vdctui.store.power_offs import PowerOff

PARTIAL_EXIT = 3  # the command worked, but some hosts did not answer: part of it is stale
HOST_FIGURES = "cpu%, mem used and watts"  # the host list's columns a whole sync reads
VM_FIGURES = "cpu%"


def age(sighting: Sighting, now: float) -> str:
    """ "" when fresh; "STALE, last seen 40s ago" (or "never seen") when not."""
    return stale_note(sighting, now)


@frozen
class Seen:
    """A listed host or VM with when it was last seen (and, for hosts, maintenance)."""

    item: Any
    sighting: Sighting
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = plain(self.item)
        if isinstance(self.item, Vm) and self.sighting.stale:
            data["last_state"] = data["state"]
            data["state"] = None  # unknown now: as last seen, it is in last_state
        return {
            **data,
            **self.extra,
            "seen_at": self.sighting.seen_at,
            "stale": self.sighting.stale,
        }


@frozen
class Refresh:
    """What the last sync could not reach: hosts that did not answer, with why."""

    silent: list[Host]
    figures: FiguresAge = FiguresAge(None, None)  # when the figures and states were read

    @classmethod
    def of(cls, console: FleetReads) -> Refresh:
        return cls(console.unanswered(), console.figures_age())

    def figures_note(self, what: str, now: float) -> str:
        """ "" when the figures are as new as the states; else how old each is."""
        return self.figures.as_read(what, now, with_states=True)

    def warn_and_exit(self) -> None:
        """Name each host that did not answer on stderr and exit 3; nothing when all did."""
        if not self.silent:
            return
        for host in self.silent:
            why = f": {host.reason.rstrip('.')}" if host.reason else ""
            say(
                f"vdctui: host {host.name} did not answer{why}; what it holds is shown "
                "as last seen (STALE).",
                err=True,
            )
        sys.exit(PARTIAL_EXIT)


def seen_vms(console: FleetReads, vms: list[Vm]) -> list[Seen]:
    """VMs with when each was seen, and when its figures (cpu_util) were read."""
    sightings = console.vm_sightings(vms)
    figures = console.figures_age()
    return [
        Seen(vm, seen, {"figures_at": figures.of_row(seen.seen_at)})
        for vm in vms
        for seen in [sightings[vm.name]]
    ]


def seen_hosts(console: FleetReads, hosts: list[Host]) -> list[Seen]:
    """Hosts with when each was seen, its maintenance, and why it is off (the words of
    the TUI's tree: `balancer`, `operator`, `fenced`; None when not known or not off)."""
    sightings = console.host_sightings(hosts)
    reasons = console.store.maintenance_reasons()
    offs = console.power_offs()
    figures = console.figures_age()
    return [
        Seen(
            h,
            sightings[h.name],
            {
                "maintenance": reasons.get(h.name),
                "why_off": _why_off(h, offs.get(h.name)),
                # its cpu_util, memory_used_mib and power_watts: read then
                "figures_at": figures.of_row(sightings[h.name].seen_at),
            },
        )
        for h in hosts
    ]


def _why_off(host: Host, off: PowerOff | None) -> str | None:
    word = off_word(host, off)
    return None if word in ("", UNKNOWN) else word


def vm_columns(columns: Sequence[Column], now: float) -> list[Column]:
    """The VM columns over `Seen` rows: a stale VM's state is unknown (its last state and
    age in "seen")."""

    def state(row: Seen) -> object:
        return "unknown" if row.sighting.stale else row.item.state

    def seen(row: Seen) -> str:
        text = age(row.sighting, now)
        return f"{text} ({row.item.state})" if text else ""

    result: list[Column] = [
        (header, state if header == "state" else _of_item(get)) for header, get in columns
    ]
    return [*result, ("seen", seen)]


def _of_item(get: Callable[[Any], object]) -> Callable[[Seen], object]:
    return lambda row: get(row.item)


def host_columns(columns: Sequence[Column], now: float) -> list[Column]:
    """The host columns over `Seen` rows: an off host's state says why (`off (fenced)`,
    `off (—)` when the console did not power it off), as the TUI's tree does."""

    def state(row: Seen) -> str:
        if row.item.state is not HostState.OFF:
            return str(row.item.state)
        return f"{row.item.state} ({row.extra.get('why_off') or UNKNOWN})"

    return [(header, state if header == "state" else _of_item(get)) for header, get in columns] + [
        ("maintenance", lambda row: row.extra.get("maintenance") or ""),
        ("seen", lambda row: age(row.sighting, now)),
    ]


def print_seen(
    rows: list[Seen], columns: list[Column], *, as_json: bool, empty: str, note: str = ""
) -> None:
    """The rows as JSON or a table; a table's `note` (how old its figures are) goes to
    stderr, after it (JSON says it in each row's `figures_at`)."""
    if as_json:
        print_json([row.as_json() for row in rows])
        return
    print_table(rows, columns, empty=empty)
    if rows and note:
        say(f"vdctui: {note}.", err=True)
