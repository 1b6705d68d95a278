"""Running the virtual clock: at wall-clock speed (asyncio) or as fast as possible."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from .fleet import Fleet


async def run_realtime(
    fleet: Fleet,
    speed: float = 1.0,
    tick: float = 1.0,
    stop_event: asyncio.Event | None = None,
    on_tick: Callable[[Fleet], None] | None = None,
) -> None:
    """Advance the fleet by `speed` virtual seconds per wall second, every `tick` wall seconds,
    until `stop_event` is set (or forever)."""
    if speed <= 0 or tick <= 0:
        raise ValueError("speed and tick must be above 0")
    stop = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    last = loop.time()
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(tick):
                await stop.wait()
        now = loop.time()
        fleet.step((now - last) * speed)
        last = now
        if on_tick is not None:
            on_tick(fleet)


def run_fast(
    fleet: Fleet, seconds: float, tick: float = 1.0, on_tick: Callable[[Fleet], None] | None = None
) -> None:
    """Advance the fleet by `seconds` virtual seconds as fast as the CPU allows."""
    end = fleet.now + seconds
    while fleet.now < end:
        fleet.step(min(tick, end - fleet.now))
        if on_tick is not None:
            on_tick(fleet)
