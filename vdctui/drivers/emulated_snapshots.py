"""Snapshots on the emulated fleet: a mixin of `EmulatedDriver` (see emulator.snapshots)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import emulator
from vdctui.model import Snapshot, VmState


class EmulatedSnapshots:
    """`HostDriver`'s snapshot calls over `emulator.Fleet`."""

    fleet: emulator.Fleet
    wall_clock: Callable[[], float]

    def _find(self, name: str) -> Any:
        raise NotImplementedError  # EmulatedDriver's

    def _change(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # EmulatedDriver's

    def _snapshot(self, s: Any) -> Snapshot:
        """The fleet's clock made the console's: taken `now - created_at` virtual seconds ago."""
        age = self.fleet.now - s.created_at
        state = s.vm_state
        return Snapshot(
            name=s.snap,
            vm=s.vm,
            parent=s.parent,
            created=self.wall_clock() - age,
            vm_state="shutoff" if state == VmState.SHUTOFF.value else state,
            memory=s.memory,
            current=s.current,
            description=s.description,
            size_bytes=int(s.size_bytes),
            datastore=self.fleet.vms[s.vm].datastore,
        )

    async def list_snapshots(self, vm: str) -> list[Snapshot]:
        self._find(vm)
        return [self._snapshot(s) for s in self.fleet.snapshots_of(vm)]

    async def next_step(self) -> None:
        raise NotImplementedError  # EmulatedDriver's

    async def create_snapshot(
        self,
        vm: str,
        name: str,
        *,
        description: str = "",
        disk_only: bool = False,
        on_progress: Callable[[float], None] | None = None,
    ) -> Snapshot:
        """A memory snapshot takes the time the emulator says writing it takes (the fleet
        moves on meanwhile), with its progress; then it is taken."""
        self._find(vm)
        took = self.fleet.snapshot_write_s(vm, disk_only=disk_only)
        began = self.fleet.now
        while self.fleet.now - began < took:
            if on_progress is not None:
                on_progress((self.fleet.now - began) / took)
            await self.next_step()
            self._find(vm)  # still there, its host still answering
        made = self._change(
            self.fleet.create_snapshot, vm, name, description=description, disk_only=disk_only
        )
        return self._snapshot(made)

    async def revert_snapshot(self, vm: str, name: str) -> None:
        self._find(vm)
        self._change(self.fleet.revert_snapshot, vm, name)

    async def delete_snapshot(self, vm: str, name: str) -> None:
        self._find(vm)
        self._change(self.fleet.delete_snapshot, vm, name)
