from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.orphans import its_process_died
from vdctui.model import (
    FleetEvent,
    MigrationKind,
    MigrationOutcome,
    MigrationResult,
    TaskState,
)
from vdctui.store import INTERRUPTED, Store, StoreError


def test_task_lifecycle(store: Store, clock: Any) -> None:
    task = store.create_task("migrate", "vm-1", "alice", {"to": "h2"})
    assert task.state is TaskState.QUEUED
    assert (task.progress, task.created, task.started, task.ended) == (0.0, clock.now, None, None)
    assert task.detail == {"to": "h2"}

    started_at = clock.advance()
    running = store.update_task(task.id, state=TaskState.RUNNING, progress=10)
    assert running.started == started_at and running.ended is None
    clock.advance()
    running = store.update_task(task.id, progress=55.5, detail={"round": 2})
    assert running.progress == 55.5 and running.started == started_at
    assert running.detail == {"to": "h2", "round": 2}

    ended_at = clock.advance()
    done = store.update_task(task.id, state=TaskState.SUCCEEDED)
    assert done.ended == ended_at and done.progress == 100.0
    assert store.task(task.id) == done
    assert store.task(999) is None


def test_a_task_failing_before_it_runs(store: Store) -> None:
    task = store.create_task("start", "vm-1", "bob")
    failed = store.update_task(task.id, state=TaskState.FAILED, error="host h1 is unreachable")
    assert failed.started is None and failed.ended is not None
    assert failed.error == "host h1 is unreachable" and failed.progress == 0.0


def test_updating_an_unknown_task_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="there is no task 42"):
        store.update_task(42, progress=1)


def test_tasks_newest_first_and_active_filter(store: Store) -> None:
    ids = [store.create_task("start", f"vm-{i}", "alice").id for i in range(5)]
    store.update_task(ids[0], state=TaskState.SUCCEEDED)
    store.update_task(ids[1], state=TaskState.RUNNING)
    store.update_task(ids[2], state=TaskState.CANCELLED)
    assert [t.id for t in store.tasks()] == ids[::-1]
    assert [t.id for t in store.tasks(limit=2)] == ids[:2:-1]
    assert [t.id for t in store.tasks(active=True)] == [ids[4], ids[3], ids[1]]
    assert [t.id for t in store.tasks(active=False)] == [ids[2], ids[0]]


def test_fail_interrupted_tasks_after_a_crash(db_path: Path, clock: Any) -> None:
    first = Store(db_path, clock=clock)
    queued = first.create_task("start", "vm-1", "alice")
    running = first.update_task(first.create_task("migrate", "vm-2", "alice").id,
                                state=TaskState.RUNNING)  # fmt: skip
    done = first.update_task(first.create_task("stop", "vm-3", "alice").id,
                             state=TaskState.SUCCEEDED)  # fmt: skip
    first._db.conn.close()  # the process dies without a clean close
    its_process_died(first)

    clock.advance(60)
    second = Store(db_path, clock=clock)
    failed = second.fail_interrupted_tasks()
    assert sorted(t.id for t in failed) == [queued.id, running.id]
    for t in failed:
        assert t.state is TaskState.FAILED
        assert t.error == INTERRUPTED == "interrupted: the console stopped while it ran"
        assert t.ended == clock.now
    assert second.task(done.id) == done
    assert second.fail_interrupted_tasks() == []
    second.close()


def _result(vm: str, source: str, target: str, outcome: MigrationOutcome) -> MigrationResult:
    return MigrationResult(
        vm=vm, source=source, target=target, kind=MigrationKind.LIVE, outcome=outcome,
        started=100.0, ended=112.5, data_processed=8_000_000_000, rounds=4, downtime_ms=120,
        reason="" if outcome is MigrationOutcome.SUCCEEDED else "did not converge",
    )  # fmt: skip


def test_migration_history(store: Store) -> None:
    task = store.create_task("migrate", "vm-1", "alice")
    m1 = store.start_migration("vm-1", "h1", "h2", MigrationKind.LIVE, "alice", task.id, 100.0)
    m2 = store.start_migration("vm-2", "h2", "h3", MigrationKind.COLD, "bob")
    m3 = store.start_migration("vm-1", "h2", "h3", MigrationKind.LIVE, "alice")

    open_ = store.migrations(vm="vm-1")
    assert [r.id for r in open_] == [m3, m1]
    assert open_[1].outcome is None and open_[1].ended is None and open_[1].task_id == task.id

    record = store.finish_migration(m1, _result("vm-1", "h1", "h2", MigrationOutcome.SUCCEEDED))
    assert record.outcome is MigrationOutcome.SUCCEEDED
    assert (record.started, record.ended, record.data_bytes, record.rounds) == (
        100.0, 112.5, 8_000_000_000, 4,
    )  # fmt: skip
    assert (
        record.downtime_ms == 120 and record.actor == "alice" and record.kind is MigrationKind.LIVE
    )
    store.finish_migration(m2, _result("vm-2", "h2", "h3", MigrationOutcome.FAILED))

    assert [r.id for r in store.migrations()] == [m3, m2, m1]
    assert [r.id for r in store.migrations(host="h2")] == [m3, m2, m1]
    assert [r.id for r in store.migrations(host="h1")] == [m1]
    assert [r.id for r in store.migrations(host="h3", vm="vm-2")] == [m2]
    assert [r.id for r in store.migrations(outcome=MigrationOutcome.FAILED)] == [m2]
    assert store.migrations(outcome=MigrationOutcome.FAILED)[0].reason == "did not converge"
    assert [r.id for r in store.migrations(limit=1)] == [m3]
    with pytest.raises(StoreError, match="no migration 99"):
        store.finish_migration(99, _result("x", "a", "b", MigrationOutcome.CANCELLED))


def test_events_filters_and_bound(store: Store) -> None:
    events = [
        FleetEvent(1.0, "host.state", host="h1", message="h1 went unreachable"),
        FleetEvent(2.0, "vm.state", host="h1", vm="vm-1", message="vm-1 crashed"),
        FleetEvent(3.0, "drift.vm-appeared", host="h2", vm="vm-9"),
    ]
    store.record_events(events)
    store.record_events([])
    assert store.events() == events[::-1]
    assert store.events(host="h1") == [events[1], events[0]]
    assert store.events(vm="vm-9") == [events[2]]
    assert store.events(host="h1", vm="vm-1") == [events[1]]
    assert store.events(limit=1) == [events[2]]

    store.events_kept = 10
    store.record_events(FleetEvent(10.0 + i, "tick") for i in range(25))
    kept = store.events(limit=100)
    assert len(kept) == 10 and kept[0].ts == 34.0 and kept[-1].ts == 25.0
