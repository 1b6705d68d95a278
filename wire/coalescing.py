"""One send() for what an event-loop turn writes on a connection.

asyncssh writes every SSH packet to its socket on its own. A handshake step or a
command is a burst of packets (NEWKEYS, EXT_INFO and the service request; a key
exchange reply; a channel's data, exit status, EOF and close; a request and its data),
and on loopback or a LAN each send() is a system call that also runs the receiving
end's TCP input: on a cold refresh of a fleet, the console's largest single cost, and
CPU the emulated hosts' sshd needs for answering. Here the bytes written during one
turn of the event loop go out in one send() at the end of it, as OpenSSH's client and
sshd send a burst (same bytes, same order; nothing waits longer than that turn).

Used by the console's SSH client (vdctui.drivers.ssh.hostkeys) and the emulated hosts'
sshd (emulator.sshd.packets).
"""

from __future__ import annotations

import asyncio
from typing import Any


class Coalescing:
    """A transport that sends what one event-loop turn wrote in one write()."""

    def __init__(self, inner: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._inner = inner
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._inner.is_closing():
                self._inner.write(data)

    def close(self) -> None:
        self._flush()
        self._inner.close()

    def abort(self) -> None:
        self._flush()
        self._inner.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def coalesce(conn: Any) -> None:
    """From an asyncssh connection's `connection_made` (client or server): its writes
    coalesced. The connection's transport is set before its owner hears of it."""
    transport = getattr(conn, "_transport", None)
    if transport is not None and not isinstance(transport, Coalescing):
        conn._transport = Coalescing(transport, asyncio.get_running_loop())
