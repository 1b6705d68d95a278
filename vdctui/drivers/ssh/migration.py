"""A migration over SSH: `virsh migrate` on one channel, progress on others.

Progress: `domjobinfo --rawstats` on the source and `domstate --reason` on the
target ("paused (starting up)", "paused (migrating)"), sampled together, each on
a long-lived interactive virsh per host (`session.VirshSession`: one libvirt call
a sample, not an exec, a virsh process and a libvirt connection; one exec each
where a session cannot be had or stops answering). The
result: after a success the source has no domain left, so the real figures
(bytes, rounds, the actual downtime, not the expected one) come from
`domjobinfo --completed` on the target; after a failure, from the source. An
abort (`domjobabort`) ends as cancelled whatever error text virsh then prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from vdctui.drivers.base import DriverError, HostUnreachable, InvalidOperation, MigrationHandle
from vdctui.drivers.ssh import commands
from vdctui.drivers.ssh.downtime import MaxDowntimeChange
from vdctui.drivers.ssh.inventory import InventoryHost
from vdctui.drivers.ssh.parsers import (
    JOB_CANCELLED,
    JOB_COMPLETED,
    JobInfo,
    VirshOutputError,
    parse_jobinfo,
)
from vdctui.drivers.ssh.pool import Completed
from vdctui.drivers.ssh.session import VirshSession
from vdctui.model import MigrationKind, MigrationOutcome, MigrationProgress, MigrationResult

if TYPE_CHECKING:
    from vdctui.drivers.ssh.driver import SshDriver

MIGRATION_TIMEOUT_S = 24 * 3600.0
MAX_READS_IN_FLIGHT = 4
TARGET_STATE_EVERY_S = 1.0


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
        downtime: MaxDowntimeChange | None = None,
    ) -> None:
        self._driver = driver
        self.vm, self.source, self.target = vm, source.name, target.name
        self._source = source
        self._target = target
        self._live = live
        self._command = command
        self._started = time.time()
        self._latest = MigrationProgress()
        self._aborted = False
        self._result: MigrationResult | None = None
        self._ended: tuple[Completed | None, str, MigrationProgress | None] | None = None
        self._ending_lock = asyncio.Lock()
        self._target_read_at = 0.0
        self._exec: asyncio.Task[Completed] | None = None
        self._sessions: dict[str, VirshSession] = {}
        self._downtime = downtime
        self._not_put_back = ""  # a sentence when what was set could not be put back

    async def begin(self) -> None:
        """Start the exec; raise if the hypervisor refuses before a job even starts."""
        self._exec = asyncio.get_running_loop().create_task(
            self._driver.pool.run(
                self._source, self._command, read=False, timeout=MIGRATION_TIMEOUT_S
            )
        )
        try:
            await asyncio.gather(self._open_session(self._source), self._open_session(self._target))
            await self._until_the_job_runs()
        except BaseException:
            await self._close_sessions()
            await self._put_back()
            raise

    async def _until_the_job_runs(self) -> None:
        assert self._exec is not None
        while not self._exec.done():
            sample = await self._sample()
            if sample is not None:
                self._latest = sample
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

    async def _open_session(self, host: InventoryHost) -> None:
        session = VirshSession(self._driver.pool, host)
        try:
            await session.open()
        except HostUnreachable:  # each sample is then an exec of its own
            await session.close()
            return
        self._sessions[host.name] = session

    async def _close_sessions(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            await session.close()

    async def _read(self, host: InventoryHost, argv: list[str]) -> str | None:
        """A read-only virsh command's output on a host: on its session, else as an exec;
        None when it failed or the host did not answer."""
        session = self._sessions.get(host.name)
        if session is not None and not session.broken:
            with contextlib.suppress(HostUnreachable):
                return await session.ask(argv)
        try:
            out = await self._driver.pool.run(host, commands.virsh(host.uri, *argv))
        except HostUnreachable:
            return None
        return out.stdout if out.status == 0 else None

    async def _job(self, host: InventoryHost, *, completed: bool = False) -> JobInfo | None:
        """`domjobinfo --rawstats [--completed]` on a host; None if it has none to show."""
        text = await self._read(host, commands.domjobinfo_args(self.vm, completed=completed))
        if text is None:
            return None
        try:
            return parse_jobinfo(text)
        except VirshOutputError:
            return None

    async def _target_state(self) -> str:
        """The target's copy as `domstate --reason` says it ("" while there is none),
        read at most once a second (each read is a virsh on the target)."""
        now = time.monotonic()
        if now - self._target_read_at < TARGET_STATE_EVERY_S:
            return self._latest.target_state
        self._target_read_at = now
        text = await self._read(self._target, commands.domstate_args(self.vm))
        return (text or "").strip()

    async def _sample(self) -> MigrationProgress | None:
        """One sample (not yet the latest: the caller decides)."""
        info, target_state = await asyncio.gather(self._job(self._source), self._target_state())
        if info is None or not info.fields:
            if target_state and target_state != self._latest.target_state:
                return dataclasses.replace(self._latest, target_state=target_state)
            return None
        return dataclasses.replace(info.progress(), target_state=target_state)

    async def _final(self, succeeded: bool) -> MigrationProgress | None:
        """The job's real figures once it ended (the target's after a success)."""
        host = self._target if succeeded else self._source
        info = await self._job(host, completed=True)
        if info is None:
            return None
        if info.job_type == JOB_CANCELLED:
            self._aborted = True
        if not info.fields or (succeeded and info.job_type != JOB_COMPLETED):
            return None
        final = dataclasses.replace(info.progress(), phase="done")
        self._latest = final
        return final

    def progress(self) -> MigrationProgress:
        return self._latest

    async def updates(self) -> AsyncIterator[MigrationProgress]:
        """Samples every `progress_interval_s`, each read on its own channels: a slow
        read (a busy host, SSH latency) overlaps the next ones instead of delaying them;
        a sample older than one already given is dropped."""
        assert self._exec is not None
        interval = self._driver.progress_interval_s
        if self._latest.phase != "setup":
            yield self._latest  # what begin() saw
        reads: dict[asyncio.Future[Any], int] = {}
        started = given = 0
        next_read = time.monotonic()
        try:
            while not self._exec.done():
                now = time.monotonic()
                if now >= next_read and len(reads) < MAX_READS_IN_FLIGHT:
                    started += 1
                    reads[asyncio.create_task(self._sample())] = started
                    next_read = now + interval
                wake = max(next_read - time.monotonic(), 0.01)
                waiting: set[asyncio.Future[Any]] = {*reads, self._exec}
                done, _ = await asyncio.wait(
                    waiting, timeout=wake, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done - {self._exec}:
                    number = reads.pop(task)
                    sample: MigrationProgress | None = (
                        task.result() if task.exception() is None else None
                    )
                    if sample is not None and number > given:
                        given = number
                        self._latest = sample
                        yield sample
        finally:
            for task in reads:
                task.cancel()
        _, _, final = await self._ending()
        yield final or self._latest

    async def _ending(self) -> tuple[Completed | None, str, MigrationProgress | None]:
        """How the exec ended and the job's final figures (read once)."""
        async with self._ending_lock:
            if self._ended is None:
                assert self._exec is not None
                try:
                    done: Completed | None = await self._exec
                    reason = ""
                except DriverError as exc:
                    done, reason = None, str(exc)
                succeeded = done is not None and done.status == 0
                final = await self._final(succeeded)
                await self._close_sessions()
                if not succeeded:
                    await self._put_back()
                self._ended = (done, reason, final)
            return self._ended

    async def _put_back(self) -> None:
        """After a migration that did not succeed: the settings it changed on the source,
        as they were (after a success they went with the source's QEMU)."""
        if self._downtime is not None:
            change, self._downtime = self._downtime, None
            self._not_put_back = await change.put_back(self._driver.pool)

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
        done, reason, final = await self._ending()
        sample = final or self._latest
        outcome, reason = outcome_of(done, reason, aborted=self._aborted)
        reason = " ".join(part for part in (reason, self._not_put_back) if part)
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
            # the downtime libvirt measured; while running it only says the expected one
            downtime_ms=sample.downtime if final is not None else 0,
            reason=reason,
        )
        return self._result

    async def cancel_exec(self) -> None:
        if self._exec is not None and not self._exec.done():
            self._exec.cancel()
            with contextlib.suppress(BaseException):
                await self._exec
        await self._close_sessions()


def outcome_of(
    done: Completed | None, reason: str, *, aborted: bool
) -> tuple[MigrationOutcome, str]:
    """How a `virsh migrate` ended. Once the operator aborted, whatever virsh then says
    ("job ... canceled by client", "End of file while reading data", "qemu unexpectedly
    closed the monitor ...": each seen on real hosts) is the abort: cancelled."""
    if done is not None and done.status == 0:
        return MigrationOutcome.SUCCEEDED, ""
    if aborted or (done is not None and "canceled by client" in done.error.lower()):
        return MigrationOutcome.CANCELLED, "Aborted by the operator."
    return MigrationOutcome.FAILED, reason or (
        done.error if done is not None else "the migration failed"
    )
