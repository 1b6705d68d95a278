"""Emulated hosts behind real SSH: one asyncssh server per host on 127.0.0.1, plus a bastion.

Each host listens on its own loopback port with its own host key and answers
execs of `virsh` (see `virsh.py`). A host that is down or partitioned drops
its connections and refuses new ones, as a dead or cut-off host would.

The optional bastion accepts SSH connections and forwards `direct-tcpip`
channels (what `ssh -J` / ProxyJump and asyncssh's `tunnel=` open) to the
emulated hosts by *name*: a host's name means nothing outside the bastion, so
an inventory that addresses hosts by name reaches them only through it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import asyncssh

from wire.stopping import cancelled

from ..errors import HostUnreachable
from ..fleet import Fleet
from .console import console_domain, serve_console
from .events import is_event_loop, stream_events
from .interactive import converse, is_interactive, probe_then_interactive
from .leftovers import Leftovers
from .packets import like_openssh, one_packet_a_turn
from .virsh import Virsh

LOOPBACK = "127.0.0.1"
SSH_PORT = 22


def new_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


@dataclass
class Injection:
    host: str
    command: str
    why: str


@dataclass
class Endpoint:
    host: str
    port: int
    key: asyncssh.SSHKey
    server: Any = None  # the asyncssh acceptor


@dataclass
class Stats:
    connections: int = 0
    execs: int = 0
    bastion_connections: int = 0
    forwarded: int = 0
    injections: list[Injection] = field(default_factory=list)
    handshaking: int = 0  # host connections accepted and not yet authenticated, now
    max_handshaking: int = 0  # ... the most at any one time, over every host
    max_channels: int = 0  # the most execs open at once on any one connection
    stalled: int = 0  # execs held by `FleetSshServer.stalled`, open now


@dataclass
class Faults:
    """Misbehaviour on demand, for tests of the client's timeouts and retries.

    `stalled`: hosts whose execs never answer (each holds its channel until the
    client closes it). `drop_after`: host -> how many of its next execs run and
    then lose the connection before the reply is sent. `delay_s`: a slow host.
    """

    stalled: set[str] = field(default_factory=set)
    drop_after: dict[str, int] = field(default_factory=dict)
    delay_s: float = 0.0  # every exec waits this long before it runs


class _HostServer(asyncssh.SSHServer):
    def __init__(self, served: FleetSshServer, host: str) -> None:
        self._served = served
        self._host = host
        self._conn: asyncssh.SSHServerConnection | None = None
        self._handshaking = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        stats = self._served.stats
        stats.connections += 1
        stats.handshaking += 1
        stats.max_handshaking = max(stats.max_handshaking, stats.handshaking)
        self._handshaking = True
        self._served.leftovers.opened()
        like_openssh(conn)
        if not self._served.answers(self._host):
            asyncio.get_running_loop().call_soon(conn.abort)
        else:
            self._conn = conn
            self._served._connections.setdefault(self._host, set()).add(conn)

    def _handshake_over(self) -> None:
        if self._handshaking:
            self._handshaking = False
            self._served.stats.handshaking -= 1

    def auth_completed(self) -> None:
        self._handshake_over()

    def connection_lost(self, exc: Exception | None) -> None:
        self._handshake_over()
        self._served.leftovers.closed_one()
        # only this connection: scanning every host's set made closing N connections O(N^2)
        if self._conn is not None:
            self._served._connections.get(self._host, set()).discard(self._conn)
            self._conn = None


class _BastionServer(asyncssh.SSHServer):
    def __init__(self, served: FleetSshServer) -> None:
        self._served = served
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._served.stats.bastion_connections += 1
        self._conn = conn

    def connection_requested(
        self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
    ) -> Any:
        endpoint = self._served.endpoints.get(dest_host)
        if endpoint is None or dest_port != SSH_PORT or self._conn is None:
            raise asyncssh.ChannelOpenError(
                asyncssh.OPEN_CONNECT_FAILED, f"{dest_host}:{dest_port}: no such host"
            )
        self._served.stats.forwarded += 1
        return self._conn.forward_connection(LOOPBACK, endpoint.port)


class FleetSshServer:
    """SSH endpoints for the hosts of one fleet, all in this process's event loop.

    `migration_rate`: when set, the fleet's clock is stepped by this many
    virtual seconds per wall second while a migration runs (tests drive the
    clock themselves otherwise; `vdctui emulate` runs it in real time).
    """

    def __init__(
        self,
        fleet: Fleet,
        client_keys: Iterable[asyncssh.SSHKey],
        *,
        host_keys: dict[str, asyncssh.SSHKey] | None = None,
        migration_rate: float | None = None,
        poll_s: float = 0.02,
    ) -> None:
        self.fleet = fleet
        self.client_keys = list(client_keys)
        self.host_keys = dict(host_keys or {})
        self.migration_rate = migration_rate
        self.poll_s = poll_s
        self.endpoints: dict[str, Endpoint] = {}
        self.bastion: Endpoint | None = None
        self.stats = Stats()
        self.faults = Faults()
        self.leftovers = Leftovers()  # closed connections' objects, freed while none is open
        self.on_exec: Callable[[str, str], None] | None = None  # (host, command) of each exec
        self._connections: dict[str, set[asyncssh.SSHServerConnection]] = {}
        self._open_execs: dict[asyncssh.SSHServerConnection, int] = {}
        self._virsh: dict[str, Virsh] = {}
        self._clock: asyncio.Task[None] | None = None
        self._authorized = asyncssh.import_authorized_keys(
            "".join(k.export_public_key().decode() for k in self.client_keys)
        )

    # --- state ---------------------------------------------------------------------------

    def answers(self, host: str) -> bool:
        h = self.fleet.hosts.get(host)
        return h is not None and h.state == "up" and not h.partitioned

    def resolve(self, address: str) -> str | None:
        """A migration URI's host part: a host name, or 127.0.0.1:PORT of an endpoint."""
        if address in self.fleet.hosts:
            return address
        host, _, port = address.rpartition(":")
        for endpoint in self.endpoints.values():
            if str(endpoint.port) == port and host in (LOOPBACK, "localhost", "[127.0.0.1]"):
                return endpoint.host
        return None

    def _on_injection(self, host: str, command: str, why: str) -> None:
        self.stats.injections.append(Injection(host, command, why))
        self.fleet.emit(
            "fault.shell-injection",
            f"Host {host} was sent a command a shell would misread: {why}.",
            host,
        )

    def cut_off(self, host: str) -> None:
        """Drop the host's open connections (it went down or was partitioned)."""
        for conn in list(self._connections.pop(host, ())):
            conn.abort()

    # --- serving ---------------------------------------------------------------------------

    async def start(
        self, hosts: Iterable[str] | None = None, *, base_port: int = 0
    ) -> dict[str, int]:
        """Listen for each host on 127.0.0.1; return name -> port.

        Ports are ephemeral, or base_port, base_port + 1, ... in host name order."""
        for index, name in enumerate(sorted(self.fleet.hosts) if hosts is None else hosts):
            await self._listen(name, base_port + index if base_port else 0)
        if self.migration_rate is not None and self._clock is None:
            self._clock = asyncio.get_running_loop().create_task(self._run_migrations())
        return {name: e.port for name, e in self.endpoints.items()}

    async def _listen(self, name: str, port: int) -> None:
        key = self.host_keys.setdefault(name, new_key())
        virsh = self._virsh.get(name)
        if virsh is None:
            virsh = self._virsh[name] = Virsh(
                self.fleet,
                name,
                resolve_host=self.resolve,
                on_injection=self._on_injection,
                poll_s=self.poll_s,
            )
        acceptor = await asyncssh.listen(
            LOOPBACK,
            port,
            server_host_keys=[key],
            authorized_client_keys=self._authorized,
            server_factory=lambda: _HostServer(self, name),
            process_factory=lambda process: self._exec(name, virsh, process),
            keepalive_interval=0,
            login_timeout=30,
            encoding="utf-8",
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            line_editor=False,
        )
        port = acceptor.sockets[0].getsockname()[1]
        self.endpoints[name] = Endpoint(name, port, key, acceptor)

    async def stop_host(self, name: str) -> None:
        """Stop one host's SSH server (its sshd died): connections dropped, none accepted."""
        endpoint = self.endpoints[name]
        if endpoint.server is not None:
            endpoint.server.close()
            with contextlib.suppress(Exception):
                await endpoint.server.wait_closed()
            endpoint.server = None
        self.cut_off(name)

    async def restart_host(self, name: str) -> None:
        """Start a stopped host's SSH server again, on the same port with the same key."""
        endpoint = self.endpoints[name]
        if endpoint.server is None:
            await self._listen(name, endpoint.port)

    async def start_bastion(self, key: asyncssh.SSHKey | None = None, *, port: int = 0) -> int:
        key = key or self.host_keys.setdefault("@bastion", new_key())
        acceptor = await asyncssh.listen(
            LOOPBACK,
            port,
            server_host_keys=[key],
            authorized_client_keys=self._authorized,
            server_factory=lambda: _BastionServer(self),
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            login_timeout=30,
        )
        port = acceptor.sockets[0].getsockname()[1]
        self.bastion = Endpoint("@bastion", port, key, acceptor)
        return port

    async def _exec(self, host: str, virsh: Virsh, process: asyncssh.SSHServerProcess[str]) -> None:
        self.stats.execs += 1
        one_packet_a_turn(process.channel)  # a command's writes in a turn: one packet
        conn = cast(asyncssh.SSHServerConnection, process.channel.get_connection())
        if self.on_exec is not None:
            self.on_exec(host, process.command or "")
        open_now = self._open_execs[conn] = self._open_execs.get(conn, 0) + 1
        self.stats.max_channels = max(self.stats.max_channels, open_now)
        try:
            await self._answer(host, virsh, process, conn)
        finally:
            left = self._open_execs.pop(conn) - 1
            if left:
                self._open_execs[conn] = left

    async def _answer(
        self,
        host: str,
        virsh: Virsh,
        process: asyncssh.SSHServerProcess[str],
        conn: asyncssh.SSHServerConnection,
    ) -> None:
        if not self.answers(host):
            self.cut_off(host)
            conn.abort()
            return
        if self.faults.delay_s:
            await asyncio.sleep(self.faults.delay_s)
        if host in self.faults.stalled:
            self.stats.stalled += 1
            try:
                await process.channel.wait_closed()
            finally:
                self.stats.stalled -= 1
            return
        command = process.command
        if not command:
            process.stderr.write(
                "This emulated host runs virsh commands only (e.g. ssh HOST virsh list --all).\n"
            )
            process.exit(1)
            return
        if is_event_loop(command):
            await stream_events(
                self.fleet,
                host,
                process.stdout.write,
                going=lambda: self.answers(host) and not process.channel.is_closing(),
                timestamp="--timestamp" in command,
            )
            if not self.answers(host):
                self.cut_off(host)
                conn.abort()
            return
        domain = console_domain(command)
        if domain is not None:  # `virsh console VM`: the VM's serial console, on a terminal
            with contextlib.suppress(BrokenPipeError, ConnectionError):
                await serve_console(self.fleet, host, domain, process, lambda: self.answers(host))
            if not self.answers(host):
                self.cut_off(host)
                conn.abort()
            return
        mark = probe_then_interactive(command)
        if mark is not None:  # the probe's answer, then the virsh kept open
            process.stdout.write(virsh.process_probe(mark))
        if mark is not None or is_interactive(command):
            with contextlib.suppress(HostUnreachable, BrokenPipeError, ConnectionError):
                await converse(virsh, process, going=lambda: self.answers(host))
            if not self.answers(host):
                self.cut_off(host)
                conn.abort()
            return
        stdin = ""
        if " define " in f" {command} ":
            stdin = await process.stdin.read()
        try:
            result = await virsh.run(command, stdin)
        except HostUnreachable:
            self.cut_off(host)
            conn.abort()
            return
        except Exception as exc:  # an emulator bug: say so instead of hanging the client
            process.stderr.write(f"error: internal error: {type(exc).__name__}: {exc}\n")
            process.exit(1)
            return
        if not self.answers(host):  # cut off while the command ran (e.g. during a migration)
            self.cut_off(host)
            conn.abort()
            return
        drops = self.faults.drop_after.get(host, 0)
        if drops > 0:  # it ran; the reply is lost with the connection
            self.faults.drop_after[host] = drops - 1
            conn.abort()
            return
        process.stdout.write(result.stdout)
        process.stderr.write(result.stderr)
        process.exit(result.status)

    async def _run_migrations(self) -> None:
        tick = 0.01
        while True:
            if self.fleet.migrations and self.migration_rate:
                self.fleet.step(self.migration_rate * tick)
                for name in list(self._connections):
                    if not self.answers(name):
                        self.cut_off(name)
                await asyncio.sleep(tick)
            else:
                await asyncio.sleep(self.poll_s)

    async def close(self) -> None:
        if self._clock is not None:
            await cancelled(self._clock)
            self._clock = None
        for conns in self._connections.values():
            for conn in list(conns):
                conn.abort()
        self._connections.clear()
        servers = [e.server for e in self.endpoints.values() if e.server is not None]
        if self.bastion is not None:
            servers.append(self.bastion.server)
        for server in servers:
            server.close()
        for server in servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self.endpoints.clear()
        self.bastion = None
