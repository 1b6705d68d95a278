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

A request taken keeps its connection open until the holder has answered it there: its
progress and its answer are said on it (JSON lines, `Reply`), and its asker's cancel is
said on it too (CANCEL). The row in the db is the durable record of the request, written
by the holder, but anyone in the group can write it: the asker believes the connection
alone, and the holder takes a cancel only from the process that announced the request
(a row marked cancelling by someone else stops nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import struct
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from vdctui.ops.identity import user_of

ANNOUNCE_WAIT_S = 5.0  # how long either side waits for the other on the socket
# a pending request not announced on the socket this long after it was asked is refused
UNANNOUNCED_S = 10.0
SHORT_ENOUGH = 100  # bytes: a socket address holds 108

ANSWER_TAKEN = "taken"  # the holder's answers to an announcement; any other is a refusal
ANSWER_NOT_PENDING = "not pending"
CANCEL = b"cancel"  # what an asker says on its taken request's connection to cancel it
LINE_LIMIT = 256 * 1024 * 1024  # bytes in one line of the holder's (a read's answer: a VM's XML)


class Reply:
    """The holder's side of a taken request's connection: what it says there (JSON
    lines: progress, then the answer) reaches only the process that announced the
    request; `on_cancel` is called when that process, and only it, cancels it."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self.on_cancel: Callable[[], None] | None = None

    def say(self, message: dict[str, Any]) -> None:
        """One JSON line to the asker (nothing when it is gone)."""
        if self._writer.is_closing():
            return
        line = json.dumps(message, separators=(",", ":"), ensure_ascii=False) + "\n"
        with contextlib.suppress(Exception):  # the asker went away meanwhile
            self._writer.write(line.encode())

    def end(self, message: dict[str, Any]) -> None:
        """The last line (the answer); then the connection closes once it is sent."""
        self.say(message)
        self._writer.close()

    async def hear(self, reader: asyncio.StreamReader) -> None:
        """What the asker says after its request was taken: a cancel; until it closes
        (it ended, or stopped waiting: the request goes on, its answer kept in its row)."""
        while line := await reader.readline():
            if line.strip() == CANCEL and self.on_cancel is not None:
                cancel, self.on_cancel = self.on_cancel, None  # once
                cancel()


OnRequest = Callable[[int, str, str, Reply], Awaitable[str]]  # id, digest, OS user, its reply


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
        self._taken: set[asyncio.Task[None]] = set()  # the connections of requests taken

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

    async def stop_listening(self) -> None:
        """Hear no more announcements; stop those still being heard (they would go on to
        a store the holder closes next). The connections of requests taken stay open
        for their answers."""
        if self._server is None:
            return
        self._server.close()
        for hearing in self._serving:
            hearing.cancel()
        await asyncio.gather(*self._serving, return_exceptions=True)

    async def close(self) -> None:
        """Stop listening, and close the connections of requests taken (those answered
        are closed already)."""
        if self._server is None:
            return
        await self.stop_listening()
        for connection in self._taken:
            connection.cancel()
        await asyncio.gather(*self._taken, return_exceptions=True)
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
            reply = Reply(writer)
            said = await self.on_request(int(number or "0"), digest, user, reply)
            # said before the request's work can say anything (it runs once this yields)
            writer.write(said.encode()[:500] + b"\n")
            if said == ANSWER_TAKEN:  # open until answered, even while the holder stops
                self._serving.discard(hearing)
                self._taken.add(hearing)
            await writer.drain()
            if said == ANSWER_TAKEN:
                await reply.hear(reader)
        except (OSError, ValueError, TimeoutError):
            pass  # a peer that says nothing sensible is not answered
        except asyncio.CancelledError:
            pass  # the holder is closing: not answered (ended here, as asyncio's stream
            # callback of Python 3.11 cannot take a cancelled task without a traceback)
        finally:
            self._serving.discard(hearing)
            self._taken.discard(hearing)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def refusal(said: str) -> str | None:
    """The holder's refusal of an announcement, or None (taken, not pending, unheard)."""
    return None if said in ("", ANSWER_TAKEN, ANSWER_NOT_PENDING) else said


class Asking:
    """The asker's side of a request's connection to the holder: the announcement, then
    (once taken) what the holder says of the request, its progress and its answer, and
    where the asker says a cancel. Nothing else tells the asker what became of it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.first: str | None = None  # the holder's answer to the announcement, once heard

    @classmethod
    async def open(cls, db: Path) -> Asking | None:
        """A connection to the holder of the fleet beside `db`; None when none listens."""
        try:
            with _address(socket_path(db)) as where:
                async with asyncio.timeout(ANNOUNCE_WAIT_S):
                    reader, writer = await asyncio.open_unix_connection(where, limit=LINE_LIMIT)
        except (OSError, TimeoutError):
            return None
        return cls(reader, writer)

    @property
    def holder_pid(self) -> int | None:
        """The holder's pid, as the kernel says."""
        sock = self._writer.get_extra_info("socket")
        try:
            credentials = sock.getsockopt(
                socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
            )
        except (OSError, AttributeError):
            return None
        return int(struct.unpack("3i", credentials)[0])

    async def announce(self, request_id: int, digest: str) -> str:
        """Announce request `request_id`, asked as `digest` says; what the holder answered
        ("" when it closed without a word). Not bounded: the caller bounds the wait."""
        if self.first is None:
            with contextlib.suppress(OSError):
                self._writer.write(f"{request_id} {digest}\n".encode())
                await self._writer.drain()
            self.first = await self._line()
        return self.first

    async def heard(self) -> str:
        """The holder's answer to the announcement already sent (see `announce`)."""
        if self.first is None:
            self.first = await self._line()
        return self.first

    async def message(self) -> dict[str, Any] | None:
        """The holder's next word on a taken request (progress, or its answer); None when
        the connection closed without one (the holder died or stopped)."""
        line = await self._line()
        try:
            value = json.loads(line) if line else None
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    def cancel(self) -> None:
        """Ask the holder to cancel the request taken on this connection."""
        with contextlib.suppress(Exception):
            self._writer.write(CANCEL + b"\n")

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()

    async def _line(self) -> str:
        try:
            line = await self._reader.readline()
        except (OSError, ValueError):
            return ""
        return line.decode(errors="replace").strip()


async def announce(db: Path, request_id: int, digest: str) -> str:
    """Tell the holder of the fleet beside `db` that request `request_id` is this
    process's and holds what `digest` says, and hang up; what the holder answered ("" when
    it did not hear)."""
    asking = await Asking.open(db)
    if asking is None:
        return ""
    try:
        async with asyncio.timeout(ANNOUNCE_WAIT_S):
            return await asking.announce(request_id, digest)
    except TimeoutError:
        return ""
    finally:
        await asking.close()
