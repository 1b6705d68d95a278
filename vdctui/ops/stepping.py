"""A task carried out one step at a time (`balance --apply`, an HA restart): what its
caller holds to stop it.

`cancel()` asks the task to stop after the step under way: a step is never cut in half
(a migration ends, a restarted VM is up, a host powered on answers), no new one begins,
and the task ends cancelled, "cancelled after N of M steps", with its audit record. The
task gives its Stepping to the caller's `started` callback as it begins; carried out by
the process that holds the embedded fleet, the caller gets a copy, and cancelling that
copy asks the holder to cancel its own (vdctui.ops.handover), as for an Evacuation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


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
