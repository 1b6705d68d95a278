"""`virsh console VM` on a real host (a mixin of `SshDriver`): one SSH channel with a pty,
on the pool's connection to the VM's host.

Why asyncssh and not OpenSSH's `ssh -t`: the pool's connection is the one every other
command uses, so a console goes through exactly the same settings (inventory address and
user, identity, ProxyJump/bastion hops shared with the other hosts, known_hosts plus the
keys trusted in the console, the same refusal of an unknown or changed key), and nothing
is handed to a local shell or command line at all. The remote command line is built
here, every word quoted (`commands.quote`); virsh runs without `-q` so that it says
"Connected to domain" and its escape character, as at a terminal.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import asyncssh

from vdctui.drivers.base import HostUnreachable, InvalidOperation
from vdctui.drivers.serial import SerialChannel
from vdctui.drivers.ssh.commands import quote
from vdctui.model import VmState

if TYPE_CHECKING:
    from vdctui.drivers.ssh.inventory import InventoryHost
    from vdctui.drivers.ssh.pool import ConnectionPool
    from vdctui.model import Vm

LOST = (asyncssh.Error, BrokenPipeError, ConnectionError, OSError)
OPEN_STATES = (VmState.RUNNING, VmState.PAUSED)


def console_command(uri: str, vm: str) -> str:
    """`LC_ALL=C virsh -c URI console --domain VM`, every word quoted for the remote shell."""
    words = ["virsh", "-c", uri, "console", "--domain", vm]
    return "LC_ALL=C " + " ".join(quote(w) for w in words)


class SshChannel(SerialChannel):
    """A `virsh console` process on a host, its pty the operator's terminal."""

    def __init__(self, process: Any, vm: str, host: str, give_back: Any | None = None) -> None:
        super().__init__()
        self.vm = vm
        self.host = host
        self._process = process
        self._give_back = give_back

    async def read(self) -> bytes:
        try:
            data = await self._process.stdout.read(4096)
        except LOST:
            return b""
        return self._keep(bytes(data or b""))

    def write(self, data: bytes) -> None:
        with contextlib.suppress(*LOST):
            self._process.stdin.write(data)

    def resize(self, columns: int, rows: int) -> None:
        with contextlib.suppress(*LOST):
            self._process.change_terminal_size(columns, rows)

    async def close(self) -> None:
        self._process.close()
        with contextlib.suppress(*LOST):
            await self._process.wait_closed()
        if self._give_back is not None:
            self._give_back()
            self._give_back = None

    def exit_status(self) -> int | None:
        status = self._process.exit_status
        return status if isinstance(status, int) and status >= 0 else None


class SshSerial:
    pool: ConnectionPool

    async def _locate(self, name: str) -> tuple[InventoryHost, Vm]:
        raise NotImplementedError  # SshDriver's

    async def open_console(
        self, vm: str, size: tuple[int, int] = (80, 24), term: str = "xterm"
    ) -> SerialChannel:
        inv, seen = await self._locate(vm)
        if seen.state not in OPEN_STATES:
            raise InvalidOperation(
                f"{vm} is {seen.state} on host {inv.name}: its console answers only while it runs."
            )
        conn = await self.pool.connection(inv)
        taken = await self.pool.take_channel(inv)
        give_back = (lambda: self.pool.give_back_channel(inv)) if taken else None
        try:
            process = await conn.create_process(
                console_command(inv.uri, vm),
                term_type=term,
                term_size=size,
                encoding=None,
            )
        except LOST as exc:
            if give_back is not None:
                give_back()
            raise HostUnreachable(
                f"Host {inv.name} did not open a console for {vm}: "
                f"{getattr(exc, 'reason', '') or type(exc).__name__}."
            ) from None
        return SshChannel(process, vm, inv.name, give_back)
