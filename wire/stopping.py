"""Stopping a task of ours without swallowing our own stop.

A stop path cancels a task it started (a clock, a loop, a watcher) and waits for it to
end. Suppressing every asyncio.CancelledError around that wait also swallows the
cancellation of the task that waits, when the stop itself is cancelled (a shutdown
cancelled, Ctrl-C while a console closes): it would return as if stopped normally.
`cancelled` takes the stopped task's own end only (tests/test_stop_never_swallowed.py).
The console's stop paths and the emulator's use this one.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancelled(task: asyncio.Future[Any] | None) -> None:
    """Cancel `task` (None: nothing) and wait until it has ended. Its own cancellation
    is the end asked for, not raised; a cancellation of the task that waits is."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        waiting = asyncio.current_task()
        if waiting is not None and waiting.cancelling():
            raise
