"""Each VM's CPU and memory at the console's recent syncs, for its sparklines.

Kept small enough for 100,000 VMs: one bytearray per VM, two bytes a sample (CPU and
memory in whole percents, UNKNOWN_LEVEL where the figure was not known), at most
SAMPLES samples. A VM no longer listed is forgotten at the next sync.
"""

from __future__ import annotations

from dataclasses import dataclass

from vdctui.model import Vm, VmState

SAMPLES = 30  # recent syncs kept per VM
UNKNOWN_LEVEL = 255  # a byte that is no percent: the figure was not known
UNKNOWN_LEVELS = (UNKNOWN_LEVEL, UNKNOWN_LEVEL)


def _level(fraction: float | None) -> int:
    if fraction is None or fraction != fraction:  # None or NaN
        return UNKNOWN_LEVEL
    return min(max(round(100 * fraction), 0), 100)


def vm_levels(vm: Vm) -> tuple[int, int]:
    """The VM's CPU (of its vCPUs) and memory held (of its memory) in whole percents; a VM
    that does not run, or a figure its host did not give, is unknown."""
    if vm.state is not VmState.RUNNING:
        return UNKNOWN_LEVELS
    held = vm.memory_used_mib
    memory = held / vm.memory_mib if held is not None and vm.memory_mib > 0 else None
    return _level(vm.cpu_util), _level(memory)


@dataclass(frozen=True, slots=True)
class VmTrend:
    """A VM's recent samples, oldest first, as fractions (None: not known then)."""

    cpu: list[float | None]
    memory: list[float | None]


class VmHistory:
    """The rings of every VM listed at the last sync (see the module's docstring)."""

    def __init__(self, samples: int = SAMPLES) -> None:
        self.samples = samples
        self._rings: dict[str, bytearray] = {}
        self._next: dict[str, bytearray] = {}

    def begin(self) -> None:
        """A sync starts listing VMs: those it does not list are forgotten at `end`."""
        self._next = {}

    def add(self, name: str, levels: tuple[int, int]) -> None:
        """One VM's sample at this sync (see `vm_levels`)."""
        ring = self._rings.get(name)
        if ring is None:
            ring = bytearray()
        ring.extend(levels)
        if len(ring) > 2 * self.samples:
            del ring[:2]
        self._next[name] = ring

    def end(self) -> None:
        self._rings, self._next = self._next, {}

    def trend(self, name: str) -> VmTrend:
        ring = self._rings.get(name, b"")
        return VmTrend(_fractions(ring[0::2]), _fractions(ring[1::2]))

    def __len__(self) -> int:
        return len(self._rings)


def _fractions(levels: bytes | bytearray) -> list[float | None]:
    return [None if b == UNKNOWN_LEVEL else b / 100 for b in levels]
