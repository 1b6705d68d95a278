"""What a driver offers when its fleet is a simulation (the emulator) and real hosts do
not: the fleet's own clock, stepping it, and the attacks one injects into its flows.

`HostDriver.simulation()` gives it, or None: a service that needs the fleet's time asks
for this capability, never which driver it has."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import emulator


class Simulation(Protocol):
    """The simulated fleet behind a driver, on its own clock of virtual seconds."""

    # virtual seconds per wall second while it runs by itself; None: it moves only
    # when stepped (tests, benchmarks, `vdctui emulate --for`)
    speed: float | None
    tick: float  # the virtual seconds of one step when stepped on demand

    @property
    def fleet(self) -> emulator.Fleet:
        """The simulator itself (for `vdctui emulate`, which runs and serves it)."""

    def now(self) -> float:
        """The fleet's time: virtual seconds (a Unix time on its own clock)."""

    async def next_step(self) -> None:
        """Until the fleet has moved on by one step (making it, when stepped on demand)."""

    async def advance(self, seconds: float) -> None:
        """Move the fleet on by `seconds` of virtual time, as fast as possible."""

    async def inject_attack(self, kind: str, source: str, target: str) -> None:
        """Start an attack in the fleet's flows now (port-scan, brute-force from `source`
        on VM `target`; internal-sweep from VM `source`); driver errors, one sentence."""
