"""One long-lived interactive `virsh` on a host, asked one command at a time.

A migration's progress is a `domjobinfo` every half second for as long as the copy
runs. As one exec each, every sample costs a channel, a shell, a virsh process and
a libvirt connection on the host: on a loaded host that is where seconds went.
Here one `LC_ALL=C virsh -c URI` reads commands from its stdin, and each sample is
one line written and one libvirt call: the command, then `echo MARKER`, read up to
the marker. (Not `-q`: quiet virsh does not end an echo with a newline, so the
marker would wait for the next command.) Lines virsh echoes (`virsh # ...`) and
its banner are dropped; errors go to stderr, so a command that fails answers "".
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Sequence
from typing import Any

from vdctui.drivers.base import HostUnreachable
from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.pool import CHANNEL_LOST, ConnectionPool

PROMPT = "virsh # "
READ_CHUNK = 1 << 16


class SessionClosed(HostUnreachable):
    """The session's virsh ended, or did not answer in time."""


class VirshSession:
    """`ask(["domjobinfo", "--domain", NAME, "--rawstats"])` -> what virsh printed."""

    def __init__(self, pool: ConnectionPool, host: InventoryHost) -> None:
        self.pool = pool
        self.host = host
        self._process: Any = None
        self._lock = asyncio.Lock()
        self._nonce = secrets.token_hex(8)
        self._asked = 0
        self._drain: asyncio.Task[None] | None = None
        self.broken = False
        self.timed_out = False  # broken because virsh said nothing in time
        self.last_error = ""
        self._channel = False  # holds one of the host's channels
        self._stale: list[str] = []  # markers of asks cancelled before their answer came
        self._unread = ""  # read from virsh, past the last answer
        self._sent: tuple[str, str] | None = None  # (line, marker) written with the exec

    async def open(self, *, greet: bool = True, first: str = "", then: str = "") -> None:
        """Start virsh and read past its banner; HostUnreachable if it cannot, or if the
        host's connection has no channel to spare for it (`ConnectionPool.take_channel`).
        `greet=False`: no round trip for the banner, which the first answer then starts
        with (for an ask whose answer is read between markers of its own). `first`: a
        command run on the same channel before virsh starts, whose output the first
        answer starts with (the poll's process probe: one channel for both). `then`: the
        line the first `ask_line` will ask, sent right behind the exec (`pipelined`)."""
        if not await self.pool.take_channel(self.host):
            raise SessionClosed(f"Host {self.host.name} has no SSH channel to spare.")
        self._channel = True
        command = "LC_ALL=C " + " ".join(commands.quote(w) for w in ("virsh", "-c", self.host.uri))
        if first:
            command = f"{first}; {command}"
        written = ""
        if then and not greet:
            marker = self._next_marker()
            written = self._asking(then, marker)
            self._sent = (then, marker)
        self._process = await self.pool.process(self.host, command, first=written)
        self._drain = asyncio.get_running_loop().create_task(self._drain_errors())
        if greet:
            await self.ask(())

    def _next_marker(self) -> str:
        self._asked += 1
        return f"@@vdctui-{self._nonce}:{self._asked}@@"

    @staticmethod
    def _asking(line: str, marker: str) -> str:
        """What is written to virsh to ask `line`: it, then the echo of the marker."""
        return f"{line}\necho {marker}\n" if line else f"echo {marker}\n"

    async def _drain_errors(self) -> None:
        """Read stderr as it comes (a failed command's `error:` lines), so that it never
        fills the channel's window; the last one is kept."""
        with contextlib.suppress(Exception):
            async for line in self._process.stderr:
                self.last_error = str(line).strip()

    async def ask(self, argv: Sequence[str]) -> str:
        """One command's output (stdout, without virsh's echo of it); SessionClosed when
        virsh is gone or silent for the pool's command timeout (the session is then not
        used again; `timed_out` tells which)."""
        return await self.ask_line(" ".join(commands.quote(w) for w in argv))

    async def ask_line(self, line: str) -> str:
        """The output of a line of virsh commands (`commands.script_line`), as `ask`."""
        if self.broken or self._process is None:
            raise SessionClosed(f"The virsh session on {self.host.name} is closed.")
        async with self._lock:
            sent, self._sent = self._sent, None
            written = sent is not None and sent[0] == line  # with the exec
            if sent is not None and not written:  # another line first: read past its answer
                self._stale.append(sent[1])
            marker = sent[1] if sent is not None and written else self._next_marker()
            try:
                if not written:
                    self._process.stdin.write(self._asking(line, marker))
                async with asyncio.timeout(self.pool.limits.command_timeout_s):
                    while self._stale:  # the rest of answers no one waited for
                        await self._read_to(self._stale[0])
                        self._stale.pop(0)
                    return await self._read_to(marker)
            except asyncio.CancelledError:
                self._stale.append(marker)  # the next ask reads past its answer first
                raise
            except (
                TimeoutError,
                OSError,
                EOFError,
                asyncio.IncompleteReadError,
                *CHANNEL_LOST,
            ) as exc:
                self.broken = True
                self.timed_out = isinstance(exc, TimeoutError)
                raise SessionClosed(
                    f"The virsh session on {self.host.name} stopped answering ({exc or 'timeout'})."
                ) from None

    async def _read_to(self, marker: str) -> str:
        """What virsh printed up to the line that is `marker`, read in chunks as they come
        (a poll's answer is hundreds of lines: not one read each)."""
        while (found := _marker_line(self._unread, marker)) is None:
            chunk = await self._process.stdout.read(READ_CHUNK)
            if not chunk:
                raise EOFError("virsh ended")
            self._unread += chunk if isinstance(chunk, str) else chunk.decode("utf-8", "replace")
        before = self._unread[: found[0]]
        self._unread = self._unread[found[1] :]
        if PROMPT not in before and marker not in before:
            return before  # nothing to drop: not split into lines and joined again
        return "".join(
            line
            for line in before.splitlines(keepends=True)
            # virsh echoing what it was sent (and the banner before it)
            if not line.startswith(PROMPT) and marker not in line
        )

    async def close(self) -> None:
        process, self._process = self._process, None
        self.broken = True
        if self._channel:
            self._channel = False
            self.pool.give_back_channel(self.host)
        if process is not None:
            with contextlib.suppress(Exception):
                process.stdin.write_eof()
            process.close()
        if self._drain is not None:
            self._drain.cancel()
            with contextlib.suppress(BaseException):
                await self._drain


def _marker_line(text: str, marker: str) -> tuple[int, int] | None:
    """Where the line that is `marker` starts and ends in `text` (None: not yet read)."""
    at = text.find(marker)
    while at >= 0:
        end = at + len(marker)
        line_end = end + 1 if text.startswith("\n", end) else end + 2
        if (at == 0 or text[at - 1] == "\n") and text[end:line_end] in ("\n", "\r\n"):
            return at, line_end
        at = text.find(marker, end)
    return None
