"""Following the fleet's own events: changes made behind the console's back, seen at once.

A driver that hears its hosts (the SSH driver's `virsh event --loop` channels)
says "VM x on host h: Stopped Destroyed" as it happens; the console then syncs
at once instead of at its next poll. Events that arrive during a sync are
answered by one more sync, not one each.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError

if TYPE_CHECKING:
    from vdctui.ops.console import Console

RESYNC_KINDS = frozenset({"vm.lifecycle"})  # what someone else changed on a host


async def follow_events(console: Console, after_sync: Callable[[], None] | None = None) -> None:
    """Until cancelled: pass the driver's events to the console's listeners, and sync
    after every burst of changes made elsewhere (then call `after_sync`)."""
    wanted = asyncio.Event()
    syncer = asyncio.get_running_loop().create_task(_sync_when_wanted(console, wanted, after_sync))
    try:
        async for event in console.driver.events():
            console.notify([event])
            if event.kind in RESYNC_KINDS:
                wanted.set()
    finally:
        syncer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await syncer


async def _sync_when_wanted(
    console: Console, wanted: asyncio.Event, after_sync: Callable[[], None] | None
) -> None:
    while True:
        await wanted.wait()
        wanted.clear()
        with contextlib.suppress(DriverError):
            await console.sync()
            if after_sync is not None:
                after_sync()
