"""Follow a running migration: task progress, history, and its end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from vdctui.drivers.base import DriverError, MigrationHandle
from vdctui.model import (
    MigrationKind,
    MigrationOutcome,
    MigrationProgress,
    MigrationResult,
    TaskState,
)
from vdctui.store import Store

TASK_STATE_OF = {
    MigrationOutcome.SUCCEEDED: TaskState.SUCCEEDED,
    MigrationOutcome.FAILED: TaskState.FAILED,
    MigrationOutcome.CANCELLED: TaskState.CANCELLED,
}
PROGRESS_WRITES_PER_SECOND = 4.0

ProgressListener = Callable[["MigrationRun", MigrationProgress], None]
EndListener = Callable[["MigrationRun", MigrationResult, dict[str, Any]], Awaitable[None]]


@dataclass
class MigrationRun:
    """A migration the console started: its task, history row and driver handle."""

    started: float  # wall clock; the history keeps wall-clock times, durations from the driver
    task_id: int
    record_id: int
    vm: str
    source: str
    target: str
    kind: MigrationKind
    handle: MigrationHandle
    follower: asyncio.Task[MigrationResult] | None = None

    def progress(self) -> MigrationProgress:
        return self.handle.progress()

    async def wait(self) -> MigrationResult:
        assert self.follower is not None
        return await asyncio.shield(self.follower)


async def follow(
    store: Store,
    run: MigrationRun,
    on_progress: ProgressListener | None,
    on_end: EndListener,
) -> MigrationResult:
    """Write progress into the task as it comes, then record how it ended, whatever
    happens to the hosts (a host that stops answering ends it as failed, saying so);
    `on_end` ends the task."""
    last_write = 0.0
    escaped: Exception | None = None
    try:
        async for sample in run.handle.updates():
            if on_progress:
                on_progress(run, sample)
            now = time.monotonic()
            if now - last_write >= 1 / PROGRESS_WRITES_PER_SECOND:
                store.update_task(run.task_id, progress=sample.percent, detail=asdict(sample))
                last_write = now
        result = await run.handle.wait()
        final = asdict(run.handle.progress())
    except DriverError as exc:
        result, final = lost_sight(run, store.now(), str(exc)), {}
    except Exception as exc:  # a bug: the migration still ends, recorded, then it is raised
        result, final = lost_sight(run, store.now(), f"following it failed: {exc!r}"), {}
        escaped = exc
    duration = max(result.ended - result.started, 0.0)
    result = replace(result, started=run.started, ended=run.started + duration)
    store.finish_migration(run.record_id, result)
    await on_end(run, result, final)
    if escaped is not None:
        raise escaped
    return result


def lost_sight(run: MigrationRun, now: float, why: str) -> MigrationResult:
    """The end of a migration the console could no longer follow."""
    return MigrationResult(
        run.vm,
        run.source,
        run.target,
        run.kind,
        outcome=MigrationOutcome.FAILED,
        started=run.started,
        ended=max(now, run.started),
        reason=f"{why.rstrip('.')}; the console lost sight of the migration "
        f"(the next sync shows where {run.vm} is)",
    )
