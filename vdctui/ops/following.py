"""Following the fleet's own events: changes made behind the console's back, seen at once.

A driver that hears its hosts (the SSH driver's `virsh event --loop` channels)
says "VM x on host h: Stopped Destroyed" as it happens; the console then reads
that VM again at once (one host's poll) instead of waiting for its next sync, and
syncs in full when the VM is new, gone or elsewhere (defined, undefined,
migrated). Events that arrive meanwhile are answered together, not one by one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError
from wire.stopping import cancelled

if TYPE_CHECKING:
    from vdctui.ops.console import Console

RESYNC_KINDS = frozenset({"vm.lifecycle"})  # what someone else changed on a host
WHOLE_SYNC = ("Defined", "Undefined", "Migrated")  # the VM is new, gone or elsewhere


async def follow_events(console: Console, after_sync: Callable[[], None] | None = None) -> None:
    """Until cancelled: pass the driver's events to the console's listeners, and sync
    after every burst of changes made elsewhere (then call `after_sync`)."""
    wanted = asyncio.Event()
    vms: set[str | None] = set()  # None: a whole sync
    syncer = asyncio.get_running_loop().create_task(
        _sync_when_wanted(console, wanted, vms, after_sync)
    )
    try:
        async for event in console.driver.events():
            console.notify([event])
            if event.kind in RESYNC_KINDS:
                whole = event.vm is None or any(w in event.message for w in WHOLE_SYNC)
                vms.add(None if whole else event.vm)
                wanted.set()
    finally:
        await cancelled(syncer)


async def _sync_when_wanted(
    console: Console,
    wanted: asyncio.Event,
    vms: set[str | None],
    after_sync: Callable[[], None] | None,
) -> None:
    while True:
        await wanted.wait()
        wanted.clear()
        names = set(vms)
        vms.clear()
        whole = None in names
        for name in sorted(n for n in names if n is not None):
            if whole:
                break
            try:
                await console.refresh_vm(name)
            except DriverError:
                whole = True  # gone, or its host does not answer: read everything
        with contextlib.suppress(DriverError):
            if whole:
                await console.sync()
            if after_sync is not None:
                after_sync()
