"""How the emulated hosts' sshd puts its packets on the wire: as OpenSSH's would.

asyncssh writes every SSH packet to the socket on its own, and sends an empty
SSH_MSG_IGNORE before each packet after the key exchange (a countermeasure for CBC
ciphers). A host's sshd in C does neither: it sends what it has in one write, and
no ignore packets. Here the emulator does the same (`like_openssh`), so a client
(the console) is charged for what a real host would send it, no more.

A command's output likewise: OpenSSH's sshd reads what the command wrote to its pipe
once per turn of its loop, and sends it as one SSH_MSG_CHANNEL_DATA (up to the
channel's packet size), however many writes the command made; asyncssh sends a packet
per write. `one_packet_a_turn(channel)` gathers what the emulated command writes in one
turn of the event loop into one write (stdout and stderr each, in order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncssh
from asyncssh.constants import MSG_IGNORE


def like_openssh(conn: asyncssh.SSHServerConnection) -> None:
    """From the server's `connection_made`: one send() a burst, no ignore packets."""
    coalesce(conn)
    drop_ignore_packets(conn)


class Coalescing:
    """A socket transport that sends what one event-loop turn wrote in one send().

    asyncssh writes every SSH packet on its own, and a handshake or a command's
    reply is a burst of them (key exchange reply + NEWKEYS; data, exit status,
    EOF, close): one system call per burst instead of per packet keeps the
    emulator's CPU for answering, which is what a host's sshd in C would do.
    The bytes and their order are unchanged.
    """

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


def coalesce(conn: asyncssh.SSHServerConnection) -> None:
    transport = getattr(conn, "_transport", None)  # set before the owner hears of the connection
    if transport is not None and not isinstance(transport, Coalescing):
        conn._transport = Coalescing(transport, asyncio.get_running_loop())  # type: ignore[assignment]


def drop_ignore_packets(conn: asyncssh.SSHServerConnection) -> None:
    """No empty MSG_IGNORE before each packet (asyncssh sends them through
    `send_packet` on itself), unless the cipher negotiated is a CBC one."""
    send = conn.send_packet

    def send_packet(pkttype: int, *args: bytes, **kwargs: Any) -> None:
        if pkttype == MSG_IGNORE and "cbc" not in str(conn.get_extra_info("send_cipher", "")):
            return
        send(pkttype, *args, **kwargs)

    conn.send_packet = send_packet  # type: ignore[method-assign]


def one_packet_a_turn(channel: Any) -> None:
    """What a command writes on `channel` during one event-loop turn, sent as one write
    (a packet, where it fits) at the end of it. Its exit, EOF and close go after it."""
    write = channel.write
    loop = asyncio.get_running_loop()
    pending: list[tuple[Any, Any]] = []  # (datatype, data), in the order written

    def flush() -> None:
        while pending:
            datatype = pending[0][0]
            run = 0
            while run < len(pending) and pending[run][0] == datatype:
                run += 1
            data = pending[0][1][:0].join(d for _, d in pending[:run])
            del pending[:run]
            try:
                write(data, datatype)
            except OSError:  # the channel closed meanwhile: the output goes nowhere
                pending.clear()

    def gathered(data: Any, datatype: Any = None) -> None:
        if not pending:
            if getattr(channel, "_send_state", "open") != "open" or not data:
                write(data, datatype)  # raises as asyncssh would, or writes nothing
                return
            loop.call_soon(flush)
        pending.append((datatype, data))

    def flushing_first(end: Callable[..., Any]) -> Callable[..., Any]:
        def ending(*args: Any, **kwargs: Any) -> Any:
            flush()
            return end(*args, **kwargs)

        return ending

    channel.write = gathered
    for name in ("write_eof", "exit", "exit_with_signal", "close"):
        setattr(channel, name, flushing_first(getattr(channel, name)))
