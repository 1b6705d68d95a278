"""libvirt's own events, one long-lived channel per host: `virsh event --loop --all --timestamp`.

A VM started, stopped, paused or migrated by anyone (plain virsh on the host,
another console) is told to the console as it happens; the poll stays as the
safety net. A channel that drops (libvirtd restarted, connection lost, virsh
killed) is reopened after a backoff (0.5 s, doubling to 30 s) and says so.

virsh prints one line per event, `2026-11-30 11:51:37.108+0000: event
'lifecycle' for domain 'tiny1': Started Migrated`, some followed by
tab-indented detail lines (job-completed, tunable).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from vdctui.drivers.base import HostUnreachable
from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.pool import ConnectionPool
from wire.stopping import cancelled

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
_LINE = re.compile(
    r"^(?:(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?[+-]\d{4}): )?"
    r"event '(?P<kind>[^']+)' for domain '(?P<domain>.*?)'(?::\s?(?P<detail>.*))?$"
)


@dataclass(frozen=True, slots=True)
class HostEvent:
    """One event a host's libvirtd told: `lifecycle` with its detail ("Stopped Destroyed")."""

    host: str
    kind: str  # lifecycle | reboot | tunable | job-completed | migration-iteration | ...
    domain: str
    detail: str = ""
    ts: float | None = None  # the host's clock, when virsh printed a timestamp


def parse_event(host: str, line: str) -> HostEvent | None:
    """One `virsh event` line (None for detail lines and anything else)."""
    match = _LINE.match(line.rstrip("\r\n"))
    if match is None:
        return None
    ts = None
    if match["ts"]:
        with contextlib.suppress(ValueError):
            ts = datetime.strptime(match["ts"], "%Y-%m-%d %H:%M:%S.%f%z").timestamp()
    return HostEvent(host, match["kind"], match["domain"], (match["detail"] or "").strip(), ts)


def event_command(uri: str) -> str:
    return commands.virsh(uri, "event", "--loop", "--all", "--timestamp")


class EventChannel:
    """One host's event channel, reopened with backoff while the driver wants events."""

    def __init__(
        self,
        pool: ConnectionPool,
        host: InventoryHost,
        on_event: Callable[[HostEvent], None],
        on_change: Callable[[str, str, bool], None],
        *,
        backoff_first_s: float = BACKOFF_FIRST_S,
        backoff_max_s: float = BACKOFF_MAX_S,
    ) -> None:
        self.pool = pool
        self.host = host
        self.on_event = on_event
        self.on_change = on_change  # (host, one sentence, the channel is open now)
        self.backoff_first_s = backoff_first_s
        self.backoff_max_s = backoff_max_s
        self.open = False
        self.drops = 0
        self._backoff = backoff_first_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            await cancelled(self._task)
            self._task = None
        self.open = False

    def _started(self) -> None:
        self.open = True
        self._backoff = self.backoff_first_s
        if self.drops:
            self.on_change(self.host.name, f"Events from {self.host.name} flow again.", True)

    async def _run(self) -> None:
        self._backoff = self.backoff_first_s
        name = self.host.name
        while True:
            reason = "virsh event ended"
            try:
                command = event_command(self.host.uri)
                async for line in self.pool.lines(self.host, command, self._started):
                    event = parse_event(name, line)
                    if event is not None:
                        self.on_event(event)
            except HostUnreachable as exc:
                reason = str(exc).rstrip(".")
            self.open = False
            self.drops += 1
            self.on_change(
                name,
                f"Events from {name} stopped ({reason}); reconnecting in {self._backoff:g} s, "
                "polling meanwhile.",
                False,
            )
            await asyncio.sleep(self._backoff)
            self._backoff = min(self._backoff * 2, self.backoff_max_s)
