"""A stop that is itself stopped says so (a shutdown cancelled, Ctrl-C while a console
closes). The stop paths cancel a task of theirs and wait for it to end; written as

    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task

the `suppress` also swallows the cancellation of the task that waits: cancelled while it
waits (the stop being cancelled), it returns as if it had stopped normally, and whatever
was to be cancelled goes on. `cancelled(task)` (wire.stopping, which the console and
the emulator share) takes the task's own end only,
and raises again when the waiting task is being cancelled (`Task.cancelling()`).

As tests/test_cancel_never_swallowed.py, this checks one such stop and the class: no
module of the console or the emulator suppresses CancelledError."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from vdctui.drivers.emulated import EmulatedDriver
from vdctui.fleet_serving import RequestServer
from wire.stopping import cancelled

ROOT = Path(__file__).resolve().parents[1]


def slow_to_stop(release: asyncio.Event) -> Callable[[], Awaitable[None]]:
    """A task body that, cancelled, takes until `release` to end (a clock saving its
    state, a loop closing its socket)."""

    async def body() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await release.wait()
            raise

    return body


async def stopped_while_stopping(stop: Callable[[asyncio.Task[None]], Awaitable[Any]]) -> None:
    """Run `stop` on a task slow to stop, cancel the stop while it waits for that task,
    then let the task end; the stop must end cancelled."""
    release = asyncio.Event()
    inner = asyncio.ensure_future(slow_to_stop(release)())
    await asyncio.sleep(0)  # it runs
    stopping = asyncio.ensure_future(stop(inner))
    try:
        await asyncio.sleep(0)  # the stop waits for the task to end
        stopping.cancel()  # the stop is stopped
        await asyncio.sleep(0)
    finally:
        release.set()
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert inner.done()


async def test_a_stop_cancelled_while_it_waits_is_cancelled() -> None:
    await stopped_while_stopping(cancelled)


async def test_a_stop_that_is_not_cancelled_takes_the_task_end() -> None:
    inner = asyncio.ensure_future(asyncio.sleep(3600))
    await asyncio.sleep(0)
    await cancelled(inner)  # its own CancelledError is the end asked for: not raised
    assert inner.cancelled()
    await cancelled(None)  # nothing to stop


async def test_a_holder_stopped_while_it_stops_its_loop_is_cancelled() -> None:
    """Two of the stop paths, as they run: the holder's request server, the emulated
    driver's clock."""

    async def closed() -> None:
        return None

    async def stop_server(loop: asyncio.Task[None]) -> None:
        server = RequestServer.__new__(RequestServer)
        server._loop, server._running = loop, set()
        server._socket = type("Closed", (), {"close": staticmethod(closed)})()  # type: ignore[assignment]
        await server.stop()

    async def close_driver(clock: asyncio.Task[None]) -> None:
        driver = EmulatedDriver.__new__(EmulatedDriver)
        driver._clock = clock
        await driver.close()

    await stopped_while_stopping(stop_server)
    await stopped_while_stopping(close_driver)


SUPPRESSED = re.compile(r"suppress\(([^)]*)\bCancelledError\b", re.S)


def test_no_module_suppresses_a_cancellation() -> None:
    """The class: no module of the console or the emulator suppresses CancelledError
    (a call may span lines)."""
    found = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}"
        for folder in ("vdctui", "emulator", "wire")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for text in [path.read_text()]
        for match in SUPPRESSED.finditer(text)
    ]
    assert not found, f"suppress(CancelledError) swallows the stop's own cancel: {found}"
