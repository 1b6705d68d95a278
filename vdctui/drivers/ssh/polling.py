"""The poll of each host over one interactive `virsh` kept open on it.

As one exec each, every poll costs a channel opened and closed (a handful of SSH
packets and round trips each way), a shell, a virsh process and a libvirt connection
on the host. A console polls every few seconds: each poll is one line written to a
virsh that stays open (`session.VirshSession`, as a migration's progress is read)
and its answer read back. The first poll opens it, on one channel with the process
probe run just before it (`first`): its answer starts with the probe's output.

Where no session can be had (the host's channels are taken) or one ends (its
connection dropped), `ask` says so (None) and the poll is an exec, as before; the
session is opened again at a later poll. A virsh that says nothing within the pool's
command timeout makes the host unreachable, as an exec that does not finish does.
"""

from __future__ import annotations

from vdctui.drivers.base import HostUnreachable
from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.pool import ConnectionPool
from vdctui.drivers.ssh.session import VirshSession


class PollSessions:
    """Each host's kept-open virsh for polling, opened at its second poll."""

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self._sessions: dict[str, VirshSession] = {}
        self.asks = 0  # lines answered on kept-open sessions

    async def ask(self, host: InventoryHost, line: str, first: str = "") -> str | None:
        """What the host's kept-open virsh answers to `line` (commands.script_line); None
        when the poll should be an exec instead (no channel to spare, or the session
        ended: it is closed, and opened again at a later poll). `first` runs before the
        virsh when one is opened here, its output before the answer."""
        session = self._sessions.get(host.name)
        if session is None or session.broken:
            session = await self._open(host, first, line)
            if session is None:
                return None
        try:
            answer = await session.ask_line(line)
        except HostUnreachable:
            await self.drop(host)
            if session.timed_out:  # a stalled host: not once more as an exec
                limit = self.pool.limits.command_timeout_s
                raise HostUnreachable(
                    f"Host {host.name} did not finish a command within {limit:g} s."
                ) from None
            return None
        self.asks += 1
        return answer

    def last_error(self, host: InventoryHost) -> str:
        """The last `error:` line the host's virsh printed (what a failed poll says)."""
        session = self._sessions.get(host.name)
        return session.last_error.removeprefix("error:").strip() if session else ""

    async def _open(self, host: InventoryHost, first: str, line: str) -> VirshSession | None:
        await self.drop(host)
        session = VirshSession(self.pool, host)
        try:  # the poll's answer is read between its markers; its line goes with the exec
            await session.open(greet=False, first=first, then=line)
        except HostUnreachable:
            await session.close()
            return None
        self._sessions[host.name] = session
        return session

    async def drop(self, host: InventoryHost) -> None:
        session = self._sessions.pop(host.name, None)
        if session is not None:
            await session.close()

    async def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()
