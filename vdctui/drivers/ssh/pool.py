"""One pooled asyncssh connection per host (and per bastion), with limits and backoff.

- at most `max_channels` commands at a time on one connection;
- at most `max_handshakes_total` SSH handshakes at a time in all: a cold refresh of
  500 hosts makes its connections in waves, each within its connect timeout, instead of
  500 at once sharing the CPU until every one of them times out;
- at most `max_handshakes` SSH handshakes at a time per target (the first hop:
  the bastion for hosts behind one, else the host itself);
- bastions from the inventory's `jump` or an ssh_config `ProxyJump` are opened
  by the pool, once: every host behind one shares its connection;
- keepalive on every connection; a timeout on every command;
- after a failed connection, the host is left alone for a backoff (0.5 s,
  doubling to 30 s) and calls fail at once with the reason;
- reads are retried (twice) after a dropped connection; changes never are.

Algorithms: asyncssh's defaults, reordered (nothing added, nothing removed) so
that curve25519-sha256 key exchange, ssh-ed25519 host keys and AES-GCM come
first: in Python, chacha20-poly1305 costs three cipher setups per packet and
the ML-KEM hybrid exchange a key pair and bigger packets per handshake, which
adds up over a fleet. An ssh_config that sets `KexAlgorithms`, `Ciphers` or
`HostKeyAlgorithms` is left in charge of that choice. The client key file and
where the ssh_config is are looked up once per pool, not once per connection. No
empty MSG_IGNORE goes before every packet, as asyncssh would send (`wire.ignore_packets`).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import asyncssh
from asyncssh.config import SSHClientConfig

from vdctui.drivers.base import HostUnreachable
from vdctui.drivers.ssh.connecting import open_connection, preferred_algorithms
from vdctui.drivers.ssh.hostkeys import NO_KNOWN_HOSTS, Check, CheckingClient, HostKeyBook
from vdctui.drivers.ssh.inventory import Address, Inventory, InventoryHost, parse_address
from vdctui.drivers.ssh.pipelined import process_writing_first
from vdctui.drivers.ssh.prepared import PreparedOptions

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
READ_RETRIES = 2
# what a lost connection or a channel the host would not open raises
CHANNEL_LOST = (
    asyncssh.ChannelOpenError,
    asyncssh.ConnectionLost,
    asyncssh.DisconnectError,
    BrokenPipeError,
    ConnectionError,
)
_NOT_RETRIED = " (a change: it may or may not have taken effect, and was not retried)"

_CONFIG_ALGS = re.compile(
    r"^\s*(kexalgorithms|ciphers|hostkeyalgorithms)\b", re.IGNORECASE | re.MULTILINE
)


@dataclass(frozen=True, slots=True)
class Completed:
    stdout: str
    stderr: str
    status: int

    @property
    def error(self) -> str:
        """The last `error: ...` line virsh printed, without the prefix (or the stderr tail)."""
        lines = [line.strip() for line in self.stderr.splitlines() if line.strip()]
        errors = [
            line.removeprefix("error:").strip() for line in lines if line.startswith("error:")
        ]
        text = (errors or lines or [f"exit status {self.status}"])[-1]
        return text


@dataclass(frozen=True, slots=True)
class PoolLimits:
    max_channels: int = 8
    max_handshakes: int = 5
    max_handshakes_total: int = 64
    command_timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    keepalive_s: float = 15.0
    backoff_first_s: float = BACKOFF_FIRST_S  # after a failed connection; doubles each time
    backoff_max_s: float = BACKOFF_MAX_S


@dataclass
class _Link:
    """One SSH connection target (a host or a bastion) and its state."""

    key: str
    conn: asyncssh.SSHClientConnection | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    channels: asyncio.Semaphore | None = None
    down_until: float = 0.0
    backoff: float = 0.0
    reason: str = ""
    refusal: HostUnreachable | None = None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncssh.PermissionDenied):
        return "the SSH login was refused (permission denied)"
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return f"its host key was not accepted ({exc.reason})"
    if isinstance(exc, asyncssh.DisconnectError):
        return f"SSH disconnected ({exc.reason or type(exc).__name__})"
    if isinstance(exc, asyncssh.ChannelOpenError):
        return f"SSH refused a channel ({exc.reason})"
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return "it did not answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    return str(exc) or type(exc).__name__


class ConnectionPool:
    def __init__(
        self,
        inventory: Inventory,
        book: HostKeyBook,
        *,
        limits: PoolLimits | None = None,
        on_refused: Callable[[HostUnreachable], None] | None = None,
        agent_path: str | None = None,
    ) -> None:
        self.inventory = inventory
        self.book = book
        self.limits = limits or PoolLimits()
        self.on_refused = on_refused
        self.agent_path = agent_path
        self._links: dict[str, _Link] = {}
        self._held: dict[str, int] = {}  # channels long-lived processes hold, by host
        self._handshakes: dict[str, asyncio.Semaphore] = {}
        self._handshakes_total = asyncio.Semaphore(self.limits.max_handshakes_total)
        self._keys: dict[Path, Any] = {}  # identity file -> asyncssh key pairs, read once
        self._config_sets: dict[tuple[str, ...], frozenset[str]] = {}
        self._config_jumps: dict[Address, tuple[Address, ...]] = {}
        self._config_files: list[str] | None = None  # `_config_paths`
        self._prepared = PreparedOptions()  # asyncssh's options, once for hosts alike
        self.handshakes_done = 0
        self.execs_done = 0

    def _link(self, key: str) -> _Link:
        link = self._links.get(key)
        if link is None:
            link = self._links[key] = _Link(
                key, channels=asyncio.Semaphore(self.limits.max_channels)
            )
        return link

    def _handshake_gate(self, target: str) -> asyncio.Semaphore:
        gate = self._handshakes.get(target)
        if gate is None:
            gate = self._handshakes[target] = asyncio.Semaphore(self.limits.max_handshakes)
        return gate

    def _client_keys(self, path: Path) -> Any:
        keys = self._keys.get(path)
        if keys is None:
            keys = self._keys[path] = asyncssh.load_keypairs(str(path))
        return keys

    def _config_algorithms(self, paths: tuple[str, ...]) -> frozenset[str]:
        """Which of KexAlgorithms/Ciphers/HostKeyAlgorithms the ssh_config files set."""
        found = self._config_sets.get(paths)
        if found is None:
            names: set[str] = set()
            for path in paths:
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    text = Path(path).expanduser().read_text(encoding="utf-8")
                    names.update(m.lower() for m in _CONFIG_ALGS.findall(text))
            found = self._config_sets[paths] = frozenset(names)
        return found

    def _options(self, address: Address, identity: Path | None) -> dict[str, Any]:
        configured = self._config_algorithms(tuple(self._config_paths()))
        options: dict[str, Any] = {
            "known_hosts": NO_KNOWN_HOSTS,
            "keepalive_interval": self.limits.keepalive_s,
            "keepalive_count_max": 3,
            "connect_timeout": self.limits.connect_timeout_s,
            "login_timeout": self.limits.connect_timeout_s,
            "compression_algs": None,  # small text outputs: compression only costs CPU
        }
        preferred = preferred_algorithms()
        if "kexalgorithms" not in configured:
            options["kex_algs"] = preferred["kex_algs"]
        if "ciphers" not in configured:
            options["encryption_algs"] = preferred["encryption_algs"]
        options["server_host_key_algs"] = (
            "default" if "hostkeyalgorithms" in configured else preferred["server_host_key_algs"]
        )
        # the inventory's ssh_config, else ~/.ssh/config if there is one (looked for once;
        # given `()`, asyncssh would look for it again at every connection)
        options["config"] = self._config_paths()
        key = identity or self.inventory.identity
        if key is not None:
            options["client_keys"] = self._client_keys(key)
            options["agent_path"] = None
        elif self.agent_path is not None:
            options["agent_path"] = self.agent_path
        if address.user:
            options["username"] = address.user
        if address.port:
            options["port"] = address.port
        return options

    async def _connect(
        self,
        name: str,
        address: Address,
        identity: Path | None,
        tunnel: asyncssh.SSHClientConnection | None,
        gate_key: str,
    ) -> asyncssh.SSHClientConnection:
        client = CheckingClient(self.book, name)
        options = self._options(address, identity)
        if tunnel is not None:
            options["tunnel"] = tunnel
        async with self._handshake_gate(gate_key), self._handshakes_total:
            try:
                conn = await open_connection(
                    address.host, lambda: client, like=self._prepared, **options
                )
            except BaseException as exc:
                refusal = client.refusal()
                if refusal is not None and isinstance(exc, asyncssh.Error | OSError):
                    if self.on_refused is not None:
                        self.on_refused(refusal)
                    raise refusal from None
                raise
        self.handshakes_done += 1
        return conn

    def _hops(self, host: InventoryHost) -> tuple[Address, ...]:
        """The bastions in front of a host: its `jump`, else a ProxyJump from ssh_config.

        asyncssh would follow an ssh_config ProxyJump by itself, but with a new
        bastion connection per host, checked against ~/.ssh/known_hosts rather
        than the inventory's: the pool opens the hops itself so hosts share them.
        """
        if host.jump is not None:
            return (host.jump,)
        found = self._config_jumps.get(host.address)
        if found is None:
            found = self._config_jumps[host.address] = _config_jump(
                self._config_paths(), host.address
            )
        return found

    def _config_paths(self) -> list[str]:
        """The ssh_config files, looked for once per pool (not once per host)."""
        if self._config_files is None:
            if self.inventory.ssh_config is not None:
                self._config_files = [str(self.inventory.ssh_config)]
            else:
                default = Path("~/.ssh/config").expanduser()
                self._config_files = [str(default)] if os.access(default, os.R_OK) else []
        return self._config_files

    async def _jump(self, host: InventoryHost) -> asyncssh.SSHClientConnection | None:
        hops = self._hops(host)
        return await self._through(hops, host.identity) if hops else None

    async def _through(
        self, hops: tuple[Address, ...], identity: Path | None
    ) -> asyncssh.SSHClientConnection:
        """The shared connection to the last of `hops`, each reached through the one before."""
        key = _jump_key(hops)
        last = hops[-1]

        async def make() -> asyncssh.SSHClientConnection:
            tunnel = await self._through(hops[:-1], identity) if len(hops) > 1 else None
            gate = _jump_key(hops[:-1]) if len(hops) > 1 else key
            return await self._connect(f"bastion {last}", last, identity, tunnel, gate)

        return await self._open(self._link(key), f"bastion {last}", make)

    async def _open(
        self, link: _Link, label: str, make: Callable[[], Any]
    ) -> asyncssh.SSHClientConnection:
        if link.conn is not None and not link.conn.is_closed():
            return link.conn
        async with link.lock:
            if link.conn is not None and not link.conn.is_closed():
                return link.conn
            now = time.monotonic()
            if now < link.down_until:
                if link.refusal is not None:
                    raise link.refusal
                raise HostUnreachable(
                    f"{label} is unreachable: {link.reason} "
                    f"(next try in {link.down_until - now:.0f} s)."
                )
            try:
                link.conn = await make()
            except HostUnreachable as exc:
                self._failed(link, str(exc), exc)
                raise
            except (TimeoutError, asyncssh.Error, OSError) as exc:
                reason = _reason(exc)
                self._failed(link, reason, None)
                raise HostUnreachable(
                    f"{label[0].upper()}{label[1:]} is unreachable: {reason}."
                ) from None
            link.backoff = 0.0
            link.refusal = None
            link.reason = ""
            return link.conn

    def _failed(self, link: _Link, reason: str, refusal: HostUnreachable | None) -> None:
        link.backoff = min(
            self.limits.backoff_max_s, link.backoff * 2 or self.limits.backoff_first_s
        )
        link.down_until = time.monotonic() + link.backoff
        link.reason = reason
        link.refusal = refusal
        link.conn = None

    async def connection(self, host: InventoryHost) -> asyncssh.SSHClientConnection:
        link = self._link(host.name)

        async def make() -> asyncssh.SSHClientConnection:
            tunnel = await self._jump(host)
            hops = self._hops(host)
            gate = _jump_key(hops) if hops else f"host:{host.address}"
            return await self._connect(host.name, host.address, host.identity, tunnel, gate)

        return await self._open(link, f"host {host.name}", make)

    def forget(self, host: InventoryHost) -> None:
        """Drop a host's connection (it misbehaved); the next call reconnects."""
        link = self._links.get(host.name)
        if link is not None and link.conn is not None:
            link.conn.abort()
            link.conn = None

    async def run(
        self,
        host: InventoryHost,
        command: str,
        *,
        read: bool = True,
        input: str | None = None,
        timeout: float | None = None,
    ) -> Completed:
        """Run one command on a host; connection trouble raises HostUnreachable."""
        attempts = 1 + (READ_RETRIES if read else 0)
        limit = self.limits.command_timeout_s if timeout is None else timeout
        for attempt in range(attempts):
            conn = await self.connection(host)
            link = self._link(host.name)
            assert link.channels is not None
            try:
                async with link.channels:
                    result = await _exec(conn, command, input, limit)
            except TimeoutError:
                unknown = "" if read else _NOT_RETRIED
                raise HostUnreachable(
                    f"Host {host.name} did not finish a command within {limit:g} s{unknown}."
                ) from None
            except CHANNEL_LOST as exc:
                self.forget(host)
                if attempt + 1 < attempts:
                    await asyncio.sleep(0.05 * (attempt + 1))
                    continue
                maybe = "" if read or isinstance(exc, asyncssh.ChannelOpenError) else _NOT_RETRIED
                raise HostUnreachable(
                    f"Host {host.name} is unreachable: {_reason(exc)}{maybe}."
                ) from None
            self.execs_done += 1
            status = result.exit_status
            if status is None:  # killed by a signal or the connection dropped mid-command
                self.forget(host)
                if attempt + 1 < attempts:
                    continue
                raise HostUnreachable(
                    f"Host {host.name} dropped the connection during a "
                    f"command{'' if read else _NOT_RETRIED}."
                )
            return Completed(_text(result.stdout), _text(result.stderr), status)
        raise HostUnreachable(f"Host {host.name} is unreachable.")  # pragma: no cover

    async def lines(
        self, host: InventoryHost, command: str, on_started: Callable[[], None] | None = None
    ) -> AsyncIterator[str]:
        """A long-running command's output, line by line, until it ends (then it returns)
        or the connection drops (HostUnreachable). Its channel does not count against
        `max_channels`: it is one per host, open for as long as it runs.

        It runs on a terminal, so that the host hangs it up when the channel or the
        connection goes (else a `virsh event --loop` would live on until its next event)."""
        conn = await self.connection(host)
        process: asyncssh.SSHClientProcess[Any] | None = None
        try:
            process = await conn.create_process(
                command, stdin=asyncssh.DEVNULL, term_type="dumb", term_size=(200, 24)
            )
            if on_started is not None:
                on_started()
            async for line in process.stdout:
                yield _text(line)
        except CHANNEL_LOST as exc:
            self._lost(host, exc)
        finally:
            if process is not None:
                process.close()

    def _lost(self, host: InventoryHost, exc: BaseException) -> NoReturn:
        """The connection to `host` is gone: forget it, and say so in one sentence."""
        self.forget(host)
        raise HostUnreachable(f"Host {host.name} is unreachable: {_reason(exc)}.") from None

    async def take_channel(self, host: InventoryHost) -> bool:
        """One of the host's `max_channels`, for a long-lived process (an interactive
        virsh), if one is free now and half of them stay for everything else (an SSH
        server allows so many sessions a connection: OpenSSH 10). `give_back_channel`."""
        await self.connection(host)
        link = self._link(host.name)
        held = self._held.get(host.name, 0)
        if link.channels is None or link.channels.locked() or held >= self.limits.max_channels // 2:
            return False
        await link.channels.acquire()  # free: returns at once
        self._held[host.name] = held + 1
        return True

    def give_back_channel(self, host: InventoryHost) -> None:
        link = self._link(host.name)
        if self._held.get(host.name, 0) > 0 and link.channels is not None:
            self._held[host.name] -= 1
            link.channels.release()

    async def process(
        self, host: InventoryHost, command: str, *, binary: bool = False, first: str = ""
    ) -> Any:
        """A long-running command with its stdin open (an interactive virsh, a disk copy).
        No terminal: it ends when its stdin does, so closing the process ends it. Its
        channel counts against `max_channels` only if taken (`take_channel`).
        `binary`: bytes, not text. `first`: text on its stdin, sent with the exec."""
        conn = await self.connection(host)
        try:
            async with asyncio.timeout(self.limits.command_timeout_s):
                if binary:
                    return await conn.create_process(command, encoding=None)
                text = {"encoding": "utf-8", "errors": "replace"}
                if first:
                    return await process_writing_first(conn, command, first, **text)
                return await conn.create_process(command, **text)
        except TimeoutError:
            raise HostUnreachable(f"Host {host.name} did not open a channel in time.") from None
        except CHANNEL_LOST as exc:
            self._lost(host, exc)

    async def host_key(self, host: InventoryHost) -> Check:
        """Connect only to read the key a host presents (for `host trust`); never runs anything."""
        tunnel = await self._jump(host)
        client = CheckingClient(self.book, host.name, accept_any=True)
        options = self._options(host.address, host.identity)
        if tunnel is not None:
            options["tunnel"] = tunnel
        try:
            conn = await open_connection(host.address.host, lambda: client, **options)
        except (TimeoutError, asyncssh.Error, OSError) as exc:
            if client.check is None:
                raise HostUnreachable(f"Host {host.name} is unreachable: {_reason(exc)}.") from None
        else:
            conn.close()
        assert client.check is not None
        return client.check

    async def close(self) -> None:
        conns = [link.conn for link in self._links.values() if link.conn is not None]
        hosts_first = sorted(conns, key=lambda c: 0 if c.get_extra_info("tunnel") else 1)
        for conn in hosts_first:
            conn.close()
        for conn in hosts_first:
            with contextlib.suppress(Exception):
                await conn.wait_closed()
        self._links.clear()


