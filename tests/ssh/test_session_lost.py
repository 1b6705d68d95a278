"""A kept-open virsh whose SSH connection is lost (its host was just powered off) says the
session closed (the poll then falls back to an exec, and the host is unreachable or off);
asyncssh's ConnectionLost never escapes a poll (it failed a sync right after a balancer
power-off through a BMC)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import asyncssh
import pytest

from vdctui.drivers.ssh.pool import PoolLimits
from vdctui.drivers.ssh.session import SessionClosed, VirshSession


class _Lost:
    def write(self, _text: str) -> None:
        return None

    async def read(self, _n: int) -> str:
        raise asyncssh.ConnectionLost("Connection lost")


async def test_a_session_whose_connection_is_lost_is_closed_not_crashed() -> None:
    host: Any = SimpleNamespace(name="h1", uri="qemu:///system")
    pool: Any = SimpleNamespace(limits=PoolLimits())  # its command timeout bounds an answer
    session = VirshSession(pool=pool, host=host)
    session._process = SimpleNamespace(stdin=_Lost(), stdout=_Lost())
    with pytest.raises(SessionClosed, match="stopped answering"):
        await session.ask_line("list --name")
    assert session.broken
    assert not session.timed_out  # lost, not silent: the poll falls back to an exec
