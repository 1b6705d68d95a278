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

And its login: asyncssh's server, at each connection's first auth request, prepares
its options anew (to apply an sshd_config's `Match` blocks) in a thread of the default
executor: a thread hop and a host name lookup (`socket.getfqdn`) per connection,
contending for the GIL with every other handshake, and the success answered a loop turn
late, in a packet of its own. The emulated hosts have no sshd_config: their options are
those they listen with, so `like_openssh` keeps them (`no_config_to_reload`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncssh

from wire.coalescing import coalesce
from wire.ignore_packets import drop_ignore_packets


def like_openssh(conn: asyncssh.SSHServerConnection) -> None:
    """From the server's `connection_made`: one send() a burst, no ignore packets."""
    coalesce(conn)
    drop_ignore_packets(conn)
    no_config_to_reload(conn)


async def _options_as_listening() -> None:
    """No sshd_config to apply per connection: the options stay those of `listen`."""


def no_config_to_reload(conn: asyncssh.SSHServerConnection) -> None:
    """The connection's auth starts at once, with its options as they are (a plain
    function, not a closure over `conn`: nothing that would keep it in a cycle)."""
    conn.reload_config = _options_as_listening  # type: ignore[method-assign]


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
