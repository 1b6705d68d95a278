"""HAProxy as the ADC: its runtime API, reached over SSH with socat.

Each request is one exec on the HAProxy host: `printf '%s\n' 'CMD' | socat -t 5 stdio
UNIX-CONNECT:'SOCKET'`, the command and the socket path shell-quoted. HAProxy's own
grammar splits on spaces, so backend and server names (the console's service and VM
names) must match the console's name grammar, checked before anything is sent.

Services map to backends by name, members to servers by VM name. Reads: `show stat`
(sessions, rate, health, errors) and `show servers state` (admin and operational
state). Changes: `set server B/S state ready|drain|maint` and `set server B/S weight N`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Awaitable, Callable, Sequence

from vdctui import checks
from vdctui.drivers.adc.base import ADMIN_STATES, AdcDriver
from vdctui.drivers.adc.haproxy_state import (
    AnswerError,
    ServerState,
    StatRow,
    parse_servers_state,
    parse_stat,
)
from vdctui.drivers.base import DriverError, InvalidOperation
from vdctui.model import MemberState, MemberStatus, Service, ServiceMember, ServiceStatus

Run = Callable[[str], Awaitable[tuple[int, str, str]]]  # command -> (status, stdout, stderr)
SOCKET_PATH = re.compile(r"/[A-Za-z0-9/._-]{1,200}")  # no socat address syntax (: , !)
ANSWER_ERRORS = ("No such", "Can't find", "Unknown command", "Permission denied", "Require")


def runtime_command(socket: str, command: str) -> str:
    """The shell command that sends `command` to HAProxy's runtime API socket."""
    if not SOCKET_PATH.fullmatch(socket):
        raise InvalidOperation(f"The HAProxy socket path {checks.shown(socket)} is not usable.")
    return (
        f"printf '%s\\n' {shlex.quote(command)} | "
        f"socat -t 5 stdio UNIX-CONNECT:{shlex.quote(socket)}"
    )


def _name(value: str, what: str) -> str:
    try:
        return checks.name(value, what)
    except checks.BadInput as exc:
        raise InvalidOperation(str(exc)) from None


class HaproxyAdc(AdcDriver):
    backend = "haproxy"

    def __init__(self, name: str, socket: str, run: Run) -> None:
        self.name = name
        self.socket = socket
        self._run = run

    async def ask(self, command: str) -> str:
        """One runtime API command; its answer, or InvalidOperation with HAProxy's words."""
        status, out, err = await self._run(runtime_command(self.socket, command))
        if status != 0:
            reason = (err.strip().splitlines() or [f"exit status {status}"])[-1]
            raise DriverError(f"HAProxy on {self.name} did not answer: {reason[:200]}.")
        first = out.strip().splitlines()[0] if out.strip() else ""
        if first.startswith(ANSWER_ERRORS):
            raise InvalidOperation(f"HAProxy on {self.name}: {first.strip()[:200]}")
        return out

    async def _servers(self, backend: str) -> list[ServerState]:
        answer = await self.ask(f"show servers state {_name(backend, 'backend')}")
        try:
            return parse_servers_state(answer)
        except AnswerError as exc:
            raise DriverError(f"HAProxy on {self.name} answered oddly: {exc}.") from None

    async def define(self, service: Service, *, rate: float | None = None) -> None:
        """HAProxy's backends come from its configuration: check that it has the service's
        backend and a server for each member (named after the VM)."""
        servers = {s.server for s in await self._servers(service.name)}
        missing = [m.vm for m in service.members if m.vm not in servers]
        if missing:
            raise InvalidOperation(
                f"HAProxy on {self.name} has no server {', '.join(missing)} in backend "
                f"{service.name}: add it to haproxy.cfg (server <vm> <address>:<port>)."
            )

    async def status(self, services: Sequence[Service]) -> list[ServiceStatus]:
        try:
            rows = parse_stat(await self.ask("show stat"))
        except AnswerError as exc:
            raise DriverError(f"HAProxy on {self.name} answered oddly: {exc}.") from None
        found = []
        for service in services:
            states = {s.server: s for s in await self._servers(service.name)}
            stats = {r.name: r for r in rows if r.backend == service.name}
            found.append(_status(service, states, stats))
        return found

    async def set_state(self, service: str, member: ServiceMember, state: str) -> None:
        if state not in ADMIN_STATES:
            raise InvalidOperation(f"A member's state is one of {', '.join(ADMIN_STATES)}.")
        target = f"{_name(service, 'backend')}/{_name(member.vm, 'server')}"
        await self.ask(f"set server {target} state {state}")

    async def set_weight(self, service: str, member: ServiceMember, weight: int) -> None:
        number = checks.whole_number(weight, "A weight", low=0, high=256)
        target = f"{_name(service, 'backend')}/{_name(member.vm, 'server')}"
        await self.ask(f"set server {target} weight {number}")


def _status(
    service: Service, states: dict[str, ServerState], stats: dict[str, StatRow]
) -> ServiceStatus:
    members = []
    for m in service.members:
        state, stat = states.get(m.vm), stats.get(m.vm)
        members.append(
            MemberStatus(
                m.vm,
                m.port,
                state.weight if state else m.weight,
                state.state if state else MemberState.DOWN,
                stat.healthy if stat else None,
                stat.sessions if stat else None,
                float(stat.rate) if stat and stat.rate is not None else None,
            )
        )
    total = stats.get("BACKEND")
    rate = float(total.rate) if total and total.rate is not None else None
    # HAProxy counts errors since it started, not over a window: the rate is not known
    return ServiceStatus(service, tuple(members), rate, None, total.failed if total else None)
