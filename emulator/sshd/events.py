"""An emulated host's `virsh event --loop --all --timestamp`: libvirt's lifecycle lines.

The emulator keeps no event log, so the stream is the difference between what
the host held a moment ago and what it holds now, said the way libvirt says it
(`2026-11-30 11:51:37.108+0000: event 'lifecycle' for domain 'web-001': Stopped
Destroyed`), on the fleet's clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from ..fleet import Fleet
from ..vm import CRASHED, IN_SHUTDOWN, PAUSED, RUNNING, SHUT_OFF
from .words import ShellInjection, Unbalanced, shell_words

# (before, now) -> libvirt's lifecycle event and detail, in virsh's words
CHANGES: dict[tuple[str | None, str | None], str] = {
    (SHUT_OFF, RUNNING): "Started Booted",
    (RUNNING, SHUT_OFF): "Stopped Destroyed",
    (PAUSED, SHUT_OFF): "Stopped Destroyed",
    (IN_SHUTDOWN, SHUT_OFF): "Stopped Shutdown",
    (RUNNING, IN_SHUTDOWN): "Shutdown Finished",
    (RUNNING, PAUSED): "Suspended Paused",
    (PAUSED, RUNNING): "Resumed Unpaused",
    (RUNNING, CRASHED): "Stopped Crashed",
    (CRASHED, SHUT_OFF): "Stopped Destroyed",
    (None, SHUT_OFF): "Defined Added",
    (None, RUNNING): "Started Migrated",
    (None, PAUSED): "Started Migrated",
    (SHUT_OFF, None): "Undefined Removed",
    (RUNNING, None): "Stopped Migrated",
    (PAUSED, None): "Stopped Migrated",
}


def is_event_loop(command: str) -> bool:
    """`[LC_ALL=C] virsh [-q] [-c URI] event --loop ...` (a stream, not one answer)."""
    try:
        words = shell_words(command)
    except (ShellInjection, Unbalanced):
        return False
    return "virsh" in words and "event" in words and "--loop" in words


def stamp(ts: float) -> str:
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def lifecycle_lines(
    before: dict[str, str], now: dict[str, str], ts: float, timestamp: bool = True
) -> list[str]:
    lines = []
    for name in sorted(before.keys() | now.keys()):
        change = CHANGES.get((before.get(name), now.get(name)))
        if change is None or before.get(name) == now.get(name):
            continue
        prefix = f"{stamp(ts)}: " if timestamp else ""
        lines.append(f"{prefix}event 'lifecycle' for domain '{name}': {change}\n")
    return lines


async def stream_events(
    fleet: Fleet,
    host: str,
    write: Callable[[str], None],
    *,
    going: Callable[[], bool],
    timestamp: bool = True,
    poll_s: float = 0.05,
) -> None:
    """Write lifecycle events of `host` until `going()` is false."""

    def held() -> dict[str, str]:
        return {vm.name: vm.state for vm in fleet.vms_on(host)}

    before = held()
    while going():
        await asyncio.sleep(poll_s)
        now = held()
        for line in lifecycle_lines(before, now, fleet.now, timestamp):
            write(line)
        before = now
