"""Moving a shut-off VM between hosts over SSH: its definition, never two or none.

`virsh dumpxml --inactive --migratable` on the source, `virsh define` of that
XML on the target, a check that the target has it, and only then `virsh
undefine` on the source. If the source cannot let it go, the target's copy is
removed again, so the VM is defined on exactly one host whatever happens. With
--copy-storage its file disks go first (`disks`: streamed, checked by sha256, then
named), and a move that does not complete removes the copies it made.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError, MigrationHandle
from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.disks import DiskFile, copy_disk, remove_copies
from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.pinned_move import with_pins
from vdctui.model import (
    CpuPins,
    MigrationKind,
    MigrationOutcome,
    MigrationProgress,
    MigrationResult,
)

if TYPE_CHECKING:
    from vdctui.drivers.ssh.driver import SshDriver

STEPS = ("read", "define", "check", "undefine")


class ColdMove(MigrationHandle):
    def __init__(
        self,
        driver: SshDriver,
        vm: str,
        source: InventoryHost,
        target: InventoryHost,
        disks: list[DiskFile] | None = None,
        pins: CpuPins | None = None,
    ) -> None:
        self._driver = driver
        self._pins = pins  # the target's, in the definition defined there
        self._disks = disks or []  # to copy first (--copy-storage), sizes measured
        self._placed: list[DiskFile] = []  # copies this move put on the target
        self._copied = 0
        self.vm, self.source, self.target = vm, source.name, target.name
        self._source, self._target = source, target
        self._started = time.time()
        self._latest = MigrationProgress(phase="cold")
        self._abort = asyncio.Event()
        self._task: asyncio.Task[MigrationResult] | None = None
        self._changed = asyncio.Event()

    def begin(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._move())

    def _step(self, done: int, size: int = 0) -> None:
        """Step `done` of STEPS, each counted as the definition's size (after the disks
        copied, if any: the bytes a move carries)."""
        disks = sum(d.size for d in self._disks)
        self._latest = MigrationProgress(
            data_total=disks + max(size, 1) * len(STEPS),
            data_processed=disks + max(size, 1) * done,
            data_remaining=max(size, 1) * (len(STEPS) - done),
            phase="cold",
        )
        self._changed.set()

    async def _run(self, host: InventoryHost, command: str, input: str | None = None) -> str:
        out = await self._driver.pool.run(host, command, read=False, input=input)
        if out.status != 0:
            raise DriverError(f"on {host.name}: {out.error}")
        return out.stdout

    def _copying(self, count: int) -> None:
        self._copied += count
        total = sum(d.size for d in self._disks)
        self._latest = MigrationProgress(
            data_total=total,
            data_processed=self._copied,
            data_remaining=max(total - self._copied, 0),
            phase="copy-storage",
        )
        self._changed.set()

    async def _copy_disks(self) -> None:
        """Every disk to the target, each checked before it is named (see `disks`)."""
        for disk in self._disks:
            await copy_disk(
                self._driver.pool, self._source, self._target, disk,
                self._copying, self._abort.is_set,
            )  # fmt: skip
            self._placed.append(disk)
        state = await self._run(self._source, commands.domstate(self._source.uri, self.vm))
        if not state.strip().startswith("shut off"):  # started on the source meanwhile
            raise DriverError(f"on {self.source}: {self.vm} is {state.strip()} now")

    async def _move(self) -> MigrationResult:
        defined = False
        try:
            xml = await self._run(
                self._source, commands.dumpxml(self._source.uri, self.vm, migratable=True)
            )
            if self._pins is not None:
                xml = with_pins(xml, self._pins)
            if self._disks:
                await self._copy_disks()
            self._step(1, len(xml))
            if self._abort.is_set():
                await remove_copies(self._driver.pool, self._target, self._placed)
                return self._end(MigrationOutcome.CANCELLED, "Aborted by the operator.")
            await self._run(self._target, commands.define_from_stdin(self._target.uri), xml)
            defined = True
            self._step(2, len(xml))
            await self._run(self._target, commands.domstate(self._target.uri, self.vm))
            self._step(3, len(xml))
            if self._abort.is_set():
                await self._run(
                    self._target, commands.lifecycle(self._target.uri, "undefine", self.vm)
                )
                await remove_copies(self._driver.pool, self._target, self._placed)
                return self._end(MigrationOutcome.CANCELLED, "Aborted by the operator.")
            try:
                await self._run(
                    self._source, commands.lifecycle(self._source.uri, "undefine", self.vm)
                )
            except DriverError:
                await self._run(
                    self._target, commands.lifecycle(self._target.uri, "undefine", self.vm)
                )
                await remove_copies(self._driver.pool, self._target, self._placed)
                raise
            self._step(4, len(xml))
            self._latest = MigrationProgress(
                self._latest.time_elapsed,
                self._latest.data_total,
                self._latest.data_total,
                0,
                phase="done",
            )
            return self._end(MigrationOutcome.SUCCEEDED, "")
        except DriverError as exc:
            where = f" (it stays defined on {self.source})" if not defined else ""
            if not defined:
                await remove_copies(self._driver.pool, self._target, self._placed)
            if self._abort.is_set() and not defined:
                return self._end(MigrationOutcome.CANCELLED, "Aborted by the operator.")
            return self._end(
                MigrationOutcome.FAILED, f"Cold migration of {self.vm} failed {exc}{where}"
            )
        finally:
            self._driver.migration_ended(self)
            self._changed.set()

    def _end(self, outcome: MigrationOutcome, reason: str) -> MigrationResult:
        return MigrationResult(
            vm=self.vm,
            source=self.source,
            target=self.target,
            kind=MigrationKind.COLD,
            outcome=outcome,
            started=self._started,
            ended=time.time(),
            data_processed=self._latest.data_processed,
            rounds=0,
            downtime_ms=0,
            reason=reason,
        )

    def progress(self) -> MigrationProgress:
        return self._latest

    async def updates(self) -> AsyncIterator[MigrationProgress]:
        assert self._task is not None
        while not self._task.done():
            self._changed.clear()
            waiting = asyncio.ensure_future(self._changed.wait())
            await asyncio.wait({waiting, self._task}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            yield self._latest

    async def abort(self) -> None:
        self._abort.set()

    async def wait(self) -> MigrationResult:
        assert self._task is not None
        return await asyncio.shield(self._task)

    async def cancel_exec(self) -> None:
        if self._task is not None and not self._task.done():
            self._abort.set()
            await asyncio.wait({self._task}, timeout=30)
