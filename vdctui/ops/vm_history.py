"""Each VM's CPU and memory at the console's recent syncs, for its sparklines.

Kept small and cheap for 100,000 VMs: each VM has a slot, each sync two columns (CPU and
memory, one byte a VM: whole percents, UNKNOWN_LEVEL where the figure was not known or
the VM was not listed), the last SAMPLES syncs kept in a ring. A sync fills its columns
in one tight loop; the slots of VMs no longer listed are dropped once they are as many
as the listed ones.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

from vdctui.model import Vm, VmState

SAMPLES = 30  # recent syncs kept
UNKNOWN_LEVEL = 255  # a byte that is no percent: the figure was not known
UNKNOWN_LEVELS = (UNKNOWN_LEVEL, UNKNOWN_LEVEL)
CHUNK = 5000  # VMs recorded between two yields to the event loop


def level(fraction: float | None) -> int:
    """A fraction (0..1) as whole percents, clamped; None or NaN: UNKNOWN_LEVEL."""
    if fraction is None or math.isnan(fraction):
        return UNKNOWN_LEVEL
    if fraction <= 0.0:
        return 0
    return 100 if fraction >= 1.0 else int(fraction * 100.0 + 0.5)


def vm_levels(vm: Vm) -> tuple[int, int]:
    """The VM's CPU (of its vCPUs) and memory held (of its memory) in whole percents; a VM
    that does not run, or a figure its host did not give, is unknown (never 0)."""
    if vm.state is not VmState.RUNNING:
        return UNKNOWN_LEVELS
    held = vm.memory_used_mib
    memory = held / vm.memory_mib if held is not None and vm.memory_mib > 0 else None
    return level(vm.cpu_util), level(memory)


@dataclass(frozen=True, slots=True)
class VmTrend:
    """A VM's recent samples, oldest first, as fractions (None: not known then)."""

    cpu: list[float | None]
    memory: list[float | None]


class VmHistory:
    """Every listed VM's CPU and memory at the last SAMPLES syncs (see the module)."""

    def __init__(self, samples: int = SAMPLES) -> None:
        self.samples = samples
        self._slots: dict[str, int] = {}
        self._cpu: list[bytearray] = []  # one column per sync, oldest first
        self._memory: list[bytearray] = []

    def _column(self) -> bytearray:
        return bytearray(b"\xff") * len(self._slots)

    async def record(self, vms: Sequence[Vm]) -> None:
        """One sync's sample of every VM listed (the others: unknown at this sync)."""
        if len(self._cpu) == self.samples:
            self._cpu.pop(0)
            self._memory.pop(0)
        cpu, memory = self._column(), self._column()
        self._cpu.append(cpu)
        self._memory.append(memory)
        slots = self._slots
        running = VmState.RUNNING
        for index, vm in enumerate(vms):
            slot = slots.get(vm.name)
            if slot is None:
                slot = self._new_slot(vm.name)
            if vm.state is running:  # `level`, inlined: this runs for every VM each sync
                c = vm.cpu_util
                if c is not None and c == c:
                    cpu[slot] = 0 if c <= 0.0 else 100 if c >= 1.0 else int(c * 100.0 + 0.5)
                held = vm.memory_used_mib
                if held is not None and vm.memory_mib > 0:
                    m = held / vm.memory_mib
                    memory[slot] = 100 if m >= 1.0 else 0 if m <= 0.0 else int(m * 100.0 + 0.5)
            if index % CHUNK == CHUNK - 1:
                await asyncio.sleep(0)
        if len(slots) >= 2 * max(len(vms), 1000):
            self._keep_only({vm.name for vm in vms})

    def add_unknown(self, name: str) -> None:
        """A VM kept though no host lists it now: its slot stays, unknown at this sync."""
        if name not in self._slots:
            self._new_slot(name)

    def _new_slot(self, name: str) -> int:
        slot = self._slots[name] = len(self._slots)
        for column in (*self._cpu, *self._memory):
            column.append(UNKNOWN_LEVEL)
        return slot

    def _keep_only(self, listed: set[str]) -> None:
        """Drop the slots of VMs no longer listed (their samples go with them)."""
        kept = [(name, slot) for name, slot in self._slots.items() if name in listed]
        self._slots = {name: new for new, (name, _) in enumerate(kept)}
        old = [slot for _, slot in kept]
        self._cpu = [bytearray(c[s] for s in old) for c in self._cpu]
        self._memory = [bytearray(m[s] for s in old) for m in self._memory]

    def trend(self, name: str) -> VmTrend:
        slot = self._slots.get(name)
        if slot is None:
            return VmTrend([], [])
        cpu = [_fraction(column[slot]) for column in self._cpu]
        memory = [_fraction(column[slot]) for column in self._memory]
        while cpu and cpu[0] is None and memory[0] is None:  # before it was first seen
            cpu.pop(0)
            memory.pop(0)
        return VmTrend(cpu, memory)

    def __len__(self) -> int:
        return len(self._slots)


def _fraction(byte: int) -> float | None:
    return None if byte == UNKNOWN_LEVEL else byte / 100
