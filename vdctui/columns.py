"""The columns of every list the console shows, for the CLI's tables and the TUI's.

A column is a header and a function from a domain object to what the cell says.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vdctui.escape import for_terminal
from vdctui.model import Sighting, VmState
from vdctui.units import (
    UNKNOWN,
    format_bytes,
    format_duration,
    format_mib,
    format_percent,
    format_watts,
)

Column = tuple[str, Callable[[Any], object]]  # header, value getter


def cell(value: object) -> str:
    """What a table cell says, escaped for a terminal: `-` for unknown (None or a
    number that is not one), enums by their value, floats to one decimal."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, enum.Enum):
        return for_terminal(value.value)
    if isinstance(value, float):
        return f"{value:.1f}"
    return for_terminal(value)


def stale_note(sighting: Sighting, now: float) -> str:
    """ "" when fresh; "STALE, last seen 40s ago" (or "never seen") when the last sync could
    not refresh it."""
    if not sighting.stale:
        return ""
    if sighting.seen_at is None:
        return "STALE, never seen"
    return f"STALE, last seen {format_duration(max(now - sighting.seen_at, 0.0))} ago"


def state_as_seen(state: object, sighting: Sighting, now: float) -> str:
    """A VM's state as a table shows it: `unknown: running (STALE, last seen 40s ago)`
    when the last sync could not refresh it (its host did not list it), else its state."""
    note = stale_note(sighting, now)
    return f"unknown: {cell(state)} ({note})" if note else cell(state)


def when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def uptime(seconds: float | None) -> str:
    return UNKNOWN if seconds is None else format_duration(seconds)


VM_COLUMNS: list[Column] = [
    ("name", lambda v: v.name),
    ("state", lambda v: v.state),
    ("host", lambda v: v.host),
    ("pool", lambda v: v.pool or "-"),
    ("vcpus", lambda v: v.vcpus),
    ("memory", lambda v: format_mib(v.memory_mib)),
    ("cpu%", lambda v: format_percent(v.cpu_util) if v.state is VmState.RUNNING else "-"),
    ("uptime", lambda v: uptime(v.uptime_s) if v.state is VmState.RUNNING else "-"),
]

HOST_COLUMNS: list[Column] = [
    ("name", lambda h: h.name),
    ("state", lambda h: h.state),
    ("rack", lambda h: h.rack),
    ("room", lambda h: h.room),
    ("model", lambda h: h.model),
    ("cpus", lambda h: h.cpus),
    ("memory", lambda h: format_mib(h.memory_mib)),
    ("vms", lambda h: h.vm_count),
    ("cpu%", lambda h: format_percent(h.cpu_util)),
    ("mem used", lambda h: format_mib(h.memory_used_mib)),
    ("power", lambda h: h.power_state or UNKNOWN),  # what its BMC says
    ("health", lambda h: h.health or UNKNOWN),
    ("watts", lambda h: format_watts(h.power_watts)),
]

TASK_COLUMNS: list[Column] = [
    ("id", lambda t: t.id),
    ("kind", lambda t: t.kind),
    ("target", lambda t: t.target),
    ("state", lambda t: t.state),
    ("progress", lambda t: f"{t.progress:.0f}%"),
    ("actor", lambda t: t.actor),
    ("created", lambda t: when(t.created)),
    ("error", lambda t: t.error or ""),
]

MIGRATION_COLUMNS: list[Column] = [
    ("id", lambda m: m.id),
    ("vm", lambda m: m.vm),
    ("from", lambda m: m.source),
    ("to", lambda m: m.target),
    ("kind", lambda m: m.kind),
    ("started", lambda m: when(m.started)),
    ("outcome", lambda m: m.outcome or "running"),
    ("data", lambda m: format_bytes(m.data_bytes)),
    ("rounds", lambda m: m.rounds),
    ("downtime", lambda m: f"{m.downtime_ms} ms"),
    ("who", lambda m: m.actor),
    ("reason", lambda m: m.reason),
]

POOL_COLUMNS: list[Column] = [
    ("pool", lambda u: u.pool.name),
    ("vms", lambda u: u.vm_count),
    ("running", lambda u: u.running),
    ("vcpus", lambda u: u.vcpus),
    ("memory", lambda u: format_mib(u.memory_mib)),
    ("cpu resv", lambda u: f"{u.pool.cpu_reservation_mhz} MHz"),
    ("cpu limit", lambda u: f"{u.pool.cpu_limit_mhz} MHz" if u.pool.cpu_limit_mhz else "none"),
    ("mem resv", lambda u: format_mib(u.pool.memory_reservation_mib)),
    (
        "mem limit",
        lambda u: format_mib(u.pool.memory_limit_mib) if u.pool.memory_limit_mib else "none",
    ),
    ("overcommit", lambda u: f"cpu {u.pool.cpu_overcommit:g}x mem {u.pool.memory_overcommit:g}x"),
]

AUDIT_COLUMNS: list[Column] = [
    ("id", lambda a: a.id),
    ("when", lambda a: when(a.ts)),
    ("actor", lambda a: a.actor),
    ("role", lambda a: a.role),
    ("action", lambda a: a.action),
    ("target", lambda a: a.target),
    ("result", lambda a: a.result),
    ("error", lambda a: a.error),
]
