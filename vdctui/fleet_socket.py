"""Who hands a change over, as the OS says (issue 10).

A request row in the store names its asker, but anyone who can write the db can write
a row. So the process that holds the embedded fleet takes a request only when a process
of the OS user it names announces it on the holder's Unix domain socket beside the db
(`vdctui.db.sock`): the kernel gives the peer's uid (SO_PEERCRED), which no process can
choose. A row announced by another user, or never announced (written in the db by other
means), is refused and audited; nothing of it is carried out.

Anyone in the group can also rewrite a pending row before the holder takes it (its
action, target, arguments, asker, role). So the asker announces with the request's id a
digest of what it asked (vdctui.store.requests.fingerprint); the holder carries out a row
only if it holds just that, in the transaction that takes it. A row that does not is
refused (audited, said to the asker); an announcement of another user's request is
refused as the announcer's attempt, and leaves the request to its own asker.

The socket is created 0660 like the store (a group that shares the data center may
connect); connecting proves nothing but the uid, and the holder judges the rest: the
role from the db, the conflicts, the door. The holder answers each announcement with a
line: ANSWER_TAKEN, ANSWER_NOT_PENDING, or the one sentence that refuses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from vdctui.ops.identity import user_of

ANNOUNCE_WAIT_S = 5.0  # how long either side waits for the other on the socket
# a pending request not announced on the socket this long after it was asked is refused
UNANNOUNCED_S = 10.0
SHORT_ENOUGH = 100  # bytes: a socket address holds 108

ANSWER_TAKEN = "taken"  # the holder's answers to an announcement; any other is a refusal
ANSWER_NOT_PENDING = "not pending"

OnRequest = Callable[[int, str, str], Awaitable[str]]  # request id, its digest, the OS user


def socket_path(db: Path) -> Path:
    """The holder's socket, beside the console's store."""
    return db.with_name(f"{db.name}.sock")


@contextlib.contextmanager
def _address(path: Path) -> Iterator[str]:
    """`path` as a socket address: through an open descriptor of its folder
    (/proc/self/fd/N/NAME) when the whole path is too long for one."""
    if len(os.fsencode(path)) < SHORT_ENOUGH:
        yield str(path)
        return
    folder = os.open(path.parent, os.O_PATH)
    try:
        yield f"/proc/self/fd/{folder}/{path.name}"
    finally:
        os.close(folder)


def peer_user(sock: socket.socket) -> str:
    """The OS user of the process at the other end of a Unix socket (by its uid)."""
    credentials = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", credentials)
    return user_of(uid)


class RequestSocket:
    """The holder's side: the socket where askers announce their requests."""

    def __init__(self, db: Path, on_request: OnRequest) -> None:
        self.path = socket_path(db)
        self.on_request = on_request
        self._server: asyncio.AbstractServer | None = None
        self._inode: int | None = None
        self._serving: set[asyncio.Task[None]] = set()  # the announcements being heard

    async def open(self) -> None:
        """Serve the socket (a stale one, left by a holder that died, is replaced: this
        process holds the fleet's lock, so no other holder is alive)."""
        with _address(self.path) as where:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(where)
            # known as ours before it listens: a stop while it opens (a cancel at asyncio's
            # yield after it starts serving) closes it, never leaves it serving unseen
            self._server = await asyncio.start_unix_server(
                self._serve, path=where, start_serving=False
            )
            os.chmod(where, 0o660)
            self._inode = os.stat(where).st_ino
            await self._server.start_serving()

    async def close(self) -> None:
        """Hear no more announcements; stop those still being heard (they would go on to
        a store the holder closes next)."""
        if self._server is None:
            return
        self._server.close()
        for hearing in self._serving:
            hearing.cancel()
        await asyncio.gather(*self._serving, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._server.wait_closed()
        self._server = None
        with contextlib.suppress(OSError), _address(self.path) as where:
            if os.stat(where).st_ino == self._inode:  # ours, not a next holder's
                os.unlink(where)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hearing = asyncio.current_task()
        assert hearing is not None  # asyncio runs each connection's callback as a task
        self._serving.add(hearing)
        try:
            async with asyncio.timeout(ANNOUNCE_WAIT_S):
                line = await reader.readline()
            number, _, digest = line.decode("ascii").strip().partition(" ")
            user = peer_user(writer.get_extra_info("socket"))
            said = await self.on_request(int(number or "0"), digest, user)
            writer.write(said.encode()[:500] + b"\n")
            await writer.drain()
        except (OSError, ValueError, TimeoutError):
            pass  # a peer that says nothing sensible is not answered
        except asyncio.CancelledError:
            pass  # the holder is closing: not answered (ended here, as asyncio's stream
            # callback of Python 3.11 cannot take a cancelled task without a traceback)
        finally:
            self._serving.discard(hearing)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def refusal(said: str) -> str | None:
    """The holder's refusal of an announcement, or None (taken, not pending, unheard)."""
    return None if said in ("", ANSWER_TAKEN, ANSWER_NOT_PENDING) else said


async def announce(db: Path, request_id: int, digest: str) -> str:
    """The asker's side: tell the holder of the fleet beside `db` that request
    `request_id` is this process's and holds what `digest` says; what the holder answered
    ("" when it did not hear)."""
    try:
        with _address(socket_path(db)) as where:
            async with asyncio.timeout(ANNOUNCE_WAIT_S):
                reader, writer = await asyncio.open_unix_connection(where)
    except (OSError, TimeoutError):
        return ""
    try:
        writer.write(f"{request_id} {digest}\n".encode())
        await writer.drain()
        async with asyncio.timeout(ANNOUNCE_WAIT_S):
            line = await reader.readline()
        return line.decode(errors="replace").strip()
    except (OSError, TimeoutError):
        return ""
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
