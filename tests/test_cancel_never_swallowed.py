"""Ctrl-C is never lost in a wait (found on CI: a `vdctui vm suspend` handed to a holder
ignored Ctrl-C and waited forever). Python 3.11's `asyncio.wait_for` returns the result
of what it waits for when that ends in the same loop turn as the cancellation of the task
that waits: the cancellation is swallowed (fixed in 3.12). The asker was announcing its
request on the holder's socket when Ctrl-C came: the failed connection won, the asker
went on waiting for an answer that its taker, asked for nothing, never sent.

`asyncio.timeout` (3.11) does not swallow it: the code uses it, never `wait_for`."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from vdctui import fleet_socket

ROOT = Path(__file__).resolve().parents[1]


async def test_ctrl_c_while_announcing_cancels_the_asker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asker: asyncio.Task[bool] | None = None

    async def refused_as_ctrl_c_comes(*_args: Any, **_kwargs: Any) -> Any:
        assert asker is not None
        asker.cancel()  # Ctrl-C, in the same turn as the connection fails
        raise FileNotFoundError("no holder's socket")

    monkeypatch.setattr(asyncio, "open_unix_connection", refused_as_ctrl_c_comes)
    asker = asyncio.ensure_future(fleet_socket.announce(tmp_path / "vdctui.db", 1, "digest"))
    with pytest.raises(asyncio.CancelledError):
        await asker


def test_no_wait_can_swallow_a_cancellation() -> None:
    """The class: no module of the console, the emulator or wire uses `asyncio.wait_for`."""
    users = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("vdctui", "emulator", "wire")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\basyncio\.wait_for\(|\bfrom asyncio import .*\bwait_for\b", line)
    ]
    assert not users, f"asyncio.wait_for can swallow Ctrl-C; use asyncio.timeout: {users}"
