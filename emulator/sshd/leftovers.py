"""What closed SSH connections leave behind, collected once no connection is open.

A real host's sshd serves each connection in a process that exits with it: nothing is
left to free later. Here every emulated host's connections live in one Python process,
and asyncssh's connection, channel, process and transport objects refer to each other
(~110 objects a connection): once closed, only the cycle collector frees them. Left to
its thresholds (`vdctui emulate` collects the young generation every 50,000 allocations)
it ran in the middle of answering: 30-70 ms pauses of every host at once, measured in
bench/ssh_fanout.py, landing on whichever refresh came next.

`Leftovers` counts connections as they open and close; once none is open and at least
`worth` have closed since the last collection, it collects the young and middle
generations in the next loop turn (if still none is open then), while nothing waits.
"""

from __future__ import annotations

import asyncio
import gc

WORTH_COLLECTING = 20  # closed connections, ~2,000 objects


class Leftovers:
    def __init__(self, worth: int = WORTH_COLLECTING) -> None:
        self.worth = worth
        self.open = 0
        self.closed = 0  # since the last collection
        self.collections = 0
        self._pending = False

    def opened(self) -> None:
        self.open += 1

    def closed_one(self) -> None:
        self.open -= 1
        self.closed += 1
        if self.open == 0 and self.closed >= self.worth and not self._pending:
            self._pending = True
            asyncio.get_running_loop().call_soon(self._collect)

    def _collect(self) -> None:
        self._pending = False
        if self.open == 0 and self.closed >= self.worth:
            self.closed = 0
            self.collections += 1
            gc.collect(1)
