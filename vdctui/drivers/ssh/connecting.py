"""Opening one SSH connection: what asyncssh does per connection that a fleet pays 500 times.

Profiled over a cold refresh of 50 emulated hosts (bench/ssh_fanout.py), asyncssh.connect
spent, besides the handshake itself:

- preparing its options in a thread of the event loop's default executor (to read key
  and config files without blocking): a thread hop per connection, and the thread's
  work contending for the GIL with the handshakes. The pool has read the key already;
  the options are prepared here, in the loop (a fraction of a millisecond);
- matching the host key preference (`^ssh-ed25519`, a pattern) against every
  algorithm it knows, at each connection: given as the list it expands to, once;
- formatting the arguments of every log message it writes (hosts, ports, algorithm
  lists) before the logger is asked whether it logs at that level at all
  (`asyncssh.logging.SSHLogger.log`): a connection's logger here asks first
  (`quiet_logs`); what is logged, when it is, is unchanged.

`open_connection` falls back to asyncssh.connect where asyncssh's internals are not
as expected.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable
from typing import Any

import asyncssh
import asyncssh.connection
from asyncssh.logging import SSHLogger
from asyncssh.public_key import get_default_certificate_algs, get_default_public_key_algs

from vdctui.drivers.ssh.prepared import PreparedOptions

# Put first, ahead of asyncssh's defaults (the `^` prefix): a preference, not a restriction.
KEX_FIRST = "^curve25519-sha256,curve25519-sha256@libssh.org"
CIPHERS_FIRST = "^aes128-gcm@openssh.com,aes256-gcm@openssh.com"
HOST_KEYS_FIRST = ("ssh-ed25519",)

# asyncssh's own connect, without its options step (None: another asyncssh)
_connect: Any = getattr(asyncssh.connection, "_connect", None)
_CONNECT_ARGS = ("options", "config", "loop", "flags", "sock", "conn_factory", "msg")


@functools.cache
def preferred_algorithms() -> dict[str, list[str]]:
    """KEX_FIRST and CIPHERS_FIRST as asyncssh expands them (ours, then its defaults), and
    HOST_KEYS_FIRST followed by its default host key algorithms, once: given as patterns,
    asyncssh matches them against every algorithm it knows at each connection."""
    expanded = asyncssh.SSHClientConnectionOptions(
        known_hosts=([], [], []), config=[], kex_algs=KEX_FIRST, encryption_algs=CIPHERS_FIRST
    )
    # what asyncssh offers a host with no key on record in its known_hosts (the console
    # checks keys itself, `hostkeys`): certificate algorithms, then plain keys
    host_keys = [
        alg.decode("ascii")
        for alg in get_default_certificate_algs() + get_default_public_key_algs()
    ]
    return {
        "kex_algs": [alg.decode("ascii") for alg in expanded.kex_algs],
        "encryption_algs": [alg.decode("ascii") for alg in expanded.encryption_algs],
        "server_host_key_algs": [
            *HOST_KEYS_FIRST,
            *(alg for alg in host_keys if alg not in HOST_KEYS_FIRST),
        ],
    }


def _inline_connect_fits() -> bool:
    if _connect is None:
        return False
    try:
        return tuple(inspect.signature(_connect).parameters) == _CONNECT_ARGS
    except (TypeError, ValueError):  # pragma: no cover
        return False


_INLINE = _inline_connect_fits()


async def open_connection(
    host: str,
    client_factory: Callable[[], asyncssh.SSHClient],
    *,
    like: PreparedOptions | None = None,
    **options: Any,
) -> asyncssh.SSHClientConnection:
    """asyncssh.connect(host, client_factory=..., **options), its options prepared here
    (`like`: copied from those of a connection like it, where they can be)."""
    if not _INLINE:
        return await asyncssh.connect(host, client_factory=client_factory, **options)
    loop = asyncio.get_running_loop()
    config = options.get("config", ())
    prepared = (like or PreparedOptions()).for_connection(loop, host, client_factory, options)

    def conn_factory() -> asyncssh.SSHClientConnection:
        return asyncssh.SSHClientConnection(loop, prepared, wait="auth")

    async with asyncio.timeout(prepared.connect_timeout):
        conn: asyncssh.SSHClientConnection = await _connect(
            prepared, config, loop, 0, None, conn_factory, "Opening SSH connection to"
        )
    return conn


class _AskingFirst(SSHLogger):
    """asyncssh's logger, asking whether a level is logged before formatting anything."""

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            super().log(level, msg, *args, **kwargs)


def quiet_logs(conn: asyncssh.SSHClientConnection) -> None:
    """From the client's `connection_made`: its logger (and its channels', made from it)
    formats a message only where it is logged."""
    logger = getattr(conn, "_logger", None)
    if type(logger) is SSHLogger:
        logger.__class__ = _AskingFirst
