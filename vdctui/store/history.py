"""Work and what came of it: tasks, the migration history, fleet events."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from typing import Any

from vdctui.model import (
    FleetEvent,
    MigrationKind,
    MigrationOutcome,
    MigrationRecord,
    MigrationResult,
    Task,
    TaskState,
)
from vdctui.store import owners
from vdctui.store.base import StoreBase, to_json
from vdctui.store.errors import StoreError

INTERRUPTED = "interrupted: the console stopped while it ran"
EVENTS_KEPT = 200_000  # the events table keeps at most this many of the newest rows

_TASK_SELECT = (
    "SELECT id, kind, target, state, progress, actor, created, started, ended, error, detail "
    "FROM tasks"
)
_MIGRATION_SELECT = (
    "SELECT id, vm, source, target, kind, started, ended, data_bytes, rounds, downtime_ms, "
    "outcome, reason, actor, task_id FROM migrations"
)
_ACTIVE = (TaskState.QUEUED.value, TaskState.RUNNING.value)
_OWNER_COLUMNS = "owner_host, owner_pid, owner_started, owner_session, heartbeat"
_OWNED_SELECT = _TASK_SELECT.replace(" FROM tasks", f", {_OWNER_COLUMNS} FROM tasks")

# The task whose claims the work running now carries out (an evacuation's moves): its
# claims do not refuse the tasks that work records (see `create_task`).
CLAIMS_OF: ContextVar[int | None] = ContextVar("CLAIMS_OF", default=None)

# What another process's task is doing to its target, for a refusal.
_DOING = {
    "migrate": "migrated",
    "resize": "resized",
    "maintenance": "evacuated",
    "create": "created",
    "ha-restart": "restarted by HA",
    "balance": "balanced",
}


class TaskConflict(StoreError):
    """A live task (of any process) is already changing what a new task would change."""

    def __init__(self, name: str, task: Task) -> None:
        doing = _DOING.get(task.kind, f"changed ({task.kind})")
        super().__init__(
            f"{name} is being {doing} by {task.actor} (task {task.id}, {task.progress:.0f} %)"
        )
        self.task = task


def _task(row: Sequence[Any]) -> Task:
    return Task(
        id=row[0],
        kind=row[1],
        target=row[2],
        state=TaskState(row[3]),
        progress=row[4],
        actor=row[5],
        created=row[6],
        started=row[7],
        ended=row[8],
        error=row[9],
        detail=json.loads(row[10]),
    )


def _migration(row: Sequence[Any]) -> MigrationRecord:
    return MigrationRecord(
        id=row[0],
        vm=row[1],
        source=row[2],
        target=row[3],
        kind=MigrationKind(row[4]),
        started=row[5],
        ended=row[6],
        data_bytes=row[7],
        rounds=row[8],
        downtime_ms=row[9],
        outcome=None if row[10] is None else MigrationOutcome(row[10]),
        reason=row[11],
        actor=row[12],
        task_id=row[13],
    )


class HistoryStore(StoreBase):
    """Tasks, migrations and fleet events."""

    events_kept: int = EVENTS_KEPT
    owner: owners.Owner  # this process's session (Store.__init__)

    # --- tasks ----------------------------------------------------------------

    def create_task(
        self,
        kind: str,
        target: str,
        actor: str,
        detail: dict[str, Any] | None = None,
        *,
        claims: Sequence[str] = (),
    ) -> Task:
        """A new queued task, owned by this process (see vdctui.store.owners).

        `claims`: the VMs or hosts the task changes. In the same write transaction
        that records the task, a live task of any process already changing one of
        them (its target, or one of its claims) raises `TaskConflict` (nothing
        written): two processes can never both start changing the same thing. The
        claims of the task in `CLAIMS_OF` (the work it is carrying out) do not count."""
        owner = self.owner
        with self._db.atomic():
            for name in claims:
                busy = self._live_task_on(name, besides=CLAIMS_OF.get())
                if busy is not None:
                    raise TaskConflict(name, busy)
            cursor = self._db.execute(
                "INSERT INTO tasks (kind, target, state, progress, actor, created, detail, "
                "owner_host, owner_pid, owner_started, owner_session, heartbeat) "
                "VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    kind,
                    target,
                    TaskState.QUEUED.value,
                    actor,
                    self._now(),
                    to_json(detail or {}),
                    owner.host,
                    owner.pid,
                    owner.started,
                    owner.session,
                    time.time(),
                ],
            )
            task_id = int(cursor.lastrowid or 0)
            others = sorted({n for n in claims if n != target})
            self._db.conn.executemany(
                "INSERT INTO task_claims (task_id, name) VALUES (?, ?)",
                [(task_id, n) for n in others],
            )
        return self._task_or_raise(task_id)

    def conflict_on(self, name: str) -> TaskConflict | None:
        """The live task (of any process) changing VM or host `name` now, as a conflict
        (not the task in `CLAIMS_OF`, whose work is asking)."""
        task = self._live_task_on(name, besides=CLAIMS_OF.get())
        return None if task is None else TaskConflict(name, task)

    def _live_task_on(self, name: str, besides: int | None = None) -> Task | None:
        sql = (
            f"{_OWNED_SELECT} WHERE state IN (?, ?) AND id IS NOT ? AND (target = ? "
            "OR id IN (SELECT task_id FROM task_claims WHERE name = ?)) ORDER BY id"
        )
        for row in self._db.execute(sql, [*_ACTIVE, besides, name, name]):
            if owners.alive(row[11:], time.time()):
                return _task(row)
        return None

    def beat(self) -> None:
        """Say this process is still working on its tasks (their heartbeat: now)."""
        if not self.writable:
            return
        with self._db.atomic():
            self._db.execute(
                "UPDATE tasks SET heartbeat = ? WHERE owner_session = ? AND state IN (?, ?)",
                [time.time(), self.owner.session, *_ACTIVE],
            )

    def orphaned_tasks(self) -> list[Task]:
        """Queued or running tasks whose process is gone (see vdctui.store.owners), oldest
        first: only these may be ended as interrupted, and only by `end_orphan`."""
        sql = f"{_OWNED_SELECT} WHERE state IN (?, ?) ORDER BY id"
        rows = self._db.execute(sql, list(_ACTIVE)).fetchall()
        now = time.time()
        return [_task(r) for r in rows if not owners.alive(r[11:], now)]

    def end_orphan(
        self, task_id: int, state: TaskState, *, error: str = "", progress: float | None = None
    ) -> Task | None:
        """End an orphaned task, once: the task as ended, or None when it had already
        ended or its owner turned out to be alive (another process got there first)."""
        with self._db.atomic():
            row = self._db.execute(
                f"SELECT state, progress, {_OWNER_COLUMNS} FROM tasks WHERE id = ?", [task_id]
            ).fetchone()
            if row is None or row[0] not in _ACTIVE or owners.alive(row[2:], time.time()):
                return None
            self._db.execute(
                "UPDATE tasks SET state = ?, error = ?, progress = ?, ended = ? WHERE id = ?",
                [
                    state.value,
                    error,
                    row[1] if progress is None else progress,
                    self._now(),
                    task_id,
                ],
            )
        return self._task_or_raise(task_id)

    def update_task(
        self,
        task_id: int,
        *,
        state: TaskState | None = None,
        progress: float | None = None,
        error: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> Task:
        """Change a task and return it as now stored.

        Going running stamps `started` (once); reaching a finished state stamps
        `ended` and, on success, sets progress to 100 unless a progress is given.
        `detail` is merged into the task's detail.
        """
        with self._db.atomic():
            task = self._task_or_raise(task_id)
            now = self._now()
            started, ended = task.started, task.ended
            new_state = task.state if state is None else TaskState(state)
            if new_state is TaskState.RUNNING and started is None:
                started = now
            if new_state.finished and ended is None:
                ended = now
            if progress is None:
                progress = 100.0 if new_state is TaskState.SUCCEEDED else task.progress
            merged = {**task.detail, **(detail or {})}
            self._db.execute(
                "UPDATE tasks SET state = ?, progress = ?, error = ?, detail = ?, "
                "started = ?, ended = ?, heartbeat = ? WHERE id = ?",
                [
                    new_state.value,
                    float(max(0.0, min(100.0, progress))),
                    task.error if error is None else error,
                    to_json(merged),
                    started,
                    ended,
                    time.time(),
                    task_id,
                ],
            )
        return self._task_or_raise(task_id)

    def task(self, task_id: int) -> Task | None:
        row = self._db.execute(f"{_TASK_SELECT} WHERE id = ?", [task_id]).fetchone()
        return None if row is None else _task(row)

    def tasks(self, *, active: bool | None = None, limit: int = 100) -> list[Task]:
        """Tasks, newest first; active=True: queued or running, False: finished."""
        where = ""
        if active is not None:
            where = f" WHERE state {'IN' if active else 'NOT IN'} (?, ?)"
        params: list[Any] = list(_ACTIVE) if active is not None else []
        sql = f"{_TASK_SELECT}{where} ORDER BY id DESC LIMIT ?"
        return [_task(r) for r in self._db.execute(sql, [*params, limit])]

    def fail_interrupted_tasks(self) -> list[Task]:
        """Fail every queued/running task whose process is gone, and close the migration
        records they left open (the next sync shows where the VM ended up). The ops
        layer's `recovery.recover_interrupted` does this with audit records."""
        ended: list[Task] = []
        for orphan in self.orphaned_tasks():
            task = self.end_orphan(orphan.id, TaskState.FAILED, error=INTERRUPTED)
            if task is None:
                continue
            ended.append(task)
            with self._db.atomic():
                self._db.execute(
                    "UPDATE migrations SET outcome = ?, reason = ?, ended = ? "
                    "WHERE outcome IS NULL AND task_id = ?",
                    [MigrationOutcome.FAILED.value, INTERRUPTED, self._now(), task.id],
                )
        return ended

    def _task_or_raise(self, task_id: int) -> Task:
        task = self.task(task_id)
        if task is None:
            raise StoreError(f"there is no task {task_id}")
        return task

    # --- migration history ----------------------------------------------------

    def start_migration(
        self,
        vm: str,
        source: str,
        target: str,
        kind: MigrationKind,
        actor: str,
        task_id: int | None = None,
        started: float | None = None,
    ) -> int:
        """Record a migration that begins now (or at `started`); return its id."""
        with self._db.atomic():
            cursor = self._db.execute(
                "INSERT INTO migrations (vm, source, target, kind, started, actor, task_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    vm,
                    source,
                    target,
                    MigrationKind(kind).value,
                    self._now() if started is None else float(started),
                    actor,
                    task_id,
                ],
            )
        return int(cursor.lastrowid or 0)

    def finish_migration(self, migration_id: int, result: MigrationResult) -> MigrationRecord:
        """Record how a migration ended; return the completed record."""
        with self._db.atomic():
            cursor = self._db.execute(
                "UPDATE migrations SET ended = ?, data_bytes = ?, rounds = ?, downtime_ms = ?, "
                "outcome = ?, reason = ? WHERE id = ?",
                [
                    float(result.ended),
                    result.data_processed,
                    result.rounds,
                    result.downtime_ms,
                    MigrationOutcome(result.outcome).value,
                    result.reason,
                    migration_id,
                ],
            )
            if cursor.rowcount == 0:
                raise StoreError(f"there is no migration {migration_id}")
        row = self._db.execute(f"{_MIGRATION_SELECT} WHERE id = ?", [migration_id]).fetchone()
        return _migration(row)

    def open_migrations(self) -> list[MigrationRecord]:
        """Migrations with no outcome yet, oldest first."""
        sql = f"{_MIGRATION_SELECT} WHERE outcome IS NULL ORDER BY id"
        return [_migration(r) for r in self._db.execute(sql)]

    def close_migration(self, migration_id: int, outcome: MigrationOutcome, reason: str) -> None:
        """End a migration record the console could not follow to its end (now)."""
        with self._db.atomic():
            self._db.execute(
                "UPDATE migrations SET outcome = ?, reason = ?, ended = ? "
                "WHERE id = ? AND outcome IS NULL",
                [MigrationOutcome(outcome).value, reason, self._now(), migration_id],
            )

    def migrations(
        self,
        *,
        vm: str | None = None,
        host: str | None = None,
        outcome: MigrationOutcome | None = None,
        limit: int = 100,
    ) -> list[MigrationRecord]:
        """Migrations, newest (last started) first; host matches source or target."""
        clauses: list[str] = []
        params: list[Any] = []
        if vm is not None:
            clauses.append("vm = ?")
            params.append(vm)
        if host is not None:
            clauses.append("(source = ? OR target = ?)")
            params += [host, host]
        if outcome is not None:
            clauses.append("outcome = ?")
            params.append(MigrationOutcome(outcome).value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"{_MIGRATION_SELECT}{where} ORDER BY id DESC LIMIT ?"
        return [_migration(r) for r in self._db.execute(sql, [*params, limit])]

    # --- sightings: when hosts answered, VMs the last sync could not find ------

    def host_seen_at(self) -> dict[str, float]:
        """When each host last answered (0.0: never)."""
        return {r[0]: float(r[1]) for r in self._db.execute("SELECT name, seen_at FROM hosts")}

    def mark_unaccounted(self, seen: dict[str, float], reason: str) -> None:
        """Remember VMs that were not found where they were last seen, with when that was
        (a VM already marked keeps its first stamp)."""
        now = self._now()
        with self._db.atomic():
            self._db.conn.executemany(
                "INSERT INTO vms_unaccounted (vm, seen_at, since, reason) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(vm) DO NOTHING",
                [(name, float(at), now, reason) for name, at in seen.items()],
            )

    def clear_unaccounted(self, names: Iterable[str]) -> None:
        """These VMs were found (or are gone for good): no longer unaccounted."""
        with self._db.atomic():
            self._db.conn.executemany(
                "DELETE FROM vms_unaccounted WHERE vm = ?", [(n,) for n in names]
            )

    def unaccounted(self) -> dict[str, float]:
        """VMs the last syncs could not find (kept as last seen), with when they were seen."""
        rows = self._db.execute("SELECT vm, seen_at FROM vms_unaccounted")
        return {r[0]: float(r[1]) for r in rows}

    # --- events ---------------------------------------------------------------

    def record_events(self, events: Iterable[FleetEvent]) -> None:
        """Append events; the oldest beyond `events_kept` are dropped."""
        rows = [(float(e.ts), e.kind, e.host, e.vm, e.message) for e in events]
        if not rows:
            return
        with self._db.atomic():
            cursor = self._db.conn.executemany(
                "INSERT INTO events (ts, kind, host, vm, message) VALUES (?, ?, ?, ?, ?)", rows
            )
            last = self._db.execute("SELECT MAX(id) FROM events").fetchone()[0]
            if cursor.rowcount and last > self.events_kept:
                self._db.execute("DELETE FROM events WHERE id <= ?", [last - self.events_kept])

    def events(
        self, *, host: str | None = None, vm: str | None = None, limit: int = 100
    ) -> list[FleetEvent]:
        """Events, newest first, optionally about one host and/or one VM."""
        clauses: list[str] = []
        params: list[Any] = []
        if host is not None:
            clauses.append("host = ?")
            params.append(host)
        if vm is not None:
            clauses.append("vm = ?")
            params.append(vm)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = (
            f"SELECT ts, kind, host, vm, message FROM events{where} "
            "ORDER BY ts DESC, id DESC LIMIT ?"
        )
        return [FleetEvent(*r) for r in self._db.execute(sql, [*params, limit])]
