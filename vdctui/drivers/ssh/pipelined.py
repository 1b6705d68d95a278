"""A command's first input sent right behind its exec request, not a round trip later.

asyncssh's `create_process` sends the exec request and waits for the host's answer to
it before it returns the process, so what the console writes first on the command's
stdin (the first poll line of a kept-open virsh) leaves a round trip after the exec:
on a cold refresh of a fleet, a packet, a send() and a wake-up more on each end, per
host. SSH does not ask a client to wait (RFC 4254 6.5: the request, then the data, in
order on the channel), and OpenSSH's client does not: `ssh host cmd < file` sends the
exec request and the file's first bytes together. A host reads them in order: its
sshd starts the command, then writes the data to its stdin, where it waits until the
command reads it (the process probe run before the virsh reads no stdin).

If the host refuses the exec, the data it was sent goes nowhere, and the refusal is
raised as before. Where asyncssh's internals are not as expected (another version),
the first input is written once the process is returned, as before.
"""

from __future__ import annotations

import inspect
from typing import Any

import asyncssh

_REDIRECT_ARGS = ("self", "stdin", "stdout", "stderr", "bufsize", "send_eof", "recv_eof")


def _fits() -> bool:
    try:
        redirect = inspect.signature(asyncssh.SSHClientProcess.redirect)
        session = inspect.signature(asyncssh.SSHClientConnection.create_session)
    except (TypeError, ValueError):  # pragma: no cover
        return False
    return (
        tuple(redirect.parameters) == _REDIRECT_ARGS
        and "session_factory" in session.parameters
        and callable(getattr(asyncssh.SSHClientChannel, "_send_request", None))
    )


_FITS = _fits()


class _WritingFirst(asyncssh.SSHClientProcess):  # type: ignore[type-arg]
    """asyncssh's client process, whose channel sends `first` right after its exec."""

    def __init__(self, first: str) -> None:
        super().__init__()
        self._first = first

    def connection_made(self, chan: Any) -> None:
        super().connection_made(chan)
        send_request = chan._send_request

        def sending(request: bytes, *args: bytes, want_reply: bool = False) -> None:
            send_request(request, *args, want_reply=want_reply)
            if request == b"exec":
                del chan._send_request  # the class's again, and no cycle through here
                chan.write(self._first)

        chan._send_request = sending


async def process_writing_first(
    conn: asyncssh.SSHClientConnection, command: str, first: str, **kwargs: Any
) -> Any:
    """`conn.create_process(command, **kwargs)` (stdin, stdout and stderr pipes), with
    `first` on its stdin, sent right behind the exec request."""
    if not _FITS:
        process = await conn.create_process(command, **kwargs)
        process.stdin.write(first)
        return process
    _, session = await conn.create_session(lambda: _WritingFirst(first), command, **kwargs)
    writing: Any = session
    await writing.redirect(asyncssh.PIPE, asyncssh.PIPE, asyncssh.PIPE)
    return writing
