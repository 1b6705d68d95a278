"""A task carried out one step at a time (`balance --apply`, an HA restart): what its
caller holds to stop it.

`cancel()` asks the task to stop after the step under way: a step is never cut in half
(a migration ends, a restarted VM is up, a host powered on answers), no new one begins,
and the task ends cancelled, "cancelled after N of M steps", with its audit record. The
task gives its Stepping to the caller's `started` callback as it begins; carried out by
the process that holds the embedded fleet, the caller gets a copy, and cancelling that
copy asks the holder to cancel its own (vdctui.ops.handover), as for an Evacuation.
While it runs, the task is `cancellable`: `task cancel N` (the console's `:cancel`, in
this process or handed to the holder) calls the same `cancel()` (vdctui.ops.cancelling).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vdctui.ops.console import Console


@dataclass
class Stepping:
    """Task `task_id`, of `steps` steps; `cancel()` stops it after the step under way."""

    task_id: int
    steps: int
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True

    def stopped(self, taken: int) -> bool:
        """Whether the task stops here, `taken` steps taken: cancelled with steps left."""
        return self.cancelled and taken < self.steps

    def cancelled_after(self, taken: int) -> str:
        return f"cancelled after {taken} of {self.steps} step{'' if self.steps == 1 else 's'}"


Started = Callable[[Stepping], None]


@contextlib.contextmanager
def cancellable(console: Console, task_id: int, cancel: Callable[[], None]) -> Iterator[None]:
    """While the block runs, cancelling task `task_id` through the console's door calls
    `cancel` (a Stepping's, an Evacuation's)."""
    console.cancellable[task_id] = cancel
    try:
        yield
    finally:
        console.cancellable.pop(task_id, None)
