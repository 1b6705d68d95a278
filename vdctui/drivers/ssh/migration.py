"""A live migration over SSH: `virsh migrate` on one channel, `domjobinfo` on another."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from vdctui.drivers.base import DriverError, HostUnreachable, InvalidOperation, MigrationHandle
from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.parsers import JOB_CANCELLED, VirshOutputError, parse_jobinfo
from vdctui.drivers.ssh.pool import Completed
from vdctui.model import MigrationKind, MigrationOutcome, MigrationProgress, MigrationResult

if TYPE_CHECKING:
    from vdctui.drivers.ssh.driver import SshDriver

MIGRATION_TIMEOUT_S = 24 * 3600.0


class SshMigration(MigrationHandle):
    def __init__(
        self,
        driver: SshDriver,
        vm: str,
        source: InventoryHost,
        target: InventoryHost,
        *,
        live: bool,
        command: str,
    ) -> None:
        self._driver = driver
        self.vm, self.source, self.target = vm, source.name, target.name
        self._source = source
        self._live = live
        self._command = command
        self._started = time.time()
        self._latest = MigrationProgress()
        self._aborted = False
        self._result: MigrationResult | None = None
        self._exec: asyncio.Task[Completed] | None = None

    async def begin(self) -> None:
        """Start the exec; raise if the hypervisor refuses before a job even starts."""
        self._exec = asyncio.get_running_loop().create_task(
            self._driver.pool.run(
                self._source, self._command, read=False, timeout=MIGRATION_TIMEOUT_S
            )
        )
        while not self._exec.done():
            sample = await self._sample()
            if sample is not None and sample.phase != "setup":
                return
            await asyncio.wait({self._exec}, timeout=self._driver.progress_interval_s)
        done = self._exec.result() if self._exec.exception() is None else None
        if done is None:
            exc = self._exec.exception()
            raise exc if isinstance(exc, DriverError) else DriverError(str(exc))
        if done.status != 0:
            raise InvalidOperation(
                f"Migration of {self.vm} to {self.target} was refused: {done.error}"
            )

    async def _sample(self, completed: bool = False) -> MigrationProgress | None:
        try:
            out = await self._driver.pool.run(
                self._source, commands.domjobinfo(self._source.uri, self.vm, completed=completed)
            )
        except HostUnreachable:
            return None
        if out.status != 0:
            return None
        try:
            info = parse_jobinfo(out.stdout)
        except VirshOutputError:
            return None
        if completed and info.job_type == JOB_CANCELLED:
            self._aborted = True
        if not info.fields:
            return None
        sample = info.progress()
        self._latest = sample
        return sample

    def progress(self) -> MigrationProgress:
        return self._latest

    async def updates(self) -> AsyncIterator[MigrationProgress]:
        assert self._exec is not None
        while not self._exec.done():
            sample = await self._sample()
            if sample is not None:
                yield sample
            await asyncio.wait({self._exec}, timeout=self._driver.progress_interval_s)
        final = await self._sample(completed=True)
        yield final if final is not None else self._latest

    async def abort(self) -> None:
        if self._exec is None or self._exec.done():
            return
        self._aborted = True
        out = await self._driver.pool.run(
            self._source, commands.domjobabort(self._source.uri, self.vm), read=False
        )
        if out.status != 0 and not self._exec.done():
            self._aborted = False
            raise InvalidOperation(f"Could not abort the migration of {self.vm}: {out.error}")

    async def wait(self) -> MigrationResult:
        if self._result is not None:
            return self._result
        assert self._exec is not None
        try:
            done: Completed | None = await self._exec
            reason = ""
        except DriverError as exc:
            done, reason = None, str(exc)
        final = await self._sample(completed=True)
        sample = final or self._latest
        if done is not None and done.status == 0:
            outcome = MigrationOutcome.SUCCEEDED
        elif self._aborted or (done is not None and "cancel" in done.error.lower()):
            outcome = MigrationOutcome.CANCELLED
            reason = "Aborted by the operator."
        else:
            outcome = MigrationOutcome.FAILED
            reason = reason or (done.error if done is not None else "the migration failed")
        self._driver.migration_ended(self)
        self._result = MigrationResult(
            vm=self.vm,
            source=self.source,
            target=self.target,
            kind=MigrationKind.LIVE if self._live else MigrationKind.COLD,
            outcome=outcome,
            started=self._started,
            ended=time.time(),
            data_processed=sample.data_processed,
            rounds=sample.memory_iteration,
            downtime_ms=sample.downtime,
            reason=reason,
        )
        return self._result

    async def cancel_exec(self) -> None:
        if self._exec is not None and not self._exec.done():
            self._exec.cancel()
            with contextlib.suppress(BaseException):
                await self._exec