async def _exec(
    conn: asyncssh.SSHClientConnection, command: str, input: str | None, limit: float
) -> asyncssh.SSHCompletedProcess:
    """One command on its own channel, within `limit` seconds.

    The channel is closed when the command times out or is cancelled: asyncssh's
    `run(timeout=)` leaves it open, so a host that stalls would pile up open
    channels past the limit on the connection.
    """
    process: asyncssh.SSHClientProcess[Any] | None = None
    try:
        async with asyncio.timeout(limit):
            process = await conn.create_process(command, input=input)
            return await process.wait(check=False)
    except BaseException:
        if process is not None:
            process.close()
        raise


def _jump_key(hops: tuple[Address, ...]) -> str:
    return "jump:" + ",".join(str(hop) for hop in hops)


def _config_jump(paths: list[str], address: Address) -> tuple[Address, ...]:
    """The ProxyJump hops ssh_config gives for an address (none if it gives none)."""
    if not paths:
        return ()
    try:
        local_user = getpass.getuser()
    except (KeyError, OSError):
        local_user = ""
    try:
        config = SSHClientConfig.load(
            None,
            paths,
            False,
            False,
            False,
            local_user,
            address.user or (),
            address.host,
            address.port or (),
        )
    except (ValueError, OSError) as exc:  # asyncssh's ConfigParseError is a ValueError
        raise HostUnreachable(f"Cannot read ssh_config for {address.host}: {exc}.") from None
    value = config.get("ProxyJump")
    if not isinstance(value, str) or not value.strip() or value.strip().lower() == "none":
        return ()
    hops = []
    for hop in value.split(","):
        hop = hop.strip().removeprefix("ssh://")
        try:
            hops.append(parse_address(hop))
        except ValueError as exc:
            raise HostUnreachable(
                f"ssh_config ProxyJump {value!r} for {address.host}: {exc}."
            ) from None
    return tuple(hops)


def _text(data: Any) -> str:
    if data is None:
        return ""
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return str(data)
